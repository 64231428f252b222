"""The sweep engine on dask.distributed: same results serially and on 2 worker processes, resumable
after a killed worker or a killed sweep, corrupt result files rerun, failures recorded.

Cheap pure-Python runs (tests/sweep_functions.py), plus one tiny depth-scaling series on the numpy target.
"""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from distributed import Client, LocalCluster

import brian_errorcircuits
from brian_errorcircuits import SpecError, cli
from brian_errorcircuits.experiments import depth_scaling
from brian_errorcircuits.sweep import SweepError, run_key, run_sweep
from sweep_functions import build_once, sample, started

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def cluster():
    """A local cluster of 2 worker processes, one thread each, shared by this module's tests (its address)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        yield local.scheduler_address


def expected(runs):
    """What each run returns, computed here, in the form read back from JSON."""
    return [json.loads(json.dumps({"values": sample(run, None)["values"].tolist(),
                                   "sum": float(sample(run, None)["sum"])})) for run in runs]


def saved_files(folder: Path) -> list:
    return sorted(folder.glob("[0-9a-f]*.json"))


def test_serial_and_two_workers_give_the_same_numbers_in_the_order_of_the_runs(cluster, tmp_path):
    """Every worker process builds in a scratch folder and compiles Cython into a cache of its own,
    with make -j1."""
    log = tmp_path / "log"
    log.mkdir()
    runs = [{"seed": seed, "n": 4, "sleep": 0.1 * (seed % 3), "log": str(log)} for seed in (7, 3, 5, 0, 9, 1)]
    serial = run_sweep(sample, runs, tmp_path / "serial", workers=0)
    parallel = run_sweep(sample, runs, tmp_path / "parallel", scheduler=cluster)
    assert serial.results == parallel.results == expected(runs)
    assert (serial.computed, parallel.computed, parallel.failures) == (6, 6, [])
    on_workers = [call for call in started(log) if call["pid"] != os.getpid()]
    assert len(on_workers) == 6
    scratch_of = {call["pid"]: call["scratch"] for call in on_workers}
    assert len(set(scratch_of.values())) == len(scratch_of), "two worker processes shared a scratch folder"
    assert all(call["scratch"] == scratch_of[call["pid"]] for call in on_workers)
    caches = {call["pid"]: call["cython_cache"] for call in on_workers}
    assert len(set(caches.values())) == len(caches) and all("sweep-worker-" in c for c in caches.values())
    assert {call["compile_jobs"] for call in on_workers} == {"1"}
    assert not (tmp_path / "parallel" / "scratch").exists(), "scratch folders stay only after failures"


def test_runs_that_build_the_same_code_compile_it_once_per_sweep_not_once_per_worker(cluster, tmp_path):
    """reusable_build: the first finished build of a name is copied into every worker that needs it."""
    log = tmp_path / "log"
    log.mkdir()
    first = [{"build": "a", "seed": 0, "sleep": 0.3}, {"build": "b", "seed": 0, "sleep": 0.8}]
    runs = first + [{"build": build, "seed": seed} for seed in (1, 2, 3) for build in "ab"]
    for sweep_folder, where in (("serial", {"workers": 0}), ("parallel", {"scheduler": cluster})):
        for run in runs:
            run["log"] = str(log / sweep_folder)
        (log / sweep_folder).mkdir()
        sweep = run_sweep(build_once, runs, tmp_path / sweep_folder, **where)
        assert [result["object"] for result in sweep.results] == [f"built for {run['build']}" for run in runs]
        assert sorted(path.name for path in (log / sweep_folder).iterdir()) == ["compiled-a-0", "compiled-b-0"]


def test_key_changes_with_a_parameter_or_the_package_version_and_a_rerun_runs_only_what_changed(tmp_path,
                                                                                                  monkeypatch):
    assert run_key(sample, {"seed": 1, "n": 4}) == run_key(sample, {"n": 4, "seed": 1})
    assert run_key(sample, {"seed": 1, "n": 4}) != run_key(sample, {"seed": 1, "n": 5})
    assert run_key(sample, {"seed": 1}) != run_key(sample, {"seed": 1, "n": 3})
    runs = [{"seed": seed} for seed in range(3)]
    first = run_sweep(sample, runs, tmp_path, workers=0)
    runs[1]["n"] = 5
    second = run_sweep(sample, runs, tmp_path, workers=0)
    assert (second.computed, second.reused) == (1, 2) and second.results[::2] == first.results[::2]
    assert len(second.results[1]["values"]) == 5
    monkeypatch.setattr(brian_errorcircuits, "__version__", "99.0")
    assert run_sweep(sample, runs, tmp_path, workers=0).computed == 3


def test_depth_scaling_run_keys_hold_only_what_the_run_reads():
    params = dict(depth_scaling.DEFAULTS)
    ann = depth_scaling.run_parameters(params, 2, "ann", 0)
    assert "spiking_epochs" not in ann and "depths" not in ann and ann["ann_lr"] == params["ann_lr"]
    changed = depth_scaling.run_parameters(dict(params, spiking_epochs=3), 2, "ann", 0)
    assert run_key(depth_scaling.train_one, changed) == run_key(depth_scaling.train_one, ann)
    changed = depth_scaling.run_parameters(dict(params, spiking_epochs=3), 2, "spiking", 0)
    assert run_key(depth_scaling.train_one, changed) != run_key(
        depth_scaling.train_one, depth_scaling.run_parameters(params, 2, "spiking", 0))


def test_a_run_that_raises_is_recorded_with_its_traceback_and_the_sweep_carries_on(cluster, tmp_path, monkeypatch,
                                                                                   capsys):
    monkeypatch.setenv("BRIAN_ERRORCIRCUITS_PROGRESS", "1")
    allowed = tmp_path / "allowed"
    runs = [{"seed": seed, "fail_unless": str(allowed if seed == 2 else tmp_path)} for seed in range(4)]
    sweep = run_sweep(sample, runs, tmp_path / "sweep", scheduler=cluster)
    assert sweep.results[2] is None and sweep.results[:2] + sweep.results[3:] == expected(runs[:2] + runs[3:])
    [failure] = sweep.failures
    recorded = json.loads(failure.path.read_text())
    assert failure.index == 2 and failure.error == "ValueError: run 2 fails on purpose"
    assert "Traceback" in recorded["traceback"] and "in sample" in recorded["traceback"]
    assert json.loads((tmp_path / "sweep" / "sweep.json").read_text())["failed"][0]["failure_file"] == str(failure.path)
    output = capsys.readouterr()
    assert "failed=1" in output.err and "4/4" in output.err, "progress bar: runs done and failed"
    assert "1 failed" in output.out and str(failure.path) in output.out
    with pytest.raises(SweepError, match=re.escape(str(failure.path))):
        sweep.raise_for_failures()
    allowed.touch()
    rerun = run_sweep(sample, runs, tmp_path / "sweep", workers=0)
    assert (rerun.computed, rerun.reused, rerun.failures) == (1, 3, []) and not failure.path.exists()
    assert rerun.results == expected(runs)


def test_killing_a_worker_mid_sweep_loses_at_most_the_runs_it_held(cluster, tmp_path):
    """A worker killed once: its run goes to another worker, nothing is lost.  A run that kills every
    worker it reaches (no retries allowed): it fails, with at most the other run its worker held."""
    log = tmp_path / "log"
    log.mkdir()
    runs = [{"seed": seed, "sleep": 0.3, "log": str(log), **({"die": "once"} if seed == 2 else {})}
            for seed in range(6)]
    sweep = run_sweep(sample, runs, tmp_path / "once", scheduler=cluster)
    assert (log / "died-2").exists(), "the worker was not killed"
    assert sweep.failures == [] and sweep.results == expected(runs)

    with Client(cluster) as client:
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
        try:
            runs[2]["die"] = "always"
            sweep = run_sweep(sample, runs, tmp_path / "always", scheduler=cluster)
        finally:
            client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 3))
    failed = [failure.index for failure in sweep.failures]
    assert 2 in failed and len(failed) <= 2, failed
    assert all("KilledWorker" in failure.error for failure in sweep.failures)
    assert all(sweep.results[i] == expected([run])[0] for i, run in enumerate(runs) if i not in failed)
    assert (tmp_path / "always" / "scratch").exists(), "scratch folders stay after failures"


def test_a_killed_sweep_loses_at_most_the_runs_in_flight_and_a_rerun_skips_the_saved_ones(tmp_path):
    """A sweep on a local cluster of 2 workers, killed (kill -9 of its process group) after 3 runs."""
    log, folder = tmp_path / "log", tmp_path / "sweep"
    log.mkdir()
    runs = [{"seed": seed, "sleep": 0.3, "log": str(log)} for seed in range(12)]
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        from brian_errorcircuits.sweep import run_sweep
        from sweep_functions import sample
        run_sweep(sample, {runs!r}, {str(folder)!r}, workers=2)
    """)
    sweep = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(saved_files(folder)) < 3:
            assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended or stalled"
            time.sleep(0.05)
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait()
    time.sleep(0.5)
    saved = len(saved_files(folder))
    began = started(log)
    ended = len(list(log.glob("ended-*")))
    assert 3 <= saved < len(runs), (saved, ended, len(began))
    assert len(began) - ended <= 2, f"more runs ran at once than there were workers: {(saved, ended, len(began))}"
    assert len(began) - saved <= 2, f"more runs were lost than the 2 workers had in flight: {(saved, ended, len(began))}"
    assert not any(psutil.pid_exists(call["pid"]) and psutil.Process(call["pid"]).status() != "zombie"
                   for call in began), "a worker outlived its killed sweep"
    rerun = run_sweep(sample, runs, folder, workers=0)
    assert (rerun.reused, rerun.computed) == (saved, len(runs) - saved)
    assert len(started(log)) == len(began) + len(runs) - saved
    assert rerun.results == expected(runs)


@pytest.mark.parametrize("damage", ["empty", "truncated", "not UTF-8", "a list", "another run's"])
def test_a_truncated_or_empty_result_file_is_named_in_a_warning_and_run_again(tmp_path, damage):
    runs = [{"seed": seed} for seed in range(3)]
    first = run_sweep(sample, runs, tmp_path, workers=0)
    path = tmp_path / f"{run_key(sample, runs[1])}.json"
    text = path.read_bytes()
    path.write_bytes({"empty": b"", "truncated": text[: len(text) // 2], "not UTF-8": b"\xff\xfe\x00",
                      "a list": b"[1, 2]", "another run's": (tmp_path / f"{run_key(sample, runs[0])}.json").read_bytes()
                      }[damage])
    with pytest.warns(UserWarning, match=re.escape(str(path)) + r" cannot be read \(.*\); running it again"):
        rerun = run_sweep(sample, runs, tmp_path, workers=0)
    assert (rerun.computed, rerun.reused) == (1, 2) and rerun.results == first.results
    assert path.read_bytes() != b"" and json.loads(path.read_text())["key"] == run_key(sample, runs[1])


def test_depth_scaling_gives_the_same_summary_serially_and_on_a_two_worker_local_cluster(tmp_path):
    """Tiny series on Brian2's numpy target, from the command line; a rerun reuses every saved run."""
    def depth_scaling_summary(out, workers):
        args = ["run", "depth-scaling", "--out", str(tmp_path / out), "--target", "numpy", "--workers", workers]
        for item in ("depths=1,2", "seeds=1", "models=rate,spiking,ann", "n_train=3", "n_test=2", "n_probe=2",
                     "rate_epochs=1", "spiking_epochs=1", "rate_duration_ms=20", "spiking_duration_ms=20",
                     "neurons_per_unit=2", "rate_target=numpy"):
            args += ["--set", item]
        assert cli.main(args) == 0
        return json.loads((tmp_path / out / "summary.json").read_text())

    serial, parallel = depth_scaling_summary("serial", "0"), depth_scaling_summary("parallel", "2")
    assert parallel["sweep"]["cluster"] == "a local cluster of 2 worker processes"
    assert (parallel["sweep"]["computed"], parallel["sweep"]["runs"]) == (6, 6)
    assert [key for key in serial if key not in ("wall_time_s", "sweep") and serial[key] != parallel[key]] == []
    again = depth_scaling_summary("parallel", "0")
    assert (again["sweep"]["computed"], again["sweep"]["reused"]) == (0, 6) and again["test_mse"] == serial["test_mse"]


@pytest.mark.parametrize("options, message", [
    (["--workers", "-1"], r"--workers -1: expected a whole number >= 0"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], r"--workers 2 with --scheduler"),
    (["--scheduler", " "], r"--scheduler is empty"),
])
def test_cli_refuses_sweep_options_that_cannot_be_meant(tmp_path, capsys, options, message):
    assert cli.main(["run", "depth-scaling", "--out", str(tmp_path / "out"), *options]) == cli.USAGE_ERROR
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_cli_refuses_sweep_options_for_an_experiment_that_does_not_sweep(tmp_path, capsys):
    assert cli.main(["run", "teacher-student", "--out", str(tmp_path), "--workers", "2"]) == cli.USAGE_ERROR
    assert "--scheduler and --workers apply to experiments that sweep; teacher-student does not" in \
        capsys.readouterr().err


def test_run_sweep_refuses_runs_that_are_not_json_parameters(tmp_path):
    with pytest.raises(SpecError, match="must be JSON values"):
        run_sweep(sample, [{"seed": object()}], tmp_path, workers=0)
    with pytest.raises(SpecError, match="a run is a dict of parameters"):
        run_sweep(sample, [3], tmp_path, workers=0)
