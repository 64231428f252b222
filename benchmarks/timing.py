"""Timing helpers shared by the benchmark scripts.

Wall and CPU time of a block (this process and the children it waited for: ``make``
and the standalone binary), interleaved repeats summarised by minimum and median,
the end-to-end timing of one :meth:`ErrorCircuit.run` (first build or cached), the
standalone loop time and Brian2's per-code-object profile, the machine's load, and
the atomic report file.  Benchmarks are run from the repository root as
``python benchmarks/NAME.py``; every script imports this module from its own folder.
"""
from __future__ import annotations

import functools
import os
import resource
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import brian2 as b2
import numpy as np

from brian_errorcircuits.circuit import THREADS_ENV
from brian_errorcircuits.files import provenance, write_json

DEFAULT_OUT = Path("results/benchmarks")


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def timed(record: dict, name: str):
    """Store ``{name}_wall_s`` and ``{name}_cpu_s`` of the block in ``record``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    try:
        yield
    finally:
        record[f"{name}_wall_s"] = time.perf_counter() - wall
        record[f"{name}_cpu_s"] = cpu_seconds() - cpu


def spread(values) -> dict:
    """Minimum, median and all values of repeated measurements (the minimum is the least disturbed one)."""
    values = [float(v) for v in values]
    return {"min": min(values), "median": statistics.median(values), "values": values}


def interleaved(cases: dict, repeats: int) -> dict:
    """Run every case once per round, ``repeats`` rounds: {name: [result of each round]}.

    Interleaving spreads a neighbour's load over all cases instead of
    penalising whichever case ran while it lasted.
    """
    if repeats < 1:
        raise ValueError(f"repeats={repeats}: at least 1")
    results = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            results[name].append(case())
    return results


def summarised(records: list, keys) -> dict:
    """{key: spread of that key over ``records``} for the keys every record has."""
    return {key: spread(r[key] for r in records) for key in keys if all(r.get(key) is not None for r in records)}


def load() -> dict:
    """The machine's load averages over 1, 5 and 15 minutes (as ``uptime`` prints them) and its cores."""
    return {"load_average": [round(v, 2) for v in os.getloadavg()], "cores": len(os.sched_getaffinity(0))}


def load_text() -> str:
    """The load as one short phrase for printed figures."""
    facts = load()
    return f"load {', '.join(f'{v:.2f}' for v in facts['load_average'])} on {facts['cores']} cores"


def core_share(cpu_s: float, wall_s: float) -> float:
    """CPU time over wall time of a one-thread run: below 1 it waited for a core (a busy machine).

    A standalone loop's own time is wall time; times this share it estimates the CPU time.
    """
    return cpu_s / wall_s if wall_s > 0 else float("nan")


def standalone_profile(build_dir) -> tuple:
    """(loop seconds of the last standalone run, {code object: seconds}) from its results folder."""
    results = Path(build_dir) / "results"
    loop = float((results / "last_run_info.txt").read_text().split()[0])
    profile = {}
    path = results / "profiling_info.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                profile[parts[0]] = float(parts[1])
    return loop, profile


@contextmanager
def build_probe():
    """Time the compiler and the binary (``cpp_standalone``) or count compiled Cython modules.

    Wraps Brian2's ``CPPStandaloneDevice.compile_source`` / ``run`` and
    ``CythonExtensionManager._load_module`` for the duration of the block
    (restored afterwards); yields a dict that fills with ``make_s``,
    ``binary_s`` / ``binary_cpu_s`` and ``cython_modules_compiled`` / ``cython_compile_s``.
    A Cython module counts as compiled when its file was not in the cache yet.
    """
    from brian2.codegen.runtime.cython_rt.extension_manager import CythonExtensionManager
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    found = {"make_s": 0.0, "binary_s": 0.0, "binary_cpu_s": 0.0, "cython_modules_compiled": 0,
             "cython_compile_s": 0.0}
    originals = [(CPPStandaloneDevice, "compile_source"), (CPPStandaloneDevice, "run"),
                 (CythonExtensionManager, "_load_module")]
    saved = [getattr(owner, name) for owner, name in originals]

    def adding(key, original, cpu_key=None):
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            start, cpu = time.perf_counter(), cpu_seconds()
            try:
                return original(*args, **kwargs)
            finally:
                found[key] += time.perf_counter() - start
                if cpu_key:
                    found[cpu_key] += cpu_seconds() - cpu
        return wrapper

    @functools.wraps(saved[2])
    def load_module(self, module_path, *args, **kwargs):
        if os.path.isfile(module_path):
            return saved[2](self, module_path, *args, **kwargs)
        found["cython_modules_compiled"] += 1
        return adding("cython_compile_s", saved[2])(self, module_path, *args, **kwargs)

    CPPStandaloneDevice.compile_source = adding("make_s", saved[0])
    CPPStandaloneDevice.run = adding("binary_s", saved[1], "binary_cpu_s")
    CythonExtensionManager._load_module = load_module
    try:
        yield found
    finally:
        for (owner, name), method in zip(originals, saved):
            setattr(owner, name, method)


def use_threads(threads: int) -> None:
    """Standalone binaries built from now on run on ``threads`` threads (1: plain code, no OpenMP):
    the circuits' setting (``ERRORCIRCUITS_THREADS``, read when a circuit's session starts) and
    Brian2's preference, for bare Brian2 networks built outside a circuit."""
    if threads < 1:
        raise SystemExit(f"--threads {threads}: at least 1")
    os.environ[THREADS_ENV] = str(threads)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0 if threads == 1 else threads


def objects_compiled(build_dir, since: float) -> int:
    """How many object files in ``build_dir`` ``make`` wrote since ``since`` (a time.time())."""
    return sum(path.stat().st_mtime >= since for path in Path(build_dir).rglob("*.o"))


def end_to_end(circuit, schedule) -> dict:
    """Wall and CPU time of ``circuit.run(schedule)``, its loop, and what it compiled.

    ``loop_s`` is the simulation loop alone (Brian2's last run time, or the
    standalone binary's own ``last_run_info.txt``).
    """
    record = {"steps": int(round(float(schedule.total_time / circuit.spec.dt)))}
    since = time.time() - 1.0  # file time granularity; nothing of this run is built in that second
    with build_probe() as found, timed(record, "run"):
        result = circuit.run(schedule)
    record.update(found)
    if circuit.spec.target == "cpp_standalone":
        record["loop_s"] = standalone_profile(circuit.build_dir)[0]
        record["cpu_share"] = core_share(record["binary_cpu_s"], record["binary_s"])
        record["objects_compiled"] = objects_compiled(circuit.build_dir, since)
    else:
        record["loop_s"] = float(b2.get_device()._last_run_time)
    record["weights_finite"] = bool(all(np.isfinite(W).all() for W in result.weights_after))
    return record


def write_report(out: Path, name: str, report: dict) -> Path:
    """Write ``report`` with versions, commit and load to ``out/name.json`` atomically; return the path."""
    path = Path(out) / f"{name}.json"
    write_json(path, {"benchmark": name, **provenance(), "load_at_end": load(), **report})
    return path
