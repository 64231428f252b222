"""Cython against ``cpp_standalone`` on the population-sampled spiking network, end to end.

Run as ``python benchmarks/targets.py [--targets cython,cpp_standalone] [--repeats 3] [--cold-cython] [--out DIR]``.

The network: layers (4, 10, 2), n_rep = n_err = 50 Poisson neurons per unit (2 028
neurons), dt 0.25 ms, 200 ms presentations, learning on.  Per target one circuit runs,
through :meth:`ErrorCircuit.run`, a short schedule with nothing compiled yet ("first
build": an empty build folder; for Cython an empty cache with ``--cold-cython``,
otherwise the cache as found), then a long one once (its code is new too: TimedArray
sizes are compiled in), then ``--repeats`` rounds of long and short runs, the
targets interleaved ("cached").  From the cached runs: speed = 1 / slope and
per-run overhead = intercept of wall time against simulated time (medians of each
length; also with ``make``'s time subtracted), and the loop's own speed.  Simulated
seconds of the short and long runs: :data:`LENGTHS`.  Writes ``targets.json``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import brian2 as b2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import DEFAULT_OUT, end_to_end, interleaved, load, load_text, spread, summarised, write_report  # noqa: E402

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams  # noqa: E402
from brian_errorcircuits.schedule import Schedule  # noqa: E402

PRESENTATION, SETTLE = 200 * b2.ms, 50 * b2.ms
#: simulated seconds of the short and the long runs per target (standalone's loop is fast, its overhead large)
LENGTHS = {"cython": (0.8, 4.0), "cpp_standalone": (2.0, 40.0)}
KEYS = ("run_wall_s", "run_cpu_s", "loop_s", "make_s", "binary_s", "objects_compiled", "cython_modules_compiled")


def sampled_spec(target: str) -> CircuitSpec:
    return CircuitSpec(layers=(4, 10, 2), mode="sampled", eta=(5 * b2.Hz,) * 2, dt=0.25 * b2.ms, seed=0,
                       neuron=NeuronParams(n_rep=50, n_err=50), target=target)


def random_schedule(seconds: float, rng: np.random.Generator) -> Schedule:
    """Random inputs in [0, 1] and targets in (-0.8, 0.8), learning on."""
    n = max(1, round(seconds / float(PRESENTATION / b2.second)))
    return Schedule.block(rng.uniform(0, 1, (n, 4)), rng.uniform(-0.8, 0.8, (n, 2)), learning=True,
                          duration=PRESENTATION, settle=SETTLE)


def timed_run(circuit: ErrorCircuit, seconds: float, rng) -> dict:
    schedule = random_schedule(seconds, rng)
    record = end_to_end(circuit, schedule)
    record.update(simulated_s=float(schedule.total_time / b2.second), load=load())
    return record


def fit(short: list, long: list, minus_make: bool = False) -> tuple:
    """(speed in simulated s per wall s or None, per-run overhead in s) from the medians of both lengths."""
    sim = [short[0]["simulated_s"], long[0]["simulated_s"]]
    wall = [spread(r["run_wall_s"] - (r["make_s"] if minus_make else 0.0) for r in runs)["median"]
            for runs in (short, long)]
    slope, intercept = np.polyfit(sim, wall, 1)
    return (1 / slope if slope > 0 else None), float(intercept)


def figures(short: list, long: list) -> dict:
    speed, overhead = fit(short, long)
    speed_minus_make, overhead_minus_make = fit(short, long, minus_make=True)
    loop = sum(r["simulated_s"] for r in short + long) / sum(r["loop_s"] for r in short + long)
    return {"speed_sim_s_per_wall_s": speed, "per_run_overhead_s": overhead,
            "speed_minus_make_sim_s_per_wall_s": speed_minus_make, "per_run_overhead_minus_make_s": overhead_minus_make,
            "loop_speed_sim_s_per_wall_s": loop}


def text(value, spec=".2f") -> str:
    return "-" if value is None else format(value, spec)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", default="cython,cpp_standalone")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-cython", action="store_true", help="first Cython build from an empty cache")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT / "targets")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    b2.BrianLogger.log_level_warn()
    print(f"targets, {load_text()}", flush=True)
    rng = np.random.default_rng(12345)
    circuits, report = {}, {"lengths_s": LENGTHS, "repeats": args.repeats, "targets": {}}
    cache_pref = b2.prefs.codegen.runtime.cython.cache_dir
    for target in args.targets.split(","):
        folder = args.out / f"build_{target}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if target == "cython" and args.cold_cython:
            b2.prefs.codegen.runtime.cython.cache_dir = str(folder)
        circuit = ErrorCircuit(sampled_spec(target), build_dir=str(folder) if target == "cpp_standalone" else None)
        short, long = LENGTHS[target]
        first = timed_run(circuit, short, rng)
        timed_run(circuit, long, rng)  # compiles the long schedule's code once
        circuits[target] = circuit
        report["targets"][target] = {"first_build": first, "cold_cython_cache": bool(args.cold_cython)}
        print(f"{target} first build: {first['run_wall_s']:.1f} s wall, {first['run_cpu_s']:.1f} s CPU, make "
              f"{first['make_s']:.1f} s, {first['cython_modules_compiled']} Cython modules compiled ({load_text()})",
              flush=True)
    cases = {f"{target} {length}": (lambda c=circuit, s=seconds: timed_run(c, s, rng))
             for target, circuit in circuits.items() for length, seconds in zip(("short", "long"), LENGTHS[target])}
    rounds = interleaved(cases, args.repeats)
    b2.prefs.codegen.runtime.cython.cache_dir = cache_pref
    for target, entry in report["targets"].items():
        short, long = rounds[f"{target} short"], rounds[f"{target} long"]
        entry.update(figures(short, long), cached_short=summarised(short, KEYS), cached_long=summarised(long, KEYS),
                     runs={"short": short, "long": long})
    path = write_report(args.out, "targets", report)
    for target, entry in report["targets"].items():
        print(f"{target}: speed {text(entry['speed_sim_s_per_wall_s'])} simulated s per wall s ("
              f"{text(entry['speed_minus_make_sim_s_per_wall_s'])} with make subtracted), per-run overhead "
              f"{text(entry['per_run_overhead_s'], '.1f')} s ({text(entry['per_run_overhead_minus_make_s'], '.1f')} s), "
              f"loop {entry['loop_speed_sim_s_per_wall_s']:.2f}; cached short run "
              f"{entry['cached_short']['run_wall_s']['median']:.1f} s wall (median), "
              f"{entry['cached_short']['run_cpu_s']['median']:.1f} s CPU; long "
              f"{entry['cached_long']['run_wall_s']['median']:.1f} s wall, {entry['cached_long']['run_cpu_s']['median']:.1f}"
              f" s CPU", flush=True)
    print(f"done, {load_text()}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
