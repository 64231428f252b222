"""Progress bars: silent when stderr is not a terminal, drawn when forced by the environment variable."""
import io

import brian2 as b2
import numpy as np

from brian_errorcircuits import CircuitSpec, ErrorCircuit
from brian_errorcircuits.progress import ENVIRONMENT_VARIABLE, bar, enabled


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


def captured_stderr(monkeypatch, stream=None):
    """Replace sys.stderr by ``stream`` (default a StringIO: not a terminal) and return it; inside the
    test itself, as pytest sets its own capture between a fixture's setup and the test."""
    stream = io.StringIO() if stream is None else stream
    monkeypatch.setattr("sys.stderr", stream)
    return stream


def test_silent_when_stderr_is_not_a_terminal(monkeypatch):
    stderr = captured_stderr(monkeypatch)
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    assert not enabled()
    assert list(bar(range(3), desc="epochs")) == [0, 1, 2]
    assert stderr.getvalue() == ""


def test_drawn_on_a_terminal_unless_turned_off(monkeypatch):
    terminal = captured_stderr(monkeypatch, Terminal())
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    assert enabled()
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "0")
    assert not enabled()
    list(bar(range(3), desc="epochs"))
    assert terminal.getvalue() == ""


def test_forcing_draws_the_bar_of_a_run_named_by_its_segments(monkeypatch):
    """Forced (BRIAN_ERRORCIRCUITS_PROGRESS=1) into a non-terminal: a bar over the run's presentations,
    named by the segments (test-0, train-1, ...), and no Brian2 text report on stdout."""
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1")
    stderr = captured_stderr(monkeypatch)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    assert list(bar(range(2), desc="sweep")) == [0, 1]
    assert "sweep" in stderr.getvalue() and "2/2" in stderr.getvalue()
    circuit = ErrorCircuit(CircuitSpec(layers=(2, 2, 1), mode="rate", eta=5 * b2.Hz, target="numpy", seed=0))
    x = np.random.default_rng(0).uniform(0, 1, (2, 2))
    circuit.train(x, x[:, :1], x, x[:, :1], epochs=1, duration=20 * b2.ms, settle=5 * b2.ms, report=True)
    drawn = stderr.getvalue()
    assert "building (numpy)" in drawn and "presentation" in drawn and "/6" in drawn
    assert "test-0" in drawn or "train-1" in drawn
    assert "simulated in" not in stdout.getvalue()
