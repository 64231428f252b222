"""The benchmarks' shared timing helpers (benchmarks/timing.py) measure and summarise what they say."""
import sys
import time
from pathlib import Path

import brian2 as b2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from timing import interleaved, spread, timed, use_threads  # noqa: E402


def test_spread_gives_minimum_and_median():
    assert spread([3, 1, 2, 10]) == {"min": 1.0, "median": 2.5, "values": [3.0, 1.0, 2.0, 10.0]}


def test_interleaved_runs_one_case_of_each_per_round():
    calls = []
    results = interleaved({"a": lambda: calls.append("a") or len(calls), "b": lambda: calls.append("b") or len(calls)}, 3)
    assert calls == ["a", "b"] * 3
    assert results == {"a": [1, 3, 5], "b": [2, 4, 6]}
    with pytest.raises(ValueError):
        interleaved({"a": lambda: None}, 0)


def test_timed_separates_wall_from_cpu_time():
    record = {}
    with timed(record, "sleep"):
        time.sleep(0.2)
    assert 0.2 <= record["sleep_wall_s"] < 1.0
    assert record["sleep_cpu_s"] < 0.1  # sleeping costs (almost) no CPU time
    with timed(record, "busy"):
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
    assert record["busy_cpu_s"] >= 0.2


def test_one_thread_means_no_openmp():
    saved = b2.prefs.devices.cpp_standalone.openmp_threads
    try:
        use_threads(1)
        assert b2.prefs.devices.cpp_standalone.openmp_threads == 0
        use_threads(2)
        assert b2.prefs.devices.cpp_standalone.openmp_threads == 2
    finally:
        b2.prefs.devices.cpp_standalone.openmp_threads = saved
