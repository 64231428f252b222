"""Teacher-student: does a spiking error-neuron circuit assign credit to its hidden area?

Reference: Max et al. 2026 (PLoS Comput Biol), Fig. 3 protocol: a random
tanh teacher, a student of the same shape, inputs uniform in [0, 1].
Expected: the student's test MSE falls far below its untrained value and
clearly below a twin whose hidden weights are frozen (a student no wider than
its teacher cannot fit it with random hidden features); on the untrained
network the hidden error neurons' presentation-averaged signals point along
the exact backprop deltas (cosine near 1), and the agreement falls as
training shrinks the errors toward the spike-noise floor.

Default: the neuron-level ``spiking`` mode, 20 neurons per unit (24 000
plastic synapses, each its own weight), the learning rate of epoch e
``eta_hz / (1 + lr_decay (e - 1))`` with ``lr_decay`` 0.25: a constant rate
leaves the final weights jittering with the spike noise the last updates carry.
``--mode sampled`` runs the population-sampled mode, ``--mode rate`` the rate network.

Reported MSE: mean over test samples and outputs of the squared error.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, Recording
from ..circuit import copy_build
from ..spec import SPIKING_MODES
from ..analysis import angle_medians, training_angles, weight_update_angles
from ..baselines.ann import BackpropANN
from ..plotting import circuit_rasters, learning_curves, pyplot, save_figure
from ..progress import Laps
from ..tasks.teacher_student import make_teacher_student
from .base import (FULL_MODEL, SAVING, SPIKING_TRAINING, full_model_fields, lr_factor, mode_description,
                   neuron_level_circuit, neurons_per_unit, presentation_timing, save_trained)

QUESTION = "Can a spiking error-neuron circuit learn a tanh teacher by assigning credit to its hidden area?"

DEFAULTS = {
    **SPIKING_TRAINING,
    **FULL_MODEL,
    **SAVING,
    "layers": (4, 10, 2),
    "mode": "spiking",
    "target": "cpp_standalone",
    "seed": 0,
    "epochs": 10,
    "lr_decay": 0.25,  # learning rate of epoch e: eta_hz / (1 + lr_decay (e - 1))
    "n_train": 100,
    "n_test": 100,
    "n_probe": 20,
    "neurons_per_unit": 20,
    "feedback": "backprop",
    "frozen_twin": True,
    "hidden_eta_factor": 1.0,  # hidden areas learn at eta_hz times this (0: hidden weights frozen)
    "ann_lr": 0.3,
    "raster_presentations": 3,
}


def make_spec(params: dict, frozen_hidden: bool = False) -> CircuitSpec:
    """The student circuit: hidden areas learn at ``eta_hz`` x ``hidden_eta_factor``, the output
    area at ``eta_hz``; ``frozen_hidden`` sets every hidden learning rate to 0."""
    layers = tuple(params["layers"])
    areas = len(layers) - 1
    hidden_eta = 0.0 if frozen_hidden else params["eta_hz"] * params["hidden_eta_factor"]
    eta = [hidden_eta * b2.Hz] * (areas - 1) + [params["eta_hz"] * b2.Hz]
    n = params["neurons_per_unit"]
    return CircuitSpec(
        layers=layers, mode=params["mode"], feedback=params["feedback"], eta=tuple(eta),
        dt=params["dt_ms"] * b2.ms, seed=params["seed"], target=params["target"],
        **full_model_fields(params, layers, n_rep=n, n_err=n, rate_err=params["error_rate_hz"] * b2.Hz),
    )


def make_circuit(params: dict, spec: CircuitSpec, build_dir=None, connectivity="dense") -> ErrorCircuit:
    """The circuit of the unit-level ``spec`` with ``params['neurons_per_unit']`` neurons per unit
    in neuron-level ``spiking`` mode (:func:`~brian_errorcircuits.experiments.base.neuron_level_circuit`)."""
    return neuron_level_circuit(spec, params["neurons_per_unit"], build_dir, connectivity)


def student_circuit(params: dict, spec: CircuitSpec, out_dir=None, connectivity="dense",
                    build: str = "build") -> ErrorCircuit:
    """A student circuit of ``spec`` whose runs share one build: ``<out_dir>/<build>`` under
    ``cpp_standalone``, schedules padded to the training run's length (so the untrained student's
    angle probe, the student and its frozen twin compile once; with :func:`student_recording`)."""
    standalone = out_dir is not None and params["target"] == "cpp_standalone"
    circuit = make_circuit(params, spec, build_dir=str(out_dir / build) if standalone else None,
                           connectivity=connectivity)
    circuit.schedule_rows = 2 * params["n_probe"] + params["n_test"] + params["epochs"] * (params["n_train"]
                                                                                        + params["n_test"])
    return circuit


def student_recording(params: dict, *segments: str) -> Recording:
    """What every run of a student records: spikes of ``segments`` (spiking modes), and weights once
    per presentation (for :func:`~brian_errorcircuits.analysis.training_angles`)."""
    return Recording(spikes=params["mode"] in SPIKING_MODES, spike_segments=segments, weights=True,
                     dt=params["duration_ms"] * b2.ms)


def train_student(params: dict, data, frozen_hidden: bool = False, out_dir=None, spec=None, save: bool = False,
                  connectivity="dense", build: str = "build"):
    """Train one student (``spec``, or the layered one of ``params``; neuron-level wiring ``connectivity``).

    Kept: spikes of the probes, and weights once per presentation (for
    :func:`~brian_errorcircuits.analysis.training_angles`).  Error signals are
    compared with backprop per unit (means over each unit's neurons).  With
    ``save`` the trained circuit (and, if asked, its spikes) goes into
    ``out_dir`` (:func:`~brian_errorcircuits.experiments.base.save_trained`).
    """
    spec = spec if spec is not None else make_spec(params, frozen_hidden)
    circuit = student_circuit(params, spec, out_dir, connectivity, build)
    training = circuit.train(
        data.x_train, data.y_train, data.x_test, data.y_test, params["epochs"],
        probe=probe_set(params, data), recording=student_recording(params, "probe-start", "probe-end"),
        neurons_per_unit=neurons_per_unit(params),
        lr_factors=[lr_factor(params, epoch) for epoch in range(1, params["epochs"] + 1)],
        **presentation_timing(params),
    )
    if save:
        save_trained(out_dir, params, circuit, training.run)
    return training


def probe_set(params: dict, data) -> tuple:
    """The first ``n_probe`` validation samples: (inputs, targets) of the alignment probes."""
    return data.x_val[: params["n_probe"]], data.y_val[: params["n_probe"]]


def run(params: dict, out_dir) -> dict:
    start, laps = time.perf_counter(), Laps()
    data = make_teacher_student(params["layers"], params["n_train"], params["n_probe"], params["n_test"],
                                seed=params["seed"])
    print("  angle of the untrained student's weight updates to backprop's", flush=True)
    untrained = student_circuit(params, make_spec(params), out_dir)
    angles = weight_update_angles(untrained, *probe_set(params, data), student_recording(params, "angle-probe"),
                                  **presentation_timing(params))
    laps.lap("angle probe (first build included)")
    twin = start_frozen_twin(params, data, out_dir) if params["frozen_twin"] else None
    laps.lap("frozen twin started")
    print("  training the student", flush=True)
    student = train_student(params, data, out_dir=out_dir, save=True)
    laps.lap("student")
    projection_names = [f"{p.source}->{p.target}" for p in untrained.spec.projections]
    unit_level = ErrorCircuit(make_spec(params))  # the same weights as the student's units
    ann = BackpropANN(unit_level.spec, unit_level.weights, params["ann_lr"])
    curves = {f"{params['mode']} student": student.test_mse,
              "ANN, backprop": ann.train(data.x_train, data.y_train, data.x_test, data.y_test,
                                         params["epochs"], seed=params["seed"])}
    summary = {
        "mode": params["mode"],
        "layers": list(params["layers"]),
        "n_train": params["n_train"],
        "n_test": params["n_test"],
        "epochs": params["epochs"],
        "feedback": params["feedback"],
        "initial_test_mse": student.test_mse[0],
        "final_test_mse": student.test_mse[-1],
        "test_mse_per_epoch": student.test_mse,
        "final_over_initial": student.test_mse[-1] / student.test_mse[0],
        "bp_cosine": student.alignment_by_name(),
        "weight_update_angle_deg_start": dict(zip(projection_names, angles)),
        "weight_update_angle_deg_per_epoch": dict(zip(projection_names, zip(
            *(angle_medians(a) for a in training_angles(student.run).values())))),
        "ann_final_test_mse": curves["ANN, backprop"][-1],
        "simulated_time_s": float(student.run.schedule.total_time / b2.second),
        "seed": params["seed"],
        "target": params["target"],
    }
    laps.lap("ANN and weight-update angles")
    if twin is not None:
        frozen_mse, frozen_seconds = twin.result()
        curves["hidden weights frozen"] = frozen_mse
        summary["frozen_hidden_final_test_mse"] = frozen_mse[-1]
        summary["frozen_hidden_best_test_mse"] = min(frozen_mse)
        summary["final_over_frozen_best"] = student.test_mse[-1] / min(frozen_mse)
        summary["simulated_time_s"] += frozen_seconds
        laps.lap("waiting for the frozen twin")
    summary["learning_curves"] = curves  # test MSE per epoch of every model in learning_curve.png
    summary["wall_time_s"] = time.perf_counter() - start
    figures(params, student, curves, out_dir, f"teacher-student {'-'.join(map(str, params['layers']))}")
    laps.lap("analysis and figures")
    summary["timing"] = laps.seconds  # CPU: this process and its finished children (make, binaries, the twin)
    print_summary(summary)
    return summary


def frozen_twin(params: dict, data, out_dir, build: str = "build") -> tuple:
    """(test MSE per epoch, simulated seconds) of the twin with frozen hidden weights."""
    frozen = train_student(params, data, frozen_hidden=True, out_dir=out_dir, build=build)
    return frozen.test_mse, float(frozen.run.schedule.total_time / b2.second)


def start_frozen_twin(params: dict, data, out_dir) -> Future:
    """:func:`frozen_twin`, as a future.

    Under ``cpp_standalone`` with a second core it trains in a second process
    while the student trains in this one (it needs nothing of the student's),
    from a copy of the student's compiled build (``build-frozen``: only
    ``main.cpp``, which holds its learning rates, is recompiled); its numbers
    are those of a run in this process.  Otherwise it trains here, now.
    """
    if params["target"] == "cpp_standalone" and len(os.sched_getaffinity(0)) > 1:
        print("  training the frozen-hidden twin in a second process", flush=True)
        copy_build(out_dir / "build", out_dir / "build-frozen")
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(frozen_twin, params, data, out_dir, "build-frozen")
        pool.shutdown(wait=False)  # the future still completes; the worker ends after it
        return future
    print("  training the frozen-hidden twin", flush=True)
    future = Future()
    future.set_result(frozen_twin(params, data, out_dir))
    return future


def figures(params, student, curves, out_dir, title):
    """Learning curve and rasters of the probe presentations before and after training; every
    title names the mode."""
    title = f"{title} ({mode_description(params)})"
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.8))
    learning_curves(curves, ax=ax, xlabel="epoch (0: untrained)")
    ax.set_title(title, fontsize=10)
    save_figure(fig, out_dir / "learning_curve.png")
    if not student.run.spikes:
        return
    schedule = student.run.schedule
    duration = float(schedule.duration / b2.second)
    for when in ("start", "end"):
        first = schedule.indices(f"probe-{when}")[0]
        shown = np.arange(first, first + params["raster_presentations"] + 1) * duration
        fig = circuit_rasters(student.run.spikes, student.run.spec.area_names, window=(shown[0], shown[-1]),
                              onsets=shown[:-1], title=f"{'before' if when == 'start' else 'after'} training "
                                    f"(targets on, plasticity off; {mode_description(params)})")
        save_figure(fig, out_dir / f"raster_{when}.png")


def print_summary(summary):
    print(f"  test MSE {summary['initial_test_mse']:.4f} -> {summary['final_test_mse']:.4f} "
          f"({100 * summary['final_over_initial']:.1f} % of untrained)")
    if "frozen_hidden_best_test_mse" in summary:
        print(f"  frozen-hidden twin: best {summary['frozen_hidden_best_test_mse']:.4f} "
              f"(student at {100 * summary['final_over_frozen_best']:.1f} % of it)")
    if "ann_final_test_mse" in summary:
        print(f"  ANN trained with backprop: {summary['ann_final_test_mse']:.4f}")
    if "weight_update_angle_deg_start" in summary:
        text = ", ".join(f"{k} {_degrees(v)}" for k, v in summary["weight_update_angle_deg_start"].items())
        print(f"  weight-update angle to backprop, untrained (degrees, median over presentations): {text}")
        last = ", ".join(f"{k} {_degrees(v[-1])}" for k, v in summary["weight_update_angle_deg_per_epoch"].items())
        print(f"  ... in the last training epoch: {last}")
    for when, values in summary["bp_cosine"].items():
        text = ", ".join(f"{area} {'-' if value is None else f'{value:.3f}'}" for area, value in values.items())
        print(f"  cosine(error neurons, backprop) at {when}: {text}")
    print(f"  simulated {summary['simulated_time_s']:.0f} s in {summary['wall_time_s']:.0f} s wall")


def _degrees(angle) -> str:
    """An angle for printing; None (undefined: no change or no gradient) as '-'."""
    return "-" if angle is None else f"{angle:.1f}"
