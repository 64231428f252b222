"""Populations: do fewer error neurons than representation neurons still carry the hidden area's error?

Reference: Max et al. 2026, Fig. 4: label-to-image regression, 10 one-hot
label units -> one hidden area of n_R representation and n_E error neurons ->
image pixels, n_R and n_E each in {50, 100, 500, 1000}.  The lateral matrices
WIP (n_E x n_R) and BPI (n_R x n_E) are the rectangular identity plus fixed
noise U(-0.03, 0.03) (``lateral_noise``; the paper's Fig. 4 value), feedback exact
W^T.  Images: scikit-learn's 8x8 digits (64 pixels) instead of MNIST; the
target of a label is its class's mean image (:mod:`~brian_errorcircuits.tasks.digits`).

Error neuron j of the hidden area is the partner of representation neuron j
(j < min(n_R, n_E)); with n_E < n_R the representation neurons without a
partner get no apical error, and their input weights never learn, but the
output weights still learn from all n_R.  Reported per (n_R, n_E): test MSE
(against the held-out images' class means) before and after training, and the
cosine between the hidden error neurons' presentation-averaged signals and
the exact backprop deltas of their partners (probe presentations with
targets, no plasticity), untrained and trained.

Modes: ``rate`` (the original's equations) on the whole grid; the
neuron-level ``spiking`` mode (every neuron fires Poisson spikes from its own
rate) on ``spiking_sizes_rep`` x ``spiking_sizes_err``, with
``pixel_neurons`` output neurons per pixel read as their mean (one spiking
neuron per pixel leaves a spike-count noise far above the pixels' own spread).
Expected (the paper's claim): error signals and learning hold with n_E < n_R;
spike noise lowers the cosine of every condition.

Error rates are read from the error neurons' somata (``prospective_errors``
false): as the output weights grow, the gain of the error loop (output error
-> hidden errors -> apical nudging -> output) passes 1, and prospective
error rates, the loop's fixed point iterated once per time step, then
oscillate from step to step and point against backprop (docs/model.md,
"Stability of the error loop").
Reported MSE: mean over test labels and pixels of the squared error.
"""
from __future__ import annotations

import time
from pathlib import Path

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, NeuronParams
from ..plotting import pyplot, save_figure
from ..spec import SpecError
from ..sweep import Cluster, reusable_build, run_sweep
from ..tasks.digits import LABELS, PIXELS, make_digits

QUESTION = "Do fewer error neurons than representation neurons still carry the hidden area's error (paper Fig. 4)?"

#: Its runs are a sweep: ``--scheduler ADDRESS`` / ``--workers N``.
SWEEPS = True

#: The paper's grid of hidden-area sizes.
PAPER_SIZES = (50, 100, 500, 1000)

DEFAULTS = {
    # hidden representation and error neurons n_R, n_E in rate mode; the paper's grid: --set sizes_rep=50,100,500,1000
    # --set sizes_err=50,100,500,1000 (dense noisy laterals: 2 n_R n_E synapses, 2 million at 1000 x 1000)
    "sizes_rep": PAPER_SIZES[:3],
    "sizes_err": PAPER_SIZES[:3],
    "spiking_sizes_rep": (100,),  # the neuron-level spiking grid: fewer and as many error neurons
    "spiking_sizes_err": (50, 100),
    "modes": ("rate", "spiking"),
    "seeds": 2,
    "seed": 0,
    "n_train": 20,  # training presentations per epoch, the 10 labels in equal shares
    "lateral_noise": 0.03,  # WIP, BPI: rectangular identity + U(-noise, noise) (the paper's Fig. 4)
    "pixel_neurons": 4,  # spiking mode: output neurons per pixel, read as their mean
    "rate_epochs": 5,
    "rate_eta_hz": 5.0,  # 20 Hz (depth-scaling's) fits in the first epoch, then the error grows again
    "rate_duration_ms": 50.0,
    "spiking_epochs": 3,
    "spiking_eta_hz": 5.0,
    "spiking_duration_ms": 200.0,
    "dt_ms": 0.25,
    "error_rate_hz": 400.0,
    # error rates from the error soma, not its fixed point: trained output weights raise the error loop's
    # gain above 1, where prospective error rates jitter from step to step and turn against backprop
    "prospective_errors": False,
    "target": "cpp_standalone",
}

#: Parameters each mode's runs read (with n_rep, n_err, mode and seed): a run's sweep key holds only these.
MODE_RUN_KEYS = {
    "rate": ("n_train", "lateral_noise", "dt_ms", "target", "prospective_errors", "rate_epochs", "rate_eta_hz",
             "rate_duration_ms"),
    "spiking": ("n_train", "lateral_noise", "dt_ms", "target", "prospective_errors", "error_rate_hz", "pixel_neurons",
                "spiking_epochs", "spiking_eta_hz", "spiking_duration_ms"),
}


def grid(params: dict, mode: str) -> list:
    """(n_R, n_E) cells of ``mode``, largest first (the costliest runs start first)."""
    prefix = "spiking_" if mode == "spiking" else ""
    cells = [(r, e) for r in params[f"{prefix}sizes_rep"] for e in params[f"{prefix}sizes_err"]]
    return sorted(cells, key=lambda cell: -cell[0] * max(cell))


def make_spec(run: dict) -> CircuitSpec:
    """The circuit of one run: 10 label neurons -> n_R (n_E error neurons) -> 64 pixels (times
    ``pixel_neurons`` in spiking mode, each pixel read as the mean of its neurons)."""
    mode = run["mode"]
    per_pixel = run["pixel_neurons"] if mode == "spiking" else 1
    return CircuitSpec(
        layers=(LABELS, run["n_rep"], PIXELS * per_pixel), error_sizes=(run["n_err"], PIXELS * per_pixel),
        output_units=PIXELS, mode=mode, feedback="backprop", eta=(run[f"{mode}_eta_hz"] * b2.Hz,) * 2,
        lateral_noise=run["lateral_noise"], dt=run["dt_ms"] * b2.ms, seed=run["seed"], target=run["target"],
        neuron=NeuronParams(rate_err=run.get("error_rate_hz", 400.0) * b2.Hz,
                            prospective_errors=run["prospective_errors"]),
    )


def run_parameters(params: dict, n_rep: int, n_err: int, mode: str, seed: int) -> dict:
    """The parameters of one run, and no others."""
    return {"n_rep": n_rep, "n_err": n_err, "mode": mode, "seed": seed,
            **{key: params[key] for key in MODE_RUN_KEYS[mode]}}


def train_one(run: dict, scratch) -> dict:
    """Train one circuit (a run of :func:`run_parameters`): test MSE per epoch, hidden error cosine with
    backprop before and after training.  ``cpp_standalone`` builds go to ``scratch``, one per shape."""
    mode = run["mode"]
    spec = make_spec(run).validate()
    data = make_digits(run["n_train"], seed=run["seed"])
    duration = run[f"{mode}_duration_ms"] * b2.ms
    with reusable_build(scratch, f"{mode}-{run['n_rep']}x{run['n_err']}") as build_folder:
        circuit = ErrorCircuit(spec, build_dir=str(build_folder) if spec.target == "cpp_standalone" else None)
        training = circuit.train(data.x_train, data.y_train, data.x_test, data.y_test, run[f"{mode}_epochs"],
                                 duration=duration, settle=duration / 4, probe=(data.x_val, data.y_val))
    return {"curve": training.test_mse, "initial": training.test_mse[0], "final": training.test_mse[-1],
            "cosine_start": training.alignment["start"][1], "cosine_end": training.alignment["end"][1],
            "simulated_time_s": float(training.run.schedule.total_time / b2.second)}


def check(params: dict) -> None:
    """Refuse a sweep that could not run to its end, before its first run (no simulation)."""
    for key in ("sizes_rep", "sizes_err", "spiking_sizes_rep", "spiking_sizes_err", "modes"):
        if len(set(params[key])) != len(params[key]):
            raise SpecError(f"{key}={','.join(map(str, params[key]))}: give each value once")
    unknown = [mode for mode in params["modes"] if mode not in MODE_RUN_KEYS]
    if unknown:
        raise SpecError(f"modes={','.join(params['modes'])}: {unknown[0]!r} is not possible; choose from rate, spiking")
    if params["seeds"] < 1:
        raise SpecError(f"seeds={params['seeds']}: a sweep needs at least 1 seed")
    for mode in params["modes"]:
        for n_rep, n_err in grid(params, mode):
            make_spec(run_parameters(params, n_rep, n_err, mode, params["seed"])).validate()


def run(params: dict, out_dir, cluster: Cluster = Cluster()) -> dict:
    """Every (mode, n_R, n_E, seed): one sweep, saved in ``out_dir/runs`` as each run finishes."""
    check(params)
    start = time.perf_counter()
    seeds = [params["seed"] + s for s in range(params["seeds"])]
    cells = [(mode, n_rep, n_err, seed) for seed in seeds for mode in sorted(params["modes"], reverse=True)
             for n_rep, n_err in grid(params, mode)]
    print(f"  {len(cells)} runs on {cluster.describe()}", flush=True)
    sweep = run_sweep(train_one, [run_parameters(params, n_rep, n_err, mode, seed)
                                  for mode, n_rep, n_err, seed in cells],
                      Path(out_dir) / "runs", scheduler=cluster.scheduler, workers=cluster.workers)
    sweep.raise_for_failures()
    runs = {mode: {} for mode in params["modes"]}
    for (mode, n_rep, n_err, seed), result in zip(cells, sweep.results):
        runs[mode].setdefault(f"{n_rep}x{n_err}", []).append({"seed": seed, **result})
    summary = {
        "modes": list(params["modes"]),
        "seeds": seeds,
        "cells": {mode: [list(cell) for cell in grid(params, mode)] for mode in params["modes"]},
        "runs": runs,  # mode -> 'n_Rxn_E' -> one entry per seed
        "median": {mode: {cell: {key: float(np.median([r[key] for r in entries]))
                                 for key in ("initial", "final", "cosine_start", "cosine_end")}
                          for cell, entries in by_cell.items()} for mode, by_cell in runs.items()},
        "seed": params["seed"],
        "wall_time_s": time.perf_counter() - start,
        "sweep": sweep.record(cluster),
    }
    for mode, by_cell in summary["median"].items():
        for cell, m in by_cell.items():
            print(f"  {mode} n_R x n_E = {cell}: test MSE {m['initial']:.4f} -> {m['final']:.4f}, hidden error "
                  f"cosine with backprop {m['cosine_start']:.3f} -> {m['cosine_end']:.3f} (medians)", flush=True)
    _figures(params, summary, Path(out_dir))
    return summary


def _figures(params: dict, summary: dict, out_dir: Path) -> None:
    """Per mode: final test MSE and hidden error cosine (untrained, trained) over n_E, one line per
    n_R, median and range over seeds."""
    plt = pyplot()
    measures = (("final", "test MSE after training"), ("cosine_start", "hidden error cosine\nwith backprop, untrained"),
                ("cosine_end", "hidden error cosine\nwith backprop, trained"))
    modes = summary["modes"]
    fig, axes = plt.subplots(len(modes), len(measures), figsize=(4.2 * len(measures), 3.4 * len(modes)),
                             squeeze=False)
    for row, mode in zip(axes, modes):
        prefix = "spiking_" if mode == "spiking" else ""
        for ax, (key, label) in zip(row, measures):
            for n_rep in params[f"{prefix}sizes_rep"]:
                values = [np.asarray([r[key] for r in summary["runs"][mode][f"{n_rep}x{n_err}"]], float)
                          for n_err in params[f"{prefix}sizes_err"]]
                median = np.array([np.median(v) for v in values])
                ax.errorbar(params[f"{prefix}sizes_err"], median,
                            yerr=[median - [v.min() for v in values], [v.max() for v in values] - median],
                            marker="o", capsize=3, label=f"n_R = {n_rep}")
            if key == "final":  # the untrained circuits' test MSE, for scale
                ax.axhline(np.median([r["initial"] for entries in summary["runs"][mode].values() for r in entries]),
                           color="grey", ls="--", lw=0.8, label="untrained (median)")
            ax.set_xscale("log")
            ax.set_xticks(params[f"{prefix}sizes_err"], [str(n) for n in params[f"{prefix}sizes_err"]])
            ax.minorticks_off()
            ax.set_xlabel("hidden error neurons n_E")
            ax.set_ylabel(label)
            ax.set_title(f"{mode}" + (f", {params['pixel_neurons']} neurons per pixel" if mode == "spiking" else ""),
                         fontsize=9)
        row[0].set_yscale("log")
        row[0].legend(fontsize=7)
    save_figure(fig, out_dir / "populations.png")
