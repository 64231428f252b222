"""Heterogeneity: does the error-neuron circuit still learn when its neurons differ from one another?

Reference: Max et al. 2026, Fig. 5: every neuron gets its own slope and
offset of phi, phi_i(x) = phi(s_i (x - o_i)) with s_i ~ N(1, sigma) and
o_i ~ N(0, sigma), sigma in {0, 0.1, 0.3, 0.5, 1}, either in the
representation neurons (``rep``: each neuron computes a different function,
and backprop through it is what the error neurons must carry) or in the error
neurons (``err``: the error signals themselves are distorted).  Task and
circuit: the teacher-student task (:mod:`~brian_errorcircuits.experiments.teacher_student`),
4-10-2, exact W^T feedback.  In the neuron-level ``spiking`` mode each unit
becomes ``neurons_per_unit`` neurons that share their unit's slope and offset,
so the spiking circuit's mean field is the heterogeneous rate circuit of the
same seed (spike noise on top of the same heterogeneity).

Reported per (mode, placement, sigma, seed): test MSE untrained and after
training (a heterogeneous circuit is another function: its untrained error
differs), and the cosine between the hidden error neurons' signals and the
exact backprop deltas of the heterogeneous network (per unit), untrained and
trained.  sigma = 0 is one homogeneous circuit for both placements (run once).
Expected (the paper's claim): learning is robust to heterogeneity.
Reported MSE: mean over test samples and outputs of the squared error.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..plotting import pyplot, save_figure
from ..spec import SpecError
from ..sweep import Cluster, reusable_build, run_sweep
from ..tasks.teacher_student import make_teacher_student
from . import teacher_student

QUESTION = "Does the error-neuron circuit learn with per-neuron slopes and offsets of phi (paper Fig. 5)?"

#: Its runs are a sweep: ``--scheduler ADDRESS`` / ``--workers N``.
SWEEPS = True

#: Where the spread goes: representation or error neurons.
PLACEMENTS = ("rep", "err")

DEFAULTS = {
    "sigmas": (0.0, 0.1, 0.3, 0.5, 1.0),  # spread of slope and offset of phi
    "placements": PLACEMENTS,
    "modes": ("rate", "spiking"),
    "seeds": 2,
    "seed": 0,
    "layers": (4, 10, 2),
    "n_train": 100,
    "n_test": 100,
    "n_probe": 20,
    "rate_epochs": 10,
    "rate_eta_hz": 20.0,
    "rate_duration_ms": 50.0,
    "spiking_epochs": 5,
    "spiking_eta_hz": 5.0,
    "spiking_duration_ms": 200.0,
    "spiking_n_train": 50,  # spiking runs train on the first spiking_n_train samples and test on as many
    "neurons_per_unit": 10,  # spiking mode
    "lr_decay": 0.25,  # spiking mode: learning rate of epoch e is eta / (1 + lr_decay (e - 1)); rate: constant
    "dt_ms": 0.25,
    "error_rate_hz": 400.0,
    "prospective_errors": True,  # error rates from the dendritic fixed point (the original) or the error soma
    "target": "cpp_standalone",
}


def spreads(placement: str, sigma: float) -> dict:
    """The teacher-student spread parameters of ``sigma`` in ``placement`` (both slope and offset)."""
    return {f"{kind}_spread_{where}": sigma if where == placement else 0.0
            for kind in ("slope", "offset") for where in PLACEMENTS}


def run_parameters(params: dict, mode: str, placement: str, sigma: float, seed: int) -> dict:
    """One run's parameters, in the teacher-student experiment's names, and no others (sigma = 0 is the
    same run for both placements)."""
    spiking = mode == "spiking"
    n = params["spiking_n_train"] if spiking else params["n_train"]
    duration = params[f"{mode}_duration_ms"]
    return {"mode": mode, "seed": seed, **spreads(placement, sigma), "layers": list(params["layers"]),
            "n_train": n, "n_test": params["n_test"] if not spiking else n, "n_probe": params["n_probe"],
            "epochs": params[f"{mode}_epochs"], "eta_hz": params[f"{mode}_eta_hz"], "duration_ms": duration,
            "settle_ms": duration / 4, "lr_decay": params["lr_decay"] if spiking else 0.0,
            "neurons_per_unit": params["neurons_per_unit"], "dt_ms": params["dt_ms"],
            "error_rate_hz": params["error_rate_hz"], "target": params["target"],
            "prospective_errors": params["prospective_errors"]}


def train_one(run: dict, scratch) -> dict:
    """Train one student (a run of :func:`run_parameters`): test MSE per epoch, hidden error cosine with
    backprop untrained and trained.  Every condition of a mode has one shape, so they share one build:
    slopes and offsets are state values, not code."""
    params = {**teacher_student.DEFAULTS, **run, "layers": tuple(run["layers"])}
    data = make_teacher_student(params["layers"], params["n_train"], params["n_probe"], params["n_test"],
                                seed=params["seed"])
    with reusable_build(scratch, params["mode"]) as build_folder:
        student = teacher_student.train_student(params, data, out_dir=build_folder)
    cosines = student.alignment_by_name()
    return {"curve": student.test_mse, "initial": student.test_mse[0], "final": student.test_mse[-1],
            "cosine_start": cosines["start"], "cosine_end": cosines["end"]}


def check(params: dict) -> None:
    """Refuse a sweep that could not run to its end, before its first run (no simulation)."""
    for key, allowed in (("placements", PLACEMENTS), ("modes", ("rate", "spiking"))):
        unknown = [value for value in params[key] if value not in allowed]
        if unknown or len(set(params[key])) != len(params[key]):
            raise SpecError(f"{key}={','.join(params[key])}: give each of {', '.join(allowed)} at most once")
    if len(set(params["sigmas"])) != len(params["sigmas"]):
        raise SpecError(f"sigmas={','.join(map(str, params['sigmas']))}: give each value once")
    if params["seeds"] < 1:
        raise SpecError(f"seeds={params['seeds']}: a sweep needs at least 1 seed")
    for mode in params["modes"]:
        for placement in params["placements"]:
            for sigma in params["sigmas"]:
                run = run_parameters(params, mode, placement, sigma, params["seed"])
                teacher_student.make_spec({**teacher_student.DEFAULTS, **run, "layers": tuple(run["layers"])}).validate()


def run(params: dict, out_dir, cluster: Cluster = Cluster()) -> dict:
    """Every (mode, placement, sigma, seed): one sweep, saved in ``out_dir/runs`` as each run finishes."""
    check(params)
    start = time.perf_counter()
    seeds = [params["seed"] + s for s in range(params["seeds"])]
    # modes innermost: the first runs of a sweep build the two modes' circuits side by side, where runs of one
    # mode would wait for its one build (every condition of a mode shares it)
    cells = [(mode, placement, sigma, seed) for seed in seeds for sigma in sorted(params["sigmas"], reverse=True)
             for placement in params["placements"] for mode in sorted(params["modes"], reverse=True)]
    print(f"  {len(cells)} conditions on {cluster.describe()} (sigma = 0 runs once for both placements)", flush=True)
    sweep = run_sweep(train_one, [run_parameters(params, *cell) for cell in cells], Path(out_dir) / "runs",
                      scheduler=cluster.scheduler, workers=cluster.workers)
    sweep.raise_for_failures()
    runs = {mode: {placement: {str(sigma): [] for sigma in params["sigmas"]} for placement in params["placements"]}
            for mode in params["modes"]}
    for (mode, placement, sigma, seed), result in zip(cells, sweep.results):
        runs[mode][placement][str(sigma)].append({"seed": seed, **result})
    hidden = "area1"

    def median(mode, placement, sigma, measure):
        return float(np.median([measure(r) for r in runs[mode][placement][str(sigma)]]))

    summary = {
        "modes": list(params["modes"]), "placements": list(params["placements"]),
        "sigmas": list(params["sigmas"]), "seeds": seeds, "layers": list(params["layers"]),
        "runs": runs,  # mode -> placement -> sigma -> one entry per seed
        "median": {mode: {placement: {str(sigma): {
            "initial": median(mode, placement, sigma, lambda r: r["initial"]),
            "final": median(mode, placement, sigma, lambda r: r["final"]),
            "final_over_initial": median(mode, placement, sigma, lambda r: r["final"] / r["initial"]),
            "cosine_start": median(mode, placement, sigma, lambda r: r["cosine_start"][hidden]),
            "cosine_end": median(mode, placement, sigma, lambda r: r["cosine_end"][hidden])}
            for sigma in params["sigmas"]} for placement in params["placements"]} for mode in params["modes"]},
        "seed": params["seed"],
        "wall_time_s": time.perf_counter() - start,
        "sweep": sweep.record(cluster),
    }
    for mode, by_placement in summary["median"].items():
        for placement, by_sigma in by_placement.items():
            for sigma, m in by_sigma.items():
                print(f"  {mode}, spread in {placement} neurons, sigma {sigma}: test MSE {m['initial']:.4f} -> "
                      f"{m['final']:.4f} ({100 * m['final_over_initial']:.1f} %), hidden error cosine with backprop "
                      f"{m['cosine_start']:.3f} -> {m['cosine_end']:.3f} (medians)", flush=True)
    _figures(params, summary, Path(out_dir), hidden)
    return summary


def _figures(params: dict, summary: dict, out_dir: Path, hidden: str) -> None:
    """Per mode: final test MSE, final / untrained, and the hidden error cosine (untrained, trained)
    against sigma, one line per placement, median and range over seeds."""
    plt = pyplot()
    measures = (("final test MSE", lambda r: r["final"]), ("final / untrained test MSE", lambda r: r["final"] / r["initial"]),
                ("hidden error cosine with backprop,\nuntrained", lambda r: r["cosine_start"][hidden]),
                ("... trained", lambda r: r["cosine_end"][hidden]))
    modes, sigmas = summary["modes"], summary["sigmas"]
    fig, axes = plt.subplots(len(modes), len(measures), figsize=(3.8 * len(measures), 3.3 * len(modes)),
                             squeeze=False)
    for row, mode in zip(axes, modes):
        for ax, (label, measure) in zip(row, measures):
            for placement in summary["placements"]:
                values = [np.asarray([measure(r) for r in summary["runs"][mode][placement][str(s)]], float)
                          for s in sigmas]
                mid = np.array([np.median(v) for v in values])
                ax.errorbar(sigmas, mid, yerr=[mid - [v.min() for v in values], [v.max() for v in values] - mid],
                            marker="o", capsize=3, label=f"spread in {placement} neurons")
            ax.set_xlabel("sigma (slope and offset spread)")
            ax.set_ylabel(label)
            ax.set_title(mode + (f", {params['neurons_per_unit']} neurons per unit" if mode == "spiking" else ""),
                         fontsize=9)
        row[0].set_yscale("log")
        row[1].set_yscale("log")
        row[0].legend(fontsize=7)
    save_figure(fig, out_dir / "heterogeneity.png")
