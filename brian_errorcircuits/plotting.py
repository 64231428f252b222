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
ONSET_COLOR = "0.55"


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
    """Lay out ``fig`` (unless it has a layout engine of its own, e.g. constrained), write it to
    ``path`` atomically and close it (experiments make many figures); inside :func:`footnote` the
    figure carries that line in its lower right corner."""
    if fig.get_layout_engine() is None:
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


#: Legend entries of error rasters: sign, colour, label.
ERROR_SIGNS = ((1, POSITIVE_COLOR, "(+) error neuron: target above prediction"),
               (-1, NEGATIVE_COLOR, "(-) error neuron: target below prediction"))


def error_raster(times, indices, signs, ax=None, markersize=1.5):
    """Raster of an error population, (+) and (-) error neurons in two colours (labelled for a legend)."""
    signs = np.asarray(signs)
    for sign, color, label in ERROR_SIGNS:
        keep = signs == sign
        ax = raster(np.asarray(times)[keep], np.asarray(indices)[keep], ax=ax, color=color,
                    label=label, markersize=markersize)
    return ax


def learning_curves(curves: dict, ax=None, ylabel="test MSE", x=None, xlabel="epoch"):
    """One line per entry of ``curves`` (name -> values per epoch, epoch 0 = untrained).

    ``x`` (name -> x values, for curves measured on different schedules, e.g.
    training presentations seen) places the points; without it they sit at their epoch.
    """
    if ax is None:
        ax = pyplot().gca()
    for name, values in curves.items():
        where = np.arange(len(values)) if x is None or name not in x else np.asarray(x[name])
        ax.plot(where, values, marker="o", label=name)
    ax.set_yscale("log")
    ax.xaxis.get_major_locator().set_params(integer=True)  # epochs (or presentations) are whole numbers
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def raster_legend_handles(onsets: bool = True) -> list:
    """Legend entries of :func:`circuit_rasters`: representation spikes, (+) and (-) error spikes and,
    with ``onsets``, the presentation onset lines."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=REPRESENTATION_COLOR, marker="|", ls="", markersize=8,
                      label="representation neuron")]
    handles += [Line2D([], [], color=color, marker="|", ls="", markersize=8, label=label)
                for _, color, label in ERROR_SIGNS]
    if onsets:
        handles.append(Line2D([], [], color=ONSET_COLOR, lw=0.8, ls="--", label="presentation onset"))
    return handles



def alignment_bars(alignment: dict, ax=None, labels=None):
    """Per-area cosine between the circuit's error signal and backprop's, one bar per area and moment.

    Parameters
    ----------
    alignment : dict
        {moment: {area name: cosine or None}}, e.g. ``TrainingResult.alignment_by_name()``
        ({'start': ..., 'end': ...}); None marks an area that no error reaches (written under its bars).
    ax : matplotlib.axes.Axes, optional
    labels : dict, optional
        Legend text per moment (default: the moment's name).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        ax = pyplot().gca()
    labels = labels or {}
    areas = list(next(iter(alignment.values()), {}))
    width = 0.8 / max(len(alignment), 1)
    for j, (moment, values) in enumerate(alignment.items()):
        heights = [np.nan if values.get(area) is None else values[area] for area in areas]
        ax.bar(np.arange(len(areas)) + (j - (len(alignment) - 1) / 2) * width, heights, width,
               label=labels.get(moment, moment))
    for x, area in enumerate(areas):
        if all(values.get(area) is None for values in alignment.values()):
            ax.text(x, 0.02, "no error\npathway", ha="center", va="bottom", fontsize=7, color="0.4")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(np.arange(len(areas)), areas)
    ax.set_ylim(min(-0.1, np.nanmin([v for values in alignment.values() for v in values.values()
                                    if v is not None] or [0]) - 0.05), 1.3)  # room for the legend
    ax.set_xlabel("area")
    ax.set_ylabel("cosine(error neurons, backprop)")
    ax.legend(fontsize=8, loc="upper left", ncols=len(alignment))
    return ax


def circuit_rasters(spikes: dict, area_names, window=None, title=None, onsets=None):
    """A figure with one row per population: every area's representation and error neurons.

    Parameters
    ----------
    spikes : dict
        :attr:`RunResult.spikes`: {(area, 'P' or 'E'): {'t', 'i', 'n_neurons', 'sign' (error), ...}}.
    area_names : sequence of str
        Names of areas 1..L (the y labels; area 0 is 'input').
    window : tuple of float, optional
        (t0, t1) in seconds: the time axis shown.
    title : str, optional
        The figure's title, above the legend.
    onsets : array_like, optional
        Presentation onsets in seconds, drawn as dashed lines across every row.

    Returns
    -------
    matplotlib.figure.Figure
        The output area at the top, the input at the bottom; a legend names the
        colours ((+) red, (-) blue error neurons) and the onset lines.
    """
    plt = pyplot()
    n_areas = len(area_names)
    rows = [key for k in range(n_areas, 0, -1) for key in ((k, "E"), (k, "P"))] + [(0, "P")]
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 0.75 * len(rows) + 1.6), sharex=True, layout="constrained")
    for ax, key in zip(np.atleast_1d(axes), rows):
        entry = spikes.get(key)
        kind = "error (+/-)" if key[1] == "E" else "representation"
        name = "input" if key[0] == 0 else f"{area_names[key[0] - 1]}\n{kind}"
        if entry is not None:
            t, i = entry["t"], entry["i"]
            n = entry.get("n_neurons", int(i.max()) + 1 if len(i) else 1)
            size = float(np.clip(60.0 / n, 2.5, 8.0))  # about one row height per neuron
            keep = np.ones(len(t), bool) if window is None else (t >= window[0]) & (t < window[1])
            if key[1] == "E":
                error_raster(t[keep], i[keep], entry["sign"][keep], ax=ax, markersize=size)
            else:
                raster(t[keep], i[keep], ax=ax, markersize=size)
            ax.set_ylim(-0.5, n - 0.5)
            ax.set_yticks([0, n - 1] if n > 1 else [0])
            ax.tick_params(axis="y", labelsize=6)
        else:
            ax.set_yticks([])
        for onset in () if onsets is None else np.asarray(onsets, float):
            ax.axvline(onset, color=ONSET_COLOR, lw=0.8, ls="--", zorder=0)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_xlabel("")
        if window is not None:
            ax.set_xlim(*window)
    np.atleast_1d(axes)[-1].set_xlabel("time (s)")
    np.atleast_1d(axes)[-1].ticklabel_format(axis="x", useOffset=False)  # late windows read 3150.1, not 0.1 + 3.15e3
    np.atleast_1d(axes)[0].legend(handles=raster_legend_handles(onsets is not None), loc="lower center",
                                  bbox_to_anchor=(0.5, 1.02), ncols=2, fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def rate_trace(centres, rates, ax=None, label=None, color=None):
    """A PSTH or population rate (Hz) against time (s), as from :mod:`brian_errorcircuits.analysis`."""
    if ax is None:
        ax = pyplot().gca()
    ax.step(np.asarray(centres), np.asarray(rates), where="mid", label=label, color=color)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    return ax
