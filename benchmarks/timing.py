"""Timing helpers shared by the benchmark scripts: wall and CPU time, repeats, standalone results."""
from __future__ import annotations

import os
import resource
import statistics
import time
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def timed(record: dict, name: str):
    """Store ``{name}_wall_s`` and ``{name}_cpu_s`` (this process and its children: make, the binary)."""
    wall = time.perf_counter()
    cpu = _cpu_seconds()
    try:
        yield
    finally:
        record[f"{name}_wall_s"] = time.perf_counter() - wall
        record[f"{name}_cpu_s"] = _cpu_seconds() - cpu


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def spread(values) -> dict:
    """Minimum, median and all values of repeated measurements (the minimum is the least disturbed one)."""
    values = [float(v) for v in values]
    return {"min": min(values), "median": statistics.median(values), "values": values}


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


def machine() -> dict:
    """Facts that a timing depends on: cores this process may use, load when measured."""
    return {"cores": len(os.sched_getaffinity(0)), "load_average_1min": os.getloadavg()[0]}
