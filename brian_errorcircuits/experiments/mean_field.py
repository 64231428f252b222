"""Mean field: do neuron-level spiking circuits converge to their rate twin as populations grow?

Reference: the neuron-level circuit of docs/model.md ("Three modes of one description"): every unit of a
unit-level circuit becomes m neurons with tied weights W/m
(:func:`brian_errorcircuits.populations.neuron_level`), each neuron with its
own compartments, its own Poisson spikes and its own synaptic trace.  Its
rate mode is the unit-level rate network exactly (a test), so that network
is the spiking circuit's mean field.
Expected: the presentation-averaged signals of the spiking circuit, decoded
per unit (means over the unit's m neurons), approach the rate twin's as m
grows, with an error that shrinks about as 1/sqrt(m) (independent Poisson
noise averaged over m neurons) down to a floor set by the synaptic-filter lag
and the finite presentation.  No plasticity: the same weights throughout.

Reported per population size m: relative error ||spiking - rate|| / ||rate||
of the output, the hidden representation and the hidden error signals, and
the cosine of the hidden error signal with exact backprop.
"""
from __future__ import annotations

import time

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, NeuronParams, cosine
from ..plotting import pyplot, save_figure
from ..populations import neuron_level, unit_means
from ..progress import bar
from ..reference import backprop_deltas
from ..tasks.teacher_student import make_teacher_student
from .base import SPIKING_TRAINING, presentation_timing

QUESTION = "Do neuron-level spiking circuits converge to their rate twin (the unit-level rate network) as populations grow?"

DEFAULTS = {
    **SPIKING_TRAINING,
    "layers": (4, 10, 2),
    "population_sizes": (1, 4, 16, 64),
    "n_presentations": 20,
    "target": "cpp_standalone",
    "seed": 0,
}

SIGNALS = ("output", "hidden representation", "hidden error")


def run(params: dict, out_dir) -> dict:
    start = time.perf_counter()
    layers = tuple(params["layers"])
    data = make_teacher_student(layers, params["n_presentations"], 1, 1, seed=params["seed"])
    x, y = data.x_train, data.y_train
    units = CircuitSpec(layers=layers, mode="rate", eta=(0 * b2.Hz,) * (len(layers) - 1), dt=params["dt_ms"] * b2.ms,
                        seed=params["seed"], target=params["target"],
                        neuron=NeuronParams(rate_err=params["error_rate_hz"] * b2.Hz))
    timing = presentation_timing(params)
    print("  rate twin (unit level)", flush=True)
    twin = ErrorCircuit(units)
    expected = signals(twin.run(twin.block(x, y, **timing)), 1)
    deltas = backprop_deltas(units, twin.weights, x, y)[1]
    rows = []
    for m in bar(params["population_sizes"], desc="population sizes", unit="size"):
        print(f"  spiking, {m} neuron(s) per unit", flush=True)
        spec, arrays = neuron_level(units, m, twin.arrays, mode="spiking")
        circuit = ErrorCircuit.from_arrays(spec, arrays, build_dir=str(out_dir / f"build-{m}")
                                           if params["target"] == "cpp_standalone" else None)
        result = circuit.run(circuit.block(x, y, **timing))
        measured = signals(result, m)
        rows.append({
            "neurons_per_unit": m,
            "neurons": int(sum(spec.layers) + sum(spec.error_sizes)),
            "plastic_synapses": int(sum(W.size for W in arrays.weights)),
            **{key(name): relative_error(measured[name], expected[name]) for name in SIGNALS},
            "hidden_error_cosine_with_backprop": cosine(measured["hidden error"], deltas),
        })
        print("    relative error: " + ", ".join(f"{name} {rows[-1][key(name)]:.3f}" for name in SIGNALS), flush=True)
    summary = {"layers": list(layers), "n_presentations": params["n_presentations"], "seed": params["seed"],
               "rate_twin_hidden_error_cosine_with_backprop": cosine(expected["hidden error"], deltas),
               "sizes": rows, "wall_time_s": time.perf_counter() - start}
    figure(rows, out_dir)
    return summary


def signals(result, m: int) -> dict:
    """Presentation averages decoded per unit: output, hidden representation, hidden error (area 1)."""
    return {"output": result.outputs, "hidden representation": unit_means(result.rep_avg[1], m),
            "hidden error": unit_means(result.err_avg[1], m)}


def key(signal: str) -> str:
    """Summary key of a signal's relative error."""
    return "relative_error_" + signal.replace(" ", "_")


def relative_error(measured, expected) -> float:
    return float(np.linalg.norm(measured - expected) / np.linalg.norm(expected))


def figure(rows: list, out_dir):
    """Relative error against population size (log-log), with a 1/sqrt(m) guide."""
    plt = pyplot()
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter, NullLocator

    fig, ax = plt.subplots(figsize=(5, 3.8))
    sizes = np.array([row["neurons_per_unit"] for row in rows])
    for name in SIGNALS:
        values = [row[key(name)] for row in rows]
        ax.loglog(sizes, values, "o-", label=name)
    first = rows[0]["relative_error_hidden_error"]
    ax.loglog(sizes, first / np.sqrt(sizes / sizes[0]), "k:", label="1/sqrt(m)")
    ax.set_xticks(sizes, [str(m) for m in sizes])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # 0.2, 0.5, 1, 2, ...
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("neurons per unit m")
    ax.set_ylabel("relative error vs rate twin\n|spiking - rate| / |rate|")
    ax.set_title("neuron-level spiking -> mean field")
    ax.legend(fontsize=8)
    save_figure(fig, out_dir / "mean_field.png")
