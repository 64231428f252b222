"""The original's Fig. 3 workload in rate mode: steps per second of the loop and end to end.

Run as ``python benchmarks/fig3_rate.py [--shapes 8-4-2-1,32-16-8-4-2-1] [--targets cpp_standalone]
[--repeats 3] [--steps 124000] [--numpy-steps 12400] [--threads 1] [--out DIR]``.

Workload (issue 14): 124 000 steps at dt 0.01 ms in 0.2 ms presentations (6 200
presentations of random inputs in [0, 1] and targets in (-0.8, 0.8)), plasticity on.
Per repeat and shape, interleaved: a fresh circuit runs the schedule twice through
:meth:`ErrorCircuit.run`, the first time with an empty build folder (``cpp_standalone``)
or an empty Cython cache (``cython``): "first build", the second time "cached".
Every run gives the loop's steps per second (Brian2's own loop time) and end to end
(wall and CPU time of the whole ``run``, network construction and compiling included).

The baseline is the project's plain-numpy Euler integration of the same rate
equations (:class:`~brian_errorcircuits.reference.RateReference`, the test oracle),
timed on ``--numpy-steps`` steps of the same schedule; it is not the original
authors' code, which is not in this repository.  Writes ``fig3_rate.json``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import brian2 as b2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import (DEFAULT_OUT, end_to_end, interleaved, load, load_text, spread, summarised, timed,  # noqa: E402
                    use_threads, write_report)

from brian_errorcircuits import CircuitSpec, ErrorCircuit  # noqa: E402
from brian_errorcircuits.reference import RateReference  # noqa: E402
from brian_errorcircuits.schedule import Schedule  # noqa: E402

DT = 0.01 * b2.ms
PRESENTATION, SETTLE = 0.2 * b2.ms, 0.1 * b2.ms


def fig3_spec(layers: tuple, target: str) -> CircuitSpec:
    """Rate-mode spec of one shape of the workload."""
    return CircuitSpec(layers=layers, mode="rate", eta=(1 * b2.Hz,) * (len(layers) - 1), dt=DT, seed=0,
                       target=target)


def fig3_schedule(layers: tuple, steps: int) -> Schedule:
    """``steps`` steps of 0.2 ms presentations, random inputs and targets, plasticity on."""
    presentations = int(round(steps * float(DT / PRESENTATION)))
    rng = np.random.default_rng(0)
    return Schedule.block(rng.uniform(0, 1, (presentations, layers[0])),
                          rng.uniform(-0.8, 0.8, (presentations, layers[-1])), learning=True,
                          duration=PRESENTATION, settle=SETTLE)


def fresh_folder(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def first_and_cached(layers: tuple, target: str, schedule: Schedule, folder: Path) -> dict:
    """Run ``schedule`` twice on a fresh circuit: with nothing compiled yet, then cached."""
    folder = fresh_folder(folder)
    cache_pref = b2.prefs.codegen.runtime.cython.cache_dir
    if target == "cython":
        b2.prefs.codegen.runtime.cython.cache_dir = str(folder / "cython_cache")
    try:
        circuit = ErrorCircuit(fig3_spec(layers, target), build_dir=str(folder) if target == "cpp_standalone" else None)
        first = end_to_end(circuit, schedule)
        first["load"] = load()
        cached = end_to_end(circuit, schedule)
        cached["load"] = load()
    finally:
        b2.prefs.codegen.runtime.cython.cache_dir = cache_pref
    return {"first_build": first, "cached": cached}


def numpy_reference(layers: tuple, schedule: Schedule) -> dict:
    """Wall and CPU time of the numpy reference over ``schedule``."""
    spec = fig3_spec(layers, "numpy")
    reference = RateReference(spec, ErrorCircuit(spec).arrays)
    record = {"steps": int(round(float(schedule.total_time / DT))), "load": load()}
    with timed(record, "run"):
        reference.run(schedule, record=())
    return record


def steps_per_second(records: list, seconds_key: str) -> dict:
    """Spread of steps / seconds over ``records``."""
    return spread(r["steps"] / r[seconds_key] for r in records)


def summary(runs: list, numpy_runs: list) -> dict:
    """Steps per second (loop and end to end, first build and cached) and the ratios to numpy's."""
    figures = {}
    for phase in ("first_build", "cached"):
        records = [run[phase] for run in runs]
        figures[phase] = {
            "loop_steps_per_s": steps_per_second(records, "loop_s"),
            "end_to_end_steps_per_s_wall": steps_per_second(records, "run_wall_s"),
            "end_to_end_steps_per_s_cpu": steps_per_second(records, "run_cpu_s"),
            **summarised(records, ("run_wall_s", "run_cpu_s", "loop_s", "make_s", "binary_s", "binary_cpu_s",
                                   "cpu_share", "objects_compiled", "cython_modules_compiled", "cython_compile_s")),
            "runs": records,
        }
        if all("cpu_share" in r for r in records):  # standalone: the loop's own time is wall time, and
            # times the binary's share of a core it estimates the loop's CPU time
            figures[phase]["loop_steps_per_s_cpu_estimate"] = spread(r["steps"] / (r["loop_s"] * r["cpu_share"])
                                                                     for r in records)
    numpy_speed = steps_per_second(numpy_runs, "run_wall_s")
    figures["numpy_reference"] = {"steps_per_s_wall": numpy_speed,
                                  "steps_per_s_cpu": steps_per_second(numpy_runs, "run_cpu_s"), "runs": numpy_runs}
    # Best against best (the fastest run of each is the least disturbed by other jobs), against numpy's
    # CPU-time speed, its faster one on a busy machine: the loop's own wall time, end to end CPU time.
    best = lambda speeds: max(speeds["values"])  # noqa: E731
    numpy_cpu = best(figures["numpy_reference"]["steps_per_s_cpu"])
    loops = figures["first_build"]["loop_steps_per_s"]["values"] + figures["cached"]["loop_steps_per_s"]["values"]
    figures["times_numpy"] = {
        "loop": max(loops) / numpy_cpu,
        "loop_cpu_estimate": (max(figures["cached"]["loop_steps_per_s_cpu_estimate"]["values"]) / numpy_cpu
                              if "loop_steps_per_s_cpu_estimate" in figures["cached"] else None),
        "end_to_end_first_build": best(figures["first_build"]["end_to_end_steps_per_s_cpu"]) / numpy_cpu,
        "end_to_end_cached": best(figures["cached"]["end_to_end_steps_per_s_cpu"]) / numpy_cpu,
        "basis": "steps/s: loop wall, end to end CPU, numpy CPU; fastest run of each",
    }
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="8-4-2-1,32-16-8-4-2-1")
    parser.add_argument("--targets", default="cpp_standalone", help="cpp_standalone and/or cython, comma-separated")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=124_000)
    parser.add_argument("--numpy-steps", type=int, default=12_400, help="steps of the (slow) numpy reference")
    parser.add_argument("--threads", type=int, default=1, help="threads of the standalone binaries (above 1: OpenMP)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT / "fig3_rate")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    use_threads(args.threads)
    b2.BrianLogger.log_level_warn()
    shapes = [tuple(int(n) for n in text.split("-")) for text in args.shapes.split(",")]
    targets = args.targets.split(",")
    if unknown := set(targets) - {"cpp_standalone", "cython"}:
        raise SystemExit(f"--targets {sorted(unknown)}: cpp_standalone or cython")
    print(f"Fig. 3 workload, {args.steps} steps, {load_text()}", flush=True)
    cases = {}
    for layers in shapes:
        name = "-".join(map(str, layers))
        cases[f"{name} numpy"] = (lambda layers=layers: numpy_reference(layers, fig3_schedule(layers, args.numpy_steps)))
        for target in targets:
            cases[f"{name} {target}"] = (lambda layers=layers, target=target, name=name: first_and_cached(
                layers, target, fig3_schedule(layers, args.steps), args.out / f"build_{name}_{target}_t{args.threads}"))
    rounds = interleaved(cases, args.repeats)
    report = {"steps": args.steps, "numpy_steps": args.numpy_steps, "threads": args.threads, "repeats": args.repeats,
              "dt_ms": float(DT / b2.ms), "presentation_ms": float(PRESENTATION / b2.ms), "shapes": {}}
    for layers in shapes:
        name = "-".join(map(str, layers))
        report["shapes"][name] = {target: summary(rounds[f"{name} {target}"], rounds[f"{name} numpy"])
                                  for target in targets}
        numpy_speed = report["shapes"][name][targets[0]]["numpy_reference"]
        print(f"{name}: numpy reference {max(numpy_speed['steps_per_s_wall']['values']):.0f} steps/s wall, "
              f"{max(numpy_speed['steps_per_s_cpu']['values']):.0f} per CPU second (fastest run)", flush=True)
        for target in targets:
            figures = report["shapes"][name][target]
            for phase in ("first_build", "cached"):
                f = figures[phase]
                print(f"  {target} {phase}: loop {f['loop_steps_per_s']['median']:.0f} steps/s (median; best "
                      f"{max(f['loop_steps_per_s']['values']):.0f}); end to end {f['end_to_end_steps_per_s_wall']['median']:.0f}"
                      f" steps/s wall (median; run {f['run_wall_s']['min']:.1f}-{max(f['run_wall_s']['values']):.1f} s wall,"
                      f" {f['run_cpu_s']['min']:.1f}-{max(f['run_cpu_s']['values']):.1f} s CPU"
                      + (f"; binary's share of a core {f['cpu_share']['median']:.2f}" if "cpu_share" in f else "")
                      + ")", flush=True)
            ratios = figures["times_numpy"]
            estimate = f" (CPU estimate {ratios['loop_cpu_estimate']:.0f}x)" if ratios["loop_cpu_estimate"] else ""
            print(f"  {target} x numpy ({ratios['basis']}): loop {ratios['loop']:.0f}x{estimate}, end to end first build "
                  f"{ratios['end_to_end_first_build']:.1f}x, cached {ratios['end_to_end_cached']:.1f}x", flush=True)
    print(f"done, {load_text()}")
    print(f"wrote {write_report(args.out, 'fig3_rate', report)}")


if __name__ == "__main__":
    main()
