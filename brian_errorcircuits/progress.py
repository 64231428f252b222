"""Progress bars (tqdm, on stderr) over sweeps, epochs and presentations, builds included.

Bars are drawn only when stderr is a terminal, or when the environment
variable ``BRIAN_ERRORCIRCUITS_PROGRESS`` forces them (``1``) or turns them off
(``0``).  Without bars a run with ``report=True`` prints Brian2's own text
report instead, as before; ``BRIAN_ERRORCIRCUITS_PROGRESS=0`` brings that back
on a terminal too.

A simulation's bar (:class:`SimulationProgress`) counts the schedule's
presentations and is named after the segment running (``train-3``: epoch 3,
``probe-start``, ...); while Brian2 builds (Cython compiles its code objects,
``cpp_standalone`` runs ``make``) it says so and its clock keeps running.
"""
from __future__ import annotations

import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from brian2 import second
from tqdm import tqdm

#: Environment variable that forces bars on (1, true, yes, on) or off (0, false, no, off).
ENVIRONMENT_VARIABLE = "BRIAN_ERRORCIRCUITS_PROGRESS"

#: Report function of a ``cpp_standalone`` binary (C++ body): the simulated time reached, one line each.
STANDALONE_REPORT = 'std::cout << "errorcircuits-progress " << start + completed * duration << std::endl << std::flush;'
_STANDALONE_LINE = re.compile(r"^errorcircuits-progress (\S+)$", re.MULTILINE)


def cpu_seconds() -> float:
    """User and system time of this process and its finished children (compiler, standalone binary)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class Laps:
    """Wall and CPU seconds (:func:`cpu_seconds`) of consecutive phases of a run, for its summary."""

    def __init__(self):
        self.seconds = {}
        self._wall, self._cpu = time.perf_counter(), cpu_seconds()

    def lap(self, phase: str) -> None:
        """End ``phase`` (it began where the previous one ended) and record its times."""
        wall, cpu = time.perf_counter(), cpu_seconds()
        self.seconds[phase] = {"wall_s": wall - self._wall, "cpu_s": cpu - self._cpu}
        self._wall, self._cpu = wall, cpu


def enabled() -> bool:
    """Whether bars are drawn: forced by :data:`ENVIRONMENT_VARIABLE`, else when stderr is a terminal."""
    forced = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if forced in ("1", "true", "yes", "on"):
        return True
    if forced in ("0", "false", "no", "off"):
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def bar(iterable=None, **options):
    """A tqdm bar on stderr, silent (but iterating as usual) unless :func:`enabled`.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over (e.g. epochs, the sizes of a sweep).
    **options
        Passed to ``tqdm`` (``total``, ``desc``, ``unit``, ``leave``, ...).

    Returns
    -------
    tqdm.tqdm
    """
    return tqdm(iterable, file=sys.stderr, disable=not enabled(), dynamic_ncols=True, **options)


@contextmanager
def ticking(progress_bar, interval: float = 0.5):
    """Redraw ``progress_bar`` every ``interval`` seconds inside this block, so that its clock runs
    while nothing advances it (a spinner while Brian2 compiles)."""
    if progress_bar.disable:
        yield
        return
    with _repeating(progress_bar.refresh, interval):
        yield


@contextmanager
def _repeating(action, interval: float, once_more_at_end: bool = False):
    """Call ``action`` every ``interval`` seconds from a background thread inside this block
    (and once more as it ends, with ``once_more_at_end``)."""
    stop = threading.Event()

    def loop():
        while not stop.wait(interval):
            action()
        if once_more_at_end:
            action()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class SimulationProgress:
    """The bar of one simulation of a schedule: its presentations, named by the segment running.

    Parameters
    ----------
    schedule : Schedule
        What is simulated (its presentations' labels name the bar as it advances).
    target : str
        The code generation target, named while building.
    """

    def __init__(self, schedule, target: str):
        self.labels = schedule.labels
        self.duration = float(schedule.duration / second)
        self.bar = bar(total=len(schedule), unit="presentation", leave=False,
                       desc=f"building ({target})")

    @property
    def shown(self) -> bool:
        """Whether the bar is drawn (:func:`enabled` when it was made)."""
        return not self.bar.disable

    def phase(self, text: str) -> None:
        """Name what happens now (e.g. 'compiling (cpp_standalone)')."""
        self.bar.set_description_str(text)

    def reached(self, t: float) -> None:
        """The simulation reached time ``t`` (seconds): count the presentations done, name the segment."""
        done = min(len(self.labels), int(t / self.duration + 1e-9))
        self.bar.update(done - self.bar.n)
        self.phase(str(self.labels[min(done, len(self.labels) - 1)]))

    def __call__(self, elapsed, completed, start, duration) -> None:
        """Brian2's report function of a runtime run (numpy, Cython): ``network.run(report=self)``."""
        self.reached(float((start + completed * duration) / second))

    @contextmanager
    def following(self, stdout_path):
        """Follow a ``cpp_standalone`` binary's output file (its report lines, :data:`STANDALONE_REPORT`)
        inside this block."""
        if not self.shown:
            yield
            return
        with _repeating(lambda: self._read_times(stdout_path), 0.5, once_more_at_end=True):
            yield

    def _read_times(self, stdout_path) -> None:
        try:
            text = Path(stdout_path).read_text(errors="replace")
        except OSError:
            return
        times = _STANDALONE_LINE.findall(text)
        if times:
            self.reached(float(times[-1]))
        else:
            self.bar.refresh()

    def close(self) -> None:
        """Remove the bar (a finished run leaves no line behind)."""
        self.bar.close()

