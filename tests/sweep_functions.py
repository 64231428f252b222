"""Cheap run functions for the sweep tests: pure Python and numpy, importable by dask workers."""
import json
import os
import signal
import time
from pathlib import Path

import numpy as np


def sample(run, scratch):
    """Draw ``n`` normal numbers from ``seed``; options of ``run`` make it slow, log, fail or kill its process.

    ``sleep``: seconds to wait first; ``log``: a folder that gets ``started-<seed>`` (this process's id,
    scratch folder and sweep environment) and ``ended-<seed>``; ``fail_unless``: raise unless that file
    exists; ``die``: ``"once"`` kills this process the first time (marker file in ``log``), ``"always"`` every time.
    """
    log = Path(run["log"]) if "log" in run else None
    if log is not None:
        (log / f"started-{run['seed']}-{os.getpid()}").write_text(json.dumps({
            "pid": os.getpid(), "scratch": str(scratch), "cython_cache": os.environ.get("CYTHON_CACHE_DIR"),
            "compile_jobs": os.environ.get("ERRORCIRCUITS_COMPILE_JOBS")}))
    if run.get("die") == "always" or (run.get("die") == "once" and not (log / f"died-{run['seed']}").exists()):
        if log is not None:
            (log / f"died-{run['seed']}").touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(run.get("sleep", 0))
    if "fail_unless" in run and not Path(run["fail_unless"]).exists():
        raise ValueError(f"run {run['seed']} fails on purpose")
    values = np.random.default_rng(run["seed"]).normal(size=run.get("n", 3))
    if log is not None:
        (log / f"ended-{run['seed']}").touch()
    return {"values": values, "sum": values.sum()}


def started(log: Path) -> list:
    """What :func:`sample` recorded at the start of each call logged in ``log``."""
    return [json.loads(path.read_text()) for path in sorted(log.glob("started-*"))]


def build_once(run, scratch):
    """Use :func:`~brian_errorcircuits.sweep.reusable_build` like a compiler: make ``object`` in build
    folder ``run["build"]`` unless it is there (logging ``compiled-<build>-<seed>`` in ``run["log"]``)."""
    from brian_errorcircuits.sweep import reusable_build

    with reusable_build(scratch, run["build"]) as folder:
        folder.mkdir(exist_ok=True)
        compiled = folder / "object"
        if not compiled.exists():
            (Path(run["log"]) / f"compiled-{run['build']}-{run['seed']}").touch()
            compiled.write_text(f"built for {run['build']}")
        time.sleep(run.get("sleep", 0))
        return {"object": compiled.read_text(), "seed": run["seed"]}
