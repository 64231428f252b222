"""Plot helpers: arrays in, ``ax=None`` accepted, the axes returned.

matplotlib is imported lazily; without a display it picks a non-interactive
backend by itself, so the helpers work on headless machines too.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

import numpy as np

from .files import atomic_path

POSITIVE_COLOR = "tab:red"
NEGATIVE_COLOR = "tab:blue"
REPRESENTATION_COLOR = "black"


def pyplot():
    """matplotlib.pyplot, imported on first use (plots cost nothing until asked for)."""
    import matplotlib.pyplot as plt

    return plt


#: A line that :func:`save_figure` writes into the corner of every figure (see :func:`footnote`).
_FOOTNOTE = contextvars.ContextVar("figure_footnote", default=None)


@contextmanager
def footnote(text: str):
    """Stamp ``text`` (e.g. the mode that produced them) on every figure saved inside this block."""
    token = _FOOTNOTE.set(text)
    try:
        yield
    finally:
        _FOOTNOTE.reset(token)


def save_figure(fig, path, dpi=120) -> None:
    """Lay out ``fig``, write it to ``path`` atomically and close it (experiments make many figures);
    inside :func:`footnote` the figure carries that line in its lower right corner."""
    fig.tight_layout()
    if _FOOTNOTE.get():
        fig.text(0.995, 0.003, _FOOTNOTE.get(), ha="right", va="bottom", fontsize=6, color="0.4")
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=dpi)
    pyplot().close(fig)


def raster(times, indices, ax=None, color=REPRESENTATION_COLOR, label=None, markersize=1.5):
    """Spike raster: ``times`` in seconds against neuron ``indices``."""
    if ax is None:
        ax = pyplot().gca()
    ax.plot(np.asarray(times), np.asarray(indices), "|", color=color, markersize=markersize, label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    return ax


def error_raster(times, indices, signs, ax=None, markersize=1.5):
    """Raster of an error population, (+) and (-) error neurons in two colours."""
    signs = np.asarray(signs)
    for sign, color, label in ((1, POSITIVE_COLOR, "+ error"), (-1, NEGATIVE_COLOR, "- error")):
        keep = signs == sign
        ax = raster(np.asarray(times)[keep], np.asarray(indices)[keep], ax=ax, color=color,
                    label=label, markersize=markersize)
    return ax


def learning_curves(curves: dict, ax=None, ylabel="test MSE"):
    """One line per entry of ``curves`` (name -> values per epoch, epoch 0 = untrained)."""
    if ax is None:
        ax = pyplot().gca()
    for name, values in curves.items():
        ax.plot(np.arange(len(values)), values, marker="o", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def circuit_rasters(spikes: dict, area_names, window=None, title=None):
    """A figure with one row per population: every area's representation and error neurons.

    ``spikes`` is :attr:`RunResult.spikes`, ``area_names`` the names of areas
    1..L; ``window`` = (t0, t1) in seconds restricts the time axis.  The
    output area is at the top, the input at the bottom.
    """
    plt = pyplot()
    n_areas = len(area_names)
    rows = [key for k in range(n_areas, 0, -1) for key in ((k, "E"), (k, "P"))] + [(0, "P")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 0.9 * len(rows) + 1.5), sharex=True)
    for ax, key in zip(np.atleast_1d(axes), rows):
        entry = spikes.get(key)
        kind = "error" if key[1] == "E" else "repr."
        name = "input" if key[0] == 0 else f"{area_names[key[0] - 1]} {kind}"
        if entry is not None:
            t, i = entry["t"], entry["i"]
            keep = np.ones(len(t), bool) if window is None else (t >= window[0]) & (t < window[1])
            if key[1] == "E":
                error_raster(t[keep], i[keep], entry["sign"][keep], ax=ax)
            else:
                raster(t[keep], i[keep], ax=ax)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_yticks([])
        ax.set_xlabel("")
        if window is not None:
            ax.set_xlim(*window)
    np.atleast_1d(axes)[-1].set_xlabel("time (s)")
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.97) if title else None)
    return fig


def rate_trace(centres, rates, ax=None, label=None, color=None):
    """A PSTH or population rate (Hz) against time (s), as from :mod:`brian_errorcircuits.analysis`."""
    if ax is None:
        ax = pyplot().gca()
    ax.step(np.asarray(centres), np.asarray(rates), where="mid", label=label, color=color)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    return ax
