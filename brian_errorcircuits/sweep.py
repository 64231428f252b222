"""Sweeps: many independent runs of one function, in parallel on dask.distributed, resumable.

A sweep is a function and a list of runs, each run a dict of the parameters
that one call of the function uses.  :func:`run_sweep` sends every run as
one task to a dask.distributed cluster: by default a ``LocalCluster`` of
worker processes on this machine, one per core, or an existing cluster
(``scheduler="tcp://host:8786"``, e.g. one started on SLURM with
dask-jobqueue), or, with ``workers=0``, runs them one after the other in
this process, through the same code.

In the sweep folder:

* ``<key>.json``: the result of one run, written atomically by the process
  that ran it as soon as the run finishes (with the run's parameters, worker
  and times), so a killed sweep loses only the runs in progress.  The key
  hashes the run's parameters, the function's name and the package version
  (:func:`run_key`), so a rerun skips every run whose file is there and runs
  only what is missing or changed.  A truncated, empty or otherwise
  unreadable file is named in a warning and run again.
* ``failed/<key>.json``: the error and traceback of a run that raised (or
  whose worker kept dying); the sweep carries on, and a rerun tries it again.
* ``sweep.json``: the last sweep's summary: counts, failed runs, times.
* ``scratch/<host>-<worker>-<pid>/``: each worker process's own folder for
  build files (``cpp_standalone`` builds; :func:`reusable_build` starts them
  from ``scratch/finished-builds/``), removed when a sweep ends without failures.

Results come back in the order of the runs and are the same to the last
digit whichever way they ran: each is read back from its JSON file.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import time
import traceback
import warnings
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import progress
from .circuit import COMPILE_JOBS_ENV, copy_build
from .files import read_json, write_json
from .progress import cpu_seconds
from .spec import SpecError


#: Subfolders of a sweep folder: tracebacks of failed runs, and the workers' build folders.
FAILED, SCRATCH = "failed", "scratch"


class SweepError(RuntimeError):
    """Some runs of a sweep failed; their tracebacks are in the failure files the message names."""


@dataclass(frozen=True)
class Cluster:
    """Where a sweep runs.

    Parameters
    ----------
    scheduler : str, optional
        Address of an existing dask scheduler (``tcp://host:8786``); None
        starts a ``LocalCluster`` on this machine.
    workers : int, optional
        Worker processes of the local cluster (one thread each); None: one
        per core; 0: no cluster, the runs go one after the other in this process.
    """

    scheduler: str | None = None
    workers: int | None = None

    def describe(self) -> str:
        """Where the runs go, in words."""
        if self.scheduler:
            return f"the dask cluster at {self.scheduler}"
        if self.workers == 0:
            return "this process, one run after the other"
        return f"a local cluster of {self.workers or available_cores()} worker processes"


@dataclass(frozen=True)
class Failure:
    """A run that raised, or whose worker died too often: where it is and what went wrong."""

    index: int
    run: dict
    key: str
    error: str
    path: Path


@dataclass
class SweepResult:
    """What :func:`run_sweep` returns.

    Attributes
    ----------
    results : list
        One entry per run, in the order of the runs: the function's return
        value as read back from its JSON file, or None for a failed run.
    failures : list of Failure
        The failed runs, in the order of the runs.
    computed, reused : int
        Runs done by this sweep, and runs whose saved result was reused.
    cpu_time_s : float
        CPU time of the runs done by this sweep (their processes and children), summed.
    wall_time_s : float
        Wall time of the sweep.
    """

    results: list
    failures: list = field(default_factory=list)
    computed: int = 0
    reused: int = 0
    cpu_time_s: float = 0.0
    wall_time_s: float = 0.0

    def record(self, cluster: Cluster) -> dict:
        """The sweep's counts and times, for an experiment's ``summary.json``."""
        return {"runs": len(self.results), "computed": self.computed, "reused": self.reused,
                "cluster": cluster.describe(), "cpu_time_s": self.cpu_time_s, "wall_time_s": self.wall_time_s}

    def raise_for_failures(self) -> None:
        """Raise :class:`SweepError` naming every failed run and its failure file, if there is one."""
        if self.failures:
            lines = [f"  run {f.index} {json.dumps(f.run, sort_keys=True)}: {f.error} (traceback: {f.path})"
                     for f in self.failures]
            raise SweepError(f"{len(self.failures)} of {len(self.results)} runs failed; the others are saved "
                             "and a rerun runs only the failed and missing ones:\n" + "\n".join(lines))


def available_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_key(function, run: dict) -> str:
    """The key of ``run``: a hash of its parameters, ``function``'s qualified name and the package version.

    Raises :class:`SpecError` if the run is not a dict that JSON can hold.
    """
    if not isinstance(run, dict):
        raise SpecError(f"a run is a dict of parameters, not {type(run).__name__}: {run!r}")
    try:
        text = json.dumps({"function": f"{function.__module__}.{function.__qualname__}", "run": run,
                           "version": _version()}, sort_keys=True, allow_nan=True)
    except TypeError as err:
        raise SpecError(f"run {run!r}: its parameters must be JSON values ({err})") from None
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def run_sweep(function, runs, folder, scheduler: str | None = None, workers: int | None = None,
              compile_jobs: int | None = None, report: bool = True) -> SweepResult:
    """Run ``function(run, scratch)`` for every run not yet saved in ``folder``; results in the order of ``runs``.

    Parameters
    ----------
    function : callable
        ``function(run, scratch) -> dict`` of JSON values; ``run`` is one
        element of ``runs``, ``scratch`` a folder of the worker process's own
        (for build files).  Must be importable by the workers (a module-level function).
    runs : iterable of dict
        The parameters of each run (JSON values); runs with equal keys run once.
    folder : path
        The sweep folder (module docstring); a remote cluster's workers must
        see it at the same path.
    scheduler : str, optional
        Address of an existing dask scheduler; None starts a ``LocalCluster``.
    workers : int, optional
        Worker processes of the local cluster; None: one per core; 0: no
        cluster, runs one after the other in this process (for comparison and debugging).
    compile_jobs : int, optional
        ``make -j`` of each worker's ``cpp_standalone`` builds; default: the
        cores divided among the local workers, 1 on a remote cluster, all cores when serial.
    report : bool
        Print a summary line and the failed runs at the end.

    Returns
    -------
    SweepResult
        Results in the order of ``runs`` (None where a run failed), the
        failures, and counts.  A run that raises does not stop the sweep.
    """
    cluster = Cluster(scheduler, workers)
    if scheduler is not None and workers is not None:
        raise SpecError(f"workers={workers}: with a scheduler the cluster's own workers run the sweep")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise SpecError(f"workers={workers!r}: expected a whole number >= 0 (0 runs the sweep in this process)")
    runs = list(runs)
    keys = [run_key(function, run) for run in runs]
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    outcome = SweepResult(results=[None] * len(runs))
    todo = {}  # key -> index of its first run
    for index, key in enumerate(keys):
        saved = _saved_result(folder / f"{key}.json", key)
        if saved is not None:
            outcome.results[index] = saved
            outcome.reused += 1
        else:
            todo.setdefault(key, index)
    if todo:
        attempts = _attempts_in_process if workers == 0 else _attempts_on_cluster
        jobs = compile_jobs or _default_compile_jobs(cluster)
        finished = attempts(function, {key: runs[index] for key, index in todo.items()}, folder, cluster, jobs)
        with closing(finished), _progress_bar(len(todo), outcome.reused) as bar:
            for key, attempt in finished:
                _record(folder, key, todo[key], runs[todo[key]], attempt, outcome)
                bar.set_postfix(failed=len(outcome.failures), refresh=False)
                bar.update(1)
    for index, key in enumerate(keys):  # runs that share their key with an earlier one
        if outcome.results[index] is None and key not in {f.key for f in outcome.failures}:
            outcome.results[index] = _saved_result(folder / f"{key}.json", key)
    outcome.failures.sort(key=lambda failure: failure.index)
    outcome.wall_time_s = time.perf_counter() - start
    _write_summary(folder, runs, cluster, outcome)
    if not outcome.failures:
        shutil.rmtree(folder / SCRATCH, ignore_errors=True)
    if report:
        print(f"  sweep: {len(runs)} runs on {cluster.describe()}: {outcome.computed} done now, "
              f"{outcome.reused} reused, {len(outcome.failures)} failed ({outcome.wall_time_s:.0f} s; {folder})",
              flush=True)
        for failure in outcome.failures:
            print(f"    failed: run {failure.index} {json.dumps(failure.run, sort_keys=True)}: {failure.error} "
                  f"(traceback: {failure.path})", flush=True)
    return outcome


def _saved_result(path: Path, key: str):
    """The result saved at ``path`` for run ``key``; None if there is none or it cannot be read (with a warning)."""
    if not path.exists():
        return None
    try:
        document = read_json(path)
        if document["key"] != key:
            raise ValueError(f"it holds run {document['key']}")
        return document["result"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        warnings.warn(f"sweep result {path} cannot be read ({err}); running it again", stacklevel=3)
        return None


def _record(folder: Path, key: str, index: int, run: dict, attempt: dict, outcome: SweepResult) -> None:
    """Add one finished attempt to ``outcome``: its result read back from its file, or a failure file."""
    failure_path = folder / FAILED / f"{key}.json"
    outcome.computed += 1
    outcome.cpu_time_s += attempt.get("cpu_time_s", 0.0)
    if attempt["ok"]:
        outcome.results[index] = read_json(folder / f"{key}.json")["result"]
        failure_path.unlink(missing_ok=True)
        return
    failure_path.parent.mkdir(exist_ok=True)
    write_json(failure_path, {**_details(key, run, attempt), "error": attempt["error"],
                              "traceback": attempt["traceback"]})
    outcome.failures.append(Failure(index, run, key, attempt["error"], failure_path))


def _write_summary(folder: Path, runs: list, cluster: Cluster, outcome: SweepResult) -> None:
    """``sweep.json``: counts, failed runs and times of the sweep that just ended."""
    write_json(folder / "sweep.json", {
        "runs": len(runs), "computed": outcome.computed, "reused": outcome.reused,
        "failed": [{"index": f.index, "run": f.run, "key": f.key, "error": f.error, "failure_file": str(f.path)}
                   for f in outcome.failures],
        "cluster": cluster.describe(), "wall_time_s": outcome.wall_time_s, "cpu_time_s": outcome.cpu_time_s,
        "package_version": _version(), "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    })


def _version() -> str:
    """The package version (looked up on each call, so that a test can change it)."""
    from . import __version__

    return __version__


def _default_compile_jobs(cluster: Cluster) -> int:
    """``make -j`` per worker: the cores shared among local workers; 1 on a remote cluster."""
    if cluster.scheduler:
        return 1
    if cluster.workers == 0:
        return available_cores()
    return max(1, available_cores() // (cluster.workers or available_cores()))


#: Subfolder of the scratch folder with one finished copy of each build folder, for every worker to start from.
FINISHED_BUILDS = "finished-builds"


@contextmanager
def reusable_build(scratch, name: str):
    """Build folder ``scratch/name`` of this worker process, started from the sweep's first finished one.

    Runs that build the same code (the same circuit with other seeds) find
    its compiled objects there, so ``make`` compiles it once per sweep, not
    once per worker.  On entry, a worker without the folder copies it (times
    kept, so ``make`` finds the objects up to date) from
    ``<scratch root>/finished-builds/name``; if there is none yet, it builds
    the folder itself, and a worker that needs the same name meanwhile waits
    for that build (a lock that the kernel releases if the builder dies)
    instead of compiling the same code at the same time.  After a run that
    ends well the folder is published there (copied, then renamed into place);
    a run that fails or is killed publishes nothing.

    Parameters
    ----------
    scratch : path
        The worker process's own folder, as :func:`run_sweep` passes it.
    name : str
        What is built (e.g. ``spiking-d3``): equal names must build the same files.
    """
    folder = Path(scratch) / name
    shared = Path(scratch).parent / FINISHED_BUILDS
    shared.mkdir(parents=True, exist_ok=True)
    finished = shared / name
    with open(shared / f".{name}.lock", "a") as lock:
        if not folder.exists():
            fcntl.flock(lock, fcntl.LOCK_EX)  # held while this worker builds `name` for the sweep
            if finished.exists():
                shutil.copytree(finished, folder, symlinks=True)
                fcntl.flock(lock, fcntl.LOCK_UN)
        yield folder
        if folder.exists() and not finished.exists():
            temporary = shared / f".{name}.{os.getpid()}.tmp"
            copy_build(folder, temporary)
            os.rename(temporary, finished)


# ------------------------------------------------------------------ one attempt, wherever it runs
def attempt_run(function, run: dict, folder, key: str, compile_jobs: int) -> dict:
    """Call ``function(run, scratch)`` once, save its result as ``folder/<key>.json``, say how it went.

    Never raises (but on Ctrl-C).  The result file is written atomically by the
    process that ran the function, before it takes its next run, so a killed
    sweep loses at most the runs in progress.  ``scratch`` is
    ``folder/scratch/<host>-<worker name>-<pid>``: one folder per worker
    process, so concurrent builds never share one.  ``make -j`` is bounded to
    ``compile_jobs`` during the call.  Returns ``{"ok": True}`` or ``{"ok":
    False, "error": ..., "traceback": ...}``, with the worker, wall time and
    CPU time (this process and its children).
    """
    worker_name = _dask_worker_name()
    if worker_name is not None:
        _separate_cython_cache(worker_name)
    worker = _folder_name(f"{socket.gethostname()}-{worker_name or 'serial'}-{os.getpid()}")
    scratch = Path(folder) / SCRATCH / worker
    scratch.mkdir(parents=True, exist_ok=True)
    previous_jobs = os.environ.get(COMPILE_JOBS_ENV)
    os.environ[COMPILE_JOBS_ENV] = str(compile_jobs)
    wall, cpu = time.perf_counter(), cpu_seconds()
    try:
        result = function(run, scratch)
    except Exception as err:  # noqa: BLE001 -- any error of a run is recorded, the sweep goes on
        outcome = {"ok": False, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    else:
        outcome = {"ok": True}
    finally:
        if previous_jobs is None:
            os.environ.pop(COMPILE_JOBS_ENV, None)
        else:
            os.environ[COMPILE_JOBS_ENV] = previous_jobs
    outcome.update(worker=worker, wall_time_s=time.perf_counter() - wall, cpu_time_s=cpu_seconds() - cpu)
    if outcome["ok"]:
        try:
            write_json(Path(folder) / f"{key}.json", {**_details(key, run, outcome), "result": result})
        except (TypeError, ValueError, OSError) as err:
            outcome.update(ok=False, error=f"its result cannot be saved as JSON: {type(err).__name__}: {err}",
                           traceback=traceback.format_exc())
    return outcome


def _details(key: str, run: dict, attempt: dict) -> dict:
    """What a result or failure file says about its run besides the result: key, parameters, worker, times."""
    return {"key": key, "run": run, "worker": attempt.get("worker"), "wall_time_s": attempt.get("wall_time_s"),
            "cpu_time_s": attempt.get("cpu_time_s"), "package_version": _version(),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S")}


def _dask_worker_name() -> str | None:
    """The name of the dask worker this code runs on; None outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return None


def _folder_name(text: str) -> str:
    """``text`` with every run of characters other than letters, digits, ``_ . -`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


#: CYTHON_CACHE_DIR of this process before :func:`_separate_cython_cache` changed it (None: not changed yet).
_shared_cython_cache: str | None = None


def _separate_cython_cache(worker_name: str) -> None:
    """Make this worker process compile Brian2's Cython code into a cache folder of its own.

    ``CYTHON_CACHE_DIR`` (Brian2's default cache is ``<it>/brian_extensions``)
    becomes ``<the previous one, or ~/.cython>/sweep-worker-<worker name>``:
    two workers of a cluster never share one, and a local cluster's workers
    (named 0, 1, ...) find theirs again in the next sweep.  Set before the
    worker's first run compiles anything (Cython reads it once per process);
    Brian2's preference ``codegen.runtime.cython.cache_dir``, when set, takes precedence.
    """
    global _shared_cython_cache
    if _shared_cython_cache is None:
        _shared_cython_cache = os.environ.get("CYTHON_CACHE_DIR", os.path.expanduser(os.path.join("~", ".cython")))
    os.environ["CYTHON_CACHE_DIR"] = os.path.join(_shared_cython_cache, f"sweep-worker-{_folder_name(worker_name)}")


def _attempts_in_process(function, runs: dict, folder: Path, cluster: Cluster, compile_jobs: int):
    """(key, attempt) of each run, one after the other in this process."""
    for key, run in runs.items():
        yield key, attempt_run(function, run, folder, key, compile_jobs)


def _attempts_on_cluster(function, runs: dict, folder: Path, cluster: Cluster, compile_jobs: int):
    """(key, attempt) of each run as it finishes on a dask cluster (a run whose workers kept dying: a failure);
    the runs start in the order of ``runs``."""
    from distributed import Client, LocalCluster, as_completed

    local = None
    if not cluster.scheduler:
        # dashboard_address ":0": the scheduler's HTTP server (and dashboard) on a free port, not on 8787
        local = LocalCluster(n_workers=cluster.workers or available_cores(), threads_per_worker=1, processes=True,
                             dashboard_address=":0")
    try:
        with Client(cluster.scheduler or local) as client:
            # priorities: the runs start in their order (dask would order runs submitted together by key)
            futures = {client.submit(attempt_run, function, run, str(folder), key, compile_jobs, pure=False,
                                     key=f"run-{key}", priority=-position): key
                       for position, (key, run) in enumerate(runs.items())}
            for future in as_completed(futures):
                try:
                    attempt = future.result()
                except Exception as err:  # noqa: BLE001 -- KilledWorker and the like: the run failed
                    attempt = {"ok": False, "error": f"{type(err).__name__}: {err}",
                               "traceback": "".join(traceback.format_exception(err))}
                future.release()
                yield futures[future], attempt
    finally:
        if local is not None:
            local.close()


def _progress_bar(total: int, reused: int):
    """Bar of runs done, failed and time left (:func:`brian_errorcircuits.progress.bar`: on a terminal, or forced)."""
    return progress.bar(total=total, desc=f"sweep ({reused} reused)", unit="run", postfix={"failed": 0})
