"""Seven visual areas: do error neurons carry backprop's errors through a cortical hierarchy?

Reference: Max et al. 2026, the multi-area model with the 7-area projection
table (Markov et al. 2014 FLN; areas V1, V2, V4, TEO, MT, TEpd, DP), bottom-up
projections onto basal dendrites and top-down projections between error
neurons, skip connections included.  A spiking student with this wiring
learns a teacher of the same wiring (tanh, weights U(-1, 1) x density).
Expected: test error well below the untrained student's; hidden areas'
error neurons aligned with exact backprop through the same skip projections
(cosine near 1 on the untrained network).  TEpd has no bottom-up projection
to any higher area in the table, so no error reaches it: its alignment is
reported as None and it is left out of the verdict.

In neuron-level ``spiking`` mode every unit is ``neurons_per_unit`` neurons
and the table's densities also set the wiring (``connectivity='density'``:
each neuron pair of a projection connected with its density as probability,
weights and learning rates normalised by fan-in; ``'dense'``: all-to-all).
``synapses_per_projection`` reports the synapses each projection got.
"""
from __future__ import annotations

import time

import brian2 as b2
import numpy as np

from .. import CircuitSpec, NeuronParams
from ..connectome import load_table
from ..tasks.teacher_student import make_teacher_student
from ..plotting import alignment_bars, pyplot, save_figure
from .base import SAVING, SPIKING_TRAINING, mode_description
from .teacher_student import figures, make_circuit, print_summary, train_student

QUESTION = "Do error neurons carry backprop errors through the 7-area visual hierarchy, skip connections included?"

DEFAULTS = {
    **SPIKING_TRAINING,
    **SAVING,
    "table": "macaque_visual_7areas",
    "sizes": (8, 8, 6, 6, 6, 4, 2),
    "n_input": 4,
    "mode": "spiking",
    "target": "cpp_standalone",
    "feedback": "backprop",
    "seed": 1,
    "epochs": 10,
    "lr_decay": 0.25,  # learning rate of epoch e: eta_hz / (1 + lr_decay (e - 1))
    "n_train": 100,
    "n_test": 50,
    "n_probe": 20,
    "neurons_per_unit": 10,
    "connectivity": "density",  # neuron-level spiking mode: 'density' (table densities as probabilities) or 'dense'
    "raster_presentations": 2,
}


def make_spec(params: dict) -> CircuitSpec:
    n = params["neurons_per_unit"]
    return CircuitSpec.from_table(
        load_table(params["table"]), params["sizes"], params["n_input"], mode=params["mode"],
        feedback=params["feedback"], eta=(params["eta_hz"] * b2.Hz,) * len(params["sizes"]),
        dt=params["dt_ms"] * b2.ms, seed=params["seed"], target=params["target"],
        neuron=NeuronParams(n_rep=n, n_err=n, rate_err=params["error_rate_hz"] * b2.Hz),
    )


def run(params: dict, out_dir) -> dict:
    start = time.perf_counter()
    spec = make_spec(params).validate()
    wiring = [(p.source, p.target, p.density) for p in spec.projections]
    data = make_teacher_student(spec.layers, params["n_train"], params["n_probe"], params["n_test"],
                                seed=params["seed"], projections=wiring)
    print(f"  areas {', '.join(spec.area_names)}; {len(wiring)} bottom-up projections "
          f"({sum(p.source > 0 and p.target - p.source > 1 for p in spec.projections)} skipping areas)",
          flush=True)
    synapses = dict(zip((f"{spec.label(p.source)}->{spec.label(p.target)}" for p in spec.projections),
                        make_circuit(params, spec, connectivity=params["connectivity"]).arrays.synapse_counts()))
    print("  synapses per projection: " + ", ".join(f"{name} {count}" for name, count in synapses.items()), flush=True)
    student = train_student(params, data, out_dir=out_dir, spec=spec, save=True, connectivity=params["connectivity"])
    alignment = student.alignment_by_name()
    receiving = {spec.area_names[p.source - 1] for p in spec.projections if p.source > 0}
    for when in alignment:
        alignment[when] = {name: (value if name in receiving else None) for name, value in alignment[when].items()}
    hidden = [v for v in alignment["start"].values() if v is not None]
    summary = {
        "mode": params["mode"],
        "areas": list(spec.area_names),
        "sizes": list(params["sizes"]),
        "projections": [[spec.label(s), spec.label(t), d] for s, t, d in wiring],
        "connectivity": params["connectivity"] if params["mode"] == "spiking" else "dense (unit pairs)",
        "synapses_per_projection": synapses,
        "n_train": params["n_train"],
        "initial_test_mse": student.test_mse[0],
        "final_test_mse": student.test_mse[-1],
        "final_over_initial": student.test_mse[-1] / student.test_mse[0],
        "test_mse_per_epoch": student.test_mse,
        "bp_cosine": alignment,
        "min_hidden_bp_cosine_start": float(np.min(hidden)) if hidden else None,
        "areas_without_error_pathway": sorted(set(spec.area_names[:-1]) - receiving),
        "simulated_time_s": float(student.run.schedule.total_time / b2.second),
        "seed": params["seed"],
        "wall_time_s": time.perf_counter() - start,
    }
    figures(params, student, {f"{params['mode']} student": student.test_mse}, out_dir,
            "7 visual areas")  # figures appends the mode
    alignment_figure(params, alignment, out_dir)
    print_summary(summary)
    return summary


def alignment_figure(params: dict, alignment: dict, out_dir) -> None:
    """``bp_alignment.png``: per area, the cosine between its error neurons' presentation-averaged
    signals on the probes and exact backprop's deltas, before and after training."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    alignment_bars(alignment, ax=ax, labels={"start": "before training", "end": "after training"})
    ax.set_title(f"alignment with backprop per area ({params['n_probe']} probes; {mode_description(params)})",
                 fontsize=9)
    save_figure(fig, out_dir / "bp_alignment.png")
