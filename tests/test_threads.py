"""OpenMP threads of cpp_standalone binaries: CircuitSpec(threads=...), ERRORCIRCUITS_THREADS and
``errorcircuits run --threads N``, all checked before anything compiles."""
import brian2 as b2
import pytest

from brian_errorcircuits import CircuitSpec, SpecError
from brian_errorcircuits.circuit import THREADS_ENV, brian_session, standalone_threads
from brian_errorcircuits.cli import main

STANDALONE = CircuitSpec(layers=(2, 2), mode="rate", target="cpp_standalone")


@pytest.mark.parametrize("threads, target, message", [
    (0, "cpp_standalone", "expected a whole number >= 1"),
    (1.5, "cpp_standalone", "expected a whole number >= 1"),
    (2, "cython", "needs target='cpp_standalone'"),
    (2, "numpy", "needs target='cpp_standalone'"),
])
def test_spec_refuses_threads_it_cannot_use(threads, target, message):
    with pytest.raises(SpecError, match=message):
        CircuitSpec(layers=(2, 2), mode="rate", target=target, threads=threads).validate()


def test_spec_threads_win_over_the_environment_which_wins_over_one(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert standalone_threads(STANDALONE) == 1
    monkeypatch.setenv(THREADS_ENV, "2")
    assert standalone_threads(STANDALONE) == 2
    assert standalone_threads(STANDALONE.replace(threads=3)) == 3
    monkeypatch.setenv(THREADS_ENV, "two")
    with pytest.raises(SpecError, match="ERRORCIRCUITS_THREADS='two'"):
        standalone_threads(STANDALONE)


@pytest.mark.parametrize("threads, openmp", [(1, 0), (2, 2)])
def test_standalone_session_sets_openmp_threads_and_restores_them(tmp_path, threads, openmp):
    """One thread builds plain code (Brian2's openmp_threads = 0); more turn OpenMP on; afterwards the
    preference is as it was."""
    before = b2.prefs["devices.cpp_standalone.openmp_threads"]
    with brian_session(STANDALONE.replace(threads=threads), 0, build_dir=str(tmp_path)):
        assert b2.prefs["devices.cpp_standalone.openmp_threads"] == openmp
    assert b2.prefs["devices.cpp_standalone.openmp_threads"] == before


def test_cli_refuses_zero_threads_before_the_output_folder_exists(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    out = tmp_path / "run"
    assert main(["run", "teacher-student", "--threads", "0", "--out", str(out)]) == 2
    assert "--threads 0: expected a whole number >= 1" in capsys.readouterr().err
    assert not out.exists()
