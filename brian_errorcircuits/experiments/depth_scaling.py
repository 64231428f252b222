"""Depth scaling: does the error-neuron circuit keep learning as areas are added?

Reference: Max et al. 2026, Fig. 3 protocol: teacher-student series 2-1,
4-2-1, 8-4-2-1, 16-8-4-2-1, 32-16-8-4-2-1 (input size first, 1 to 5 areas),
areas taken in table order from the 7-area table so that deeper circuits get
its skip projections; the teacher is a random tanh network wired the same way.
Compared here: the error-neuron circuit (rate and spiking), the same forward
function trained with exact backprop (ANN), the dendritic cortical
microcircuit of Sacramento et al. 2018 and dendritic hierarchical predictive
coding (Mikulasch et al. 2023; both numpy rate models in
:mod:`brian_errorcircuits.baselines`, same initial weights), and each model's
untrained twin (its test error before training).  Expected (the paper's
claim): the circuit's test error stays far below its untrained twin's at
every depth, tracking the ANN, and its weight updates stay within a few tens
of degrees of backprop's, while the dendritic models degrade as areas are added.
Reported MSE: mean over test samples and outputs of the squared error.
"""
from __future__ import annotations

import time
from pathlib import Path

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, NeuronParams
from ..analysis import angle_medians, training_angles
from ..baselines.ann import BackpropANN
from ..baselines.dendritic_hpc import DendriticHPC
from ..baselines.sacramento import Sacramento2018
from ..connectome import load_table
from ..plotting import pyplot, save_figure
from ..spec import SpecError
from ..sweep import Cluster, reusable_build, run_sweep
from ..tasks.teacher_student import make_teacher_student
from .teacher_student import train_student

QUESTION = "Does the error-neuron circuit keep learning as cortical areas (with skip connections) are added?"

#: Its runs are a sweep: ``errorcircuits run depth-scaling --scheduler ADDRESS`` / ``--workers N``.
SWEEPS = True

DEFAULTS = {
    "table": "macaque_visual_7areas",
    "depths": (1, 2, 3, 4, 5),
    "seeds": 3,
    "seed": 0,
    "models": ("rate", "spiking", "ann", "sacramento2018", "dendritic_hpc"),
    "spiking_mode": "sampled",  # the mode of model 'spiking': 'sampled' (population-sampled) or 'spiking' (neuron level)
    "target": "cpp_standalone",  # of the spiking runs
    "rate_target": "cpp_standalone",
    "n_train": 100,
    "n_test": 100,
    "n_probe": 20,
    "rate_epochs": 50,
    "rate_eta_hz": 20.0,
    "rate_duration_ms": 50.0,
    "spiking_epochs": 10,
    "spiking_eta_hz": 5.0,
    "spiking_duration_ms": 200.0,
    "neurons_per_unit": 40,
    "error_rate_hz": 400.0,
    # error rates from the error soma: with the original's prospective ones (the dendritic fixed point) the
    # 4-area rate circuit ends worse than untrained (326 %; docs/model.md, "Stability of the error loop")
    "prospective_errors": False,
    "ann_lr": 0.3,
    "sacramento_lr": 1.0,  # per sample; the target moves the output soma by g_tgt / g_tot ~ 0.3 of the error
    "sacramento_interneuron_lr": 0.1,  # interneuron synapses (both ways); 1.0 diverges from 4 areas on
    "hpc_lr": 1.0,
    "dt_ms": 0.25,
}


#: numpy baselines: model name -> (class, learning-rate parameter)
BASELINES = {
    "ann": (BackpropANN, "ann_lr"),
    "sacramento2018": (Sacramento2018, "sacramento_lr"),
    "dendritic_hpc": (DendriticHPC, "hpc_lr"),
}


#: every model a series can compare: the circuit in both modes and the numpy baselines
MODELS = ("rate", "spiking", *BASELINES)

#: Models from the costliest run to the cheapest: the order in which a sweep starts them.
COST_ORDER = ("spiking", "rate", *BASELINES)

#: Parameters every run reads (with its depth, model and seed): the task and the circuit's neurons.
COMMON_RUN_KEYS = ("table", "n_train", "n_test", "n_probe", "dt_ms", "neurons_per_unit", "error_rate_hz")

#: Parameters of the circuit in rate mode; the baselines read them too (their spec is the rate circuit's).
RATE_RUN_KEYS = ("rate_epochs", "rate_eta_hz", "rate_duration_ms", "rate_target", "prospective_errors")

#: Parameters each model reads besides :data:`COMMON_RUN_KEYS`.
MODEL_RUN_KEYS = {
    "rate": RATE_RUN_KEYS,
    "spiking": ("spiking_mode", "target", "spiking_epochs", "spiking_eta_hz", "spiking_duration_ms",
                "prospective_errors"),
    "ann": (*RATE_RUN_KEYS, "ann_lr"),
    "sacramento2018": (*RATE_RUN_KEYS, "sacramento_lr", "sacramento_interneuron_lr"),
    "dendritic_hpc": (*RATE_RUN_KEYS, "hpc_lr"),
}


def shape(depth: int) -> tuple:
    """Input size first: depth 3 -> (8, 4, 2, 1)."""
    return tuple(2 ** k for k in range(depth, -1, -1))


def model_params(params: dict, model: str, seed: int) -> dict:
    """Per-model settings in the form :func:`teacher_student.train_student` takes."""
    spiking = model == "spiking"
    duration = params["spiking_duration_ms" if spiking else "rate_duration_ms"]
    return dict(
        params, mode=params["spiking_mode"] if spiking else model, seed=seed,
        epochs=params["spiking_epochs" if spiking else "rate_epochs"],
        eta_hz=params["spiking_eta_hz" if spiking else "rate_eta_hz"], duration_ms=duration,
        settle_ms=duration / 4, target=params["target"] if spiking else params["rate_target"],
        lr_decay=0.0,  # constant learning rates
    )


def make_spec(params: dict, depth: int, model: str, seed: int) -> CircuitSpec:
    layers = shape(depth)
    p = model_params(params, "rate" if model in BASELINES else model, seed)
    n = params["neurons_per_unit"]
    return CircuitSpec.from_table(
        load_table(params["table"]), layers[1:], layers[0], mode=p["mode"], eta=(p["eta_hz"] * b2.Hz,) * depth,
        dt=params["dt_ms"] * b2.ms, seed=seed, target=p["target"],
        neuron=NeuronParams(n_rep=n, n_err=n, rate_err=params["error_rate_hz"] * b2.Hz,
                            prospective_errors=params["prospective_errors"]),
    )


def projection_names(params: dict, depth: int) -> list:
    """Bottom-up projections of the circuit with ``depth`` areas, in spec order (the order of its
    weight-update angles), named 'source->target' (e.g. 'input->V1', 'V1->V4')."""
    spec = make_spec(params, depth, "rate", params["seed"])
    return [f"{spec.label(p.source)}->{spec.label(p.target)}" for p in spec.projections]


def run_parameters(params: dict, depth: int, model: str, seed: int) -> dict:
    """The parameters of one run, and no others: a run's sweep key changes only when one of them does."""
    keys = (*COMMON_RUN_KEYS, *MODEL_RUN_KEYS[model])
    return {"depth": depth, "model": model, "seed": seed, **{key: params[key] for key in keys}}


def train_one(run: dict, scratch) -> dict:
    """Train one model at one depth (a run of :func:`run_parameters`): test error per epoch, weight-update angles.

    Angles are taken per training presentation (each presentation's weight
    change against backprop's update for that sample, at the weights it
    started from), summarised per projection by their median over all of
    training and per epoch.  ``cpp_standalone`` builds go into ``scratch``
    (a folder of the worker process's own), started from an earlier run's
    build of the same model and depth (:func:`~brian_errorcircuits.sweep.reusable_build`).
    """
    depth, model, seed = run["depth"], run["model"], run["seed"]
    spec = make_spec(run, depth, model, seed).validate()
    wiring = [(p.source, p.target, p.density) for p in spec.projections]
    data = make_teacher_student(spec.layers, run["n_train"], run["n_probe"], run["n_test"],
                                seed=seed, projections=wiring)
    if model in BASELINES:
        learner_class, lr_name = BASELINES[model]
        extra = {"lr_interneuron": run["sacramento_interneuron_lr"],
                 "lr_apical": run["sacramento_interneuron_lr"]} if model == "sacramento2018" else {}
        learner = learner_class(spec, ErrorCircuit(spec).weights, run[lr_name], **extra)
        curve = learner.train(data.x_train, data.y_train, data.x_test, data.y_test, run["rate_epochs"],
                              seed=seed, angles=True)
        epoch_angles = learner.epoch_angles
    else:
        with reusable_build(scratch, f"{model}-d{depth}") as build_folder:
            student = train_student(model_params(run, model, seed), data, out_dir=build_folder, spec=spec)
        curve = student.test_mse
        epoch_angles = list(training_angles(student.run).values())
    return {"initial": curve[0], "final": curve[-1], "curve": curve,
            "angles_deg": angle_medians(np.concatenate(epoch_angles)),
            "angles_by_epoch_deg": [angle_medians(a) for a in epoch_angles]}


def check(params: dict) -> None:
    """Refuse a series that could not run to its end, before its first run (no simulation, well under a second).

    ``depths``: distinct, each 1..the table's number of areas; ``models``:
    distinct, known; ``seeds`` >= 1; and the circuit of every depth and model
    must be a valid :class:`CircuitSpec`.  Raises :class:`SpecError` naming the parameter.
    """
    areas = len(load_table(params["table"]).areas)
    for key, values, allowed in (("depths", params["depths"], range(1, areas + 1)),
                                 ("models", params["models"], MODELS)):
        unknown = [value for value in values if value not in allowed]
        if unknown:
            choose = f"1..{areas} (the table {params['table']!r} has {areas} areas)" if key == "depths" \
                else ", ".join(MODELS)
            raise SpecError(f"{key}={','.join(map(str, values))}: {unknown[0]!r} is not possible; choose from {choose}")
        if len(set(values)) != len(values) or not values:
            raise SpecError(f"{key}={','.join(map(str, values))}: give each value once, at least one")
    if params["seeds"] < 1:
        raise SpecError(f"seeds={params['seeds']!r}: a series needs at least 1 seed")
    for depth in params["depths"]:
        for model in params["models"]:
            make_spec(params, depth, model, params["seed"]).validate()


def run(params: dict, out_dir, cluster: Cluster = Cluster()) -> dict:
    """Train every model at every depth for every seed: one sweep (:mod:`~brian_errorcircuits.sweep`), one
    run per (depth, model, seed), saved in ``out_dir/runs`` as it finishes and reused by a rerun."""
    check(params)
    start = time.perf_counter()
    seeds = [params["seed"] + s for s in range(params["seeds"])]
    # Seeds outermost, so that runs which build the same circuit seldom run at once (each build is compiled
    # once per sweep), and the costliest first (deep circuits, spiking before rate before the numpy baselines).
    grid = [(depth, model, seed) for seed in seeds for depth in sorted(params["depths"], reverse=True)
            for model in sorted(params["models"], key=COST_ORDER.index)]
    print(f"  {len(grid)} runs on {cluster.describe()}", flush=True)
    sweep = run_sweep(train_one, [run_parameters(params, *cell) for cell in grid], Path(out_dir) / "runs",
                      scheduler=cluster.scheduler, workers=cluster.workers)
    sweep.raise_for_failures()
    results = {model: {str(depth): [] for depth in params["depths"]} for model in params["models"]}
    for (depth, model, seed), result in zip(grid, sweep.results):
        results[model][str(depth)].append(result)
    for depth in params["depths"]:
        for model in params["models"]:
            for seed, result in zip(seeds, results[model][str(depth)]):
                print(f"  depth {depth} ({'-'.join(map(str, shape(depth)))}), {model}, seed {seed}: "
                      f"test MSE {result['initial']:.4f} -> {result['final']:.4f}", flush=True)

    def per_run(measure, models=params["models"]):
        """{model: {depth: [measure(run) for each seed]}}"""
        return {m: {d: [measure(r) for r in runs] for d, runs in results[m].items()} for m in models}

    summary = {
        "depths": list(params["depths"]),
        "shapes": {str(d): list(shape(d)) for d in params["depths"]},
        "projections": {str(d): projection_names(params, d) for d in params["depths"]},
        "seeds": seeds,
        "models": list(params["models"]),
        "test_mse": per_run(lambda r: r["final"]),
        "untrained_test_mse": per_run(lambda r: r["initial"]),
        "final_over_untrained_median": {
            m: {d: float(np.median(ratios)) for d, ratios in by_depth.items()}
            for m, by_depth in per_run(lambda r: r["final"] / r["initial"]).items()},
        # per projection (spec order, input first): median over presentations of the per-presentation angle
        "weight_update_angle_deg": per_run(lambda r: r["angles_deg"]),
        "weight_update_angle_first_epoch_deg": per_run(lambda r: r["angles_by_epoch_deg"][0]),
        "weight_update_angle_last_epoch_deg": per_run(lambda r: r["angles_by_epoch_deg"][-1]),
        "seed": params["seed"],
        "wall_time_s": time.perf_counter() - start,
        "sweep": sweep.record(cluster),
    }
    _figures(summary, out_dir)
    for m, by_depth in summary["final_over_untrained_median"].items():
        print(f"  {m}: final / untrained test MSE (median) " +
              ", ".join(f"{d} areas {100 * v:.1f} %" for d, v in by_depth.items()))
    return summary


def _figures(summary, out_dir):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for model, by_depth in summary["test_mse"].items():
        depths = [int(d) for d in by_depth]
        ratios = [np.asarray(by_depth[d]) / np.asarray(summary["untrained_test_mse"][model][d]) for d in by_depth]
        ax.errorbar(depths, [np.median(r) for r in ratios],
                    yerr=[[np.median(r) - r.min() for r in ratios], [r.max() - np.median(r) for r in ratios]],
                    marker="o", capsize=3, label=model)
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 2)  # a realizable 1-area teacher is learned to ~1e-14: show the range that matters
    ax.set_xticks([int(d) for d in summary["depths"]])
    ax.set_xlabel("number of areas")
    ax.set_ylabel("test MSE / untrained twin\n(median and range over seeds)")
    ax.set_title("values below 1e-4 are off the axis", fontsize=9)
    ax.legend(fontsize=8)
    save_figure(fig, out_dir / "test_error_vs_depth.png")
    models = [m for m in summary["models"] if m != "ann"]  # the ANN's angles are 0 by construction
    if not models:
        return
    rows = (("weight_update_angle_first_epoch_deg", "first epoch"), ("weight_update_angle_deg", "all of training"))
    # deeper circuits hold every projection of shallower ones, not always in the same place: one x per name
    names = summary["projections"][str(max(summary["depths"]))]
    fig, axes = plt.subplots(len(rows), len(models), figsize=(max(4.5, 0.45 * len(names) + 1.5) * len(models),
                                                              3.6 * len(rows)), squeeze=False, sharey=True)
    for (key, when), row in zip(rows, axes):
        for ax, model in zip(row, models):
            for depth, runs in summary[key][model].items():
                angles = np.asarray(runs, float)  # seeds x projections; NaN where undefined
                ax.plot([names.index(name) for name in summary["projections"][depth]],
                        np.asarray(angle_medians(angles), float), marker="o", lw=0.8,
                        label=f"{depth} area{'' if depth == '1' else 's'}")
            ax.axhline(30, color="grey", lw=0.8, ls=":")
            ax.set_title(f"{model}, {when}", fontsize=9)
            ax.set_xticks(np.arange(len(names)), names, rotation=60, ha="right", fontsize=7)
            ax.set_xlabel("projection (source->target)")
            ax.set_ylabel("angle to backprop (degrees)\nmedian over presentations")
    axes[0, 0].legend(fontsize=7)
    save_figure(fig, out_dir / "weight_update_angles.png")
