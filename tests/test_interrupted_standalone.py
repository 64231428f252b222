"""A cpp_standalone run killed with kill -9 leaves no process behind, and a rerun into its folder is exact.

A 2-2-1 rate circuit runs in a subprocess; once its binary runs, the
subprocess gets SIGKILL (no handler can run).  Its children (the guard and
``./main``) must be gone within a few seconds, and a rerun into the same build
folder (holding the killed run's half-written results) must equal an
uninterrupted run in a fresh folder.  Two compiles: opt-in (slow).
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import brian_errorcircuits

pytestmark = [pytest.mark.standalone, pytest.mark.slow]

REPOSITORY = Path(brian_errorcircuits.__file__).resolve().parent.parent

#: One run: build folder and result file from the command line; 3.2 million steps, about 5 s of binary (enough to be caught running).
RUN_SCRIPT = """
import sys
import brian2 as b2
import numpy as np
from brian_errorcircuits import CircuitSpec, ErrorCircuit

spec = CircuitSpec(layers=(2, 2, 1), mode="rate", eta=(5 * b2.Hz, 5 * b2.Hz), target="cpp_standalone", seed=3)
circuit = ErrorCircuit(spec, build_dir=sys.argv[1])
rng = np.random.default_rng(0)
x, y = rng.uniform(0, 1, (400, 2)), rng.uniform(-0.5, 0.5, (400, 1))
result = circuit.run(circuit.block(x, y, learning=True, duration=2 * b2.second, settle=0.5 * b2.second))
np.savez(sys.argv[2], outputs=result.outputs, *result.weights_after)
"""


def start_run(tmp_path, build: str, results: str) -> subprocess.Popen:
    script = tmp_path / "run.py"
    script.write_text(RUN_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / build), str(tmp_path / results)], env=env)


def descendants(pid: int) -> dict:
    """{pid: command line} of every living descendant of ``pid`` (from /proc)."""
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if stat[0] != "Z":
                parents[int(entry.name)] = int(stat[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = commands[child]
                frontier.append(child)
    return found


def living(pids) -> list:
    """Those of ``pids`` that still run (not gone, not zombies)."""
    alive = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                alive.append(pid)
        except OSError:
            pass
    return alive


def results(path) -> list:
    with np.load(path) as saved:
        return [saved[name] for name in sorted(saved.files)]


def test_kill_9_during_the_binary_leaves_no_process_and_a_rerun_is_exact(tmp_path):
    run = start_run(tmp_path, "build", "killed.npz")
    deadline = time.monotonic() + 300
    children = {}
    while not any(command.split()[:1] == ["./main"] for command in children.values()):
        assert run.poll() is None, "the run ended before its binary was caught running"
        assert time.monotonic() < deadline, "the binary never started"
        time.sleep(0.01)
        children = descendants(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    for _ in range(40):  # 2 s: the guard looks every 50 ms; unguarded, the binary would run on for about 5 s
        if not living(children):
            break
        time.sleep(0.05)
    assert living(children) == [], f"left running after kill -9: {[children[pid] for pid in living(children)]}"
    assert not (tmp_path / "killed.npz").exists()

    for build, name in (("build", "rerun.npz"), ("fresh", "uninterrupted.npz")):
        assert start_run(tmp_path, build, name).wait(timeout=600) == 0
    for rerun, uninterrupted in zip(results(tmp_path / "rerun.npz"), results(tmp_path / "uninterrupted.npz")):
        np.testing.assert_array_equal(rerun, uninterrupted)
