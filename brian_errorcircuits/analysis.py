"""Measures of a run: alignment with backprop, rates from spikes, PSTHs, Neo export."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from .network import Recording
from .reference import backprop_weight_updates
from .spec import SpecError


def angle_degrees(a, b) -> float:
    """Angle between two arrays seen as vectors (NaN, undefined, if either is zero)."""
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return float("nan")
    a, b = a / norm_a, b / norm_b
    # 2 atan2(|a - b|, |a + b|) stays accurate near 0 and 180 degrees, unlike arccos
    return float(np.degrees(2 * np.arctan2(np.linalg.norm(a - b), np.linalg.norm(a + b))))


def angle_medians(angles) -> list:
    """Per projection, the median of an array (presentations, projections) of angles.

    Undefined angles (NaN: no weight change or no gradient, e.g. once a
    circuit has learned its task to rounding error) are left out; a
    projection without any defined angle gives None.
    """
    angles = np.asarray(angles, float)
    defined = ~np.isnan(angles)
    return [float(np.median(column[ok])) if ok.any() else None for column, ok in zip(angles.T, defined.T)]


def rank_correlation(a, b):
    """Spearman's rank correlation of two equally long sequences (``scipy.stats.spearmanr``: ties
    share their mean rank).

    None where it is undefined: fewer than two values, or one sequence constant.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def presentation_angles(spec, weights, changes, inputs, targets, neurons=None) -> np.ndarray:
    """Angle (degrees) of each presentation's weight change to backprop's update for its sample.

    ``weights`` / ``changes``: per projection, arrays (presentations, n_target,
    n_source) of the weights at the start of each presentation and how they
    changed over it; ``neurons``: the circuit's per-neuron values
    (``CircuitArrays.neurons``; default homogeneous), which backprop's update
    depends on.  Returns an array (presentations, projections).

    Per presentation, as the original's protocol (Max et al. 2026) measures it, not summed over samples: near a minimum the samples' gradients
    nearly cancel in a sum, and the angle of the sum then measures the small
    second-order effect of nudged presynaptic rates rather than the update.
    """
    inputs, targets = np.asarray(inputs, float), np.asarray(targets, float)
    angles = np.empty((len(inputs), len(spec.projections)))
    for i in range(len(inputs)):
        gradients = backprop_weight_updates(spec, [W[i] for W in weights], inputs[i:i + 1], targets[i:i + 1],
                                            neurons)
        angles[i] = [angle_degrees(change[i], g) for change, g in zip(changes, gradients)]
    return angles


def training_angles(result) -> dict:
    """:func:`presentation_angles` of the presentations of ``result`` with plasticity on.

    Returns {segment label: array (presentations, projections)}, segments in
    schedule order (e.g. one per training epoch).  ``result`` must have
    recorded weights once per presentation
    (``Recording(weights=True, dt=schedule.duration)``).
    """
    schedule = result.schedule
    samples = result.states.get("weights")
    if samples is None or len(samples[0]) != len(schedule):
        raise SpecError("weight-update angles need weights recorded once per presentation: "
                        "Recording(weights=True, dt=<presentation duration>)")
    starts = [np.concatenate([W, after[None]]) for W, after in zip(samples, result.weights_after)]
    changes = [np.diff(W, axis=0) for W in starts]
    learning = np.flatnonzero(schedule.learning)
    segments = {}
    for label in dict.fromkeys(schedule.labels[learning]):
        idx = learning[schedule.labels[learning] == label]
        segments[label] = presentation_angles(result.spec, [W[idx] for W in starts], [d[idx] for d in changes],
                                              schedule.inputs[idx], schedule.targets[idx], result.neurons)
    return segments


def weight_update_angles(circuit, inputs, targets, **timing) -> list:
    """Median over presentations of each projection's :func:`presentation_angles`.

    The circuit learns over one block of presentations of (inputs, targets)
    from its current weights, which are restored afterwards, so the
    measurement leaves a trained circuit as it was.
    """
    start = circuit.arrays.copy()
    block = circuit.block(inputs, targets, learning=True, label="angle-probe", **timing)
    try:
        result = circuit.run(block, Recording(weights=True, dt=block.duration))
    finally:
        circuit.arrays = start
    return angle_medians(np.concatenate(list(training_angles(result).values())))


def _binned_rate(times, start: float, stop: float, bin_width: float, neurons: int):
    """(bin centres, spikes per neuron per second) of ``times`` in bins from start to stop."""
    edges = np.arange(start, stop + bin_width / 2, bin_width)
    counts, _ = np.histogram(times, edges)
    return (edges[:-1] + edges[1:]) / 2, counts / (neurons * bin_width)


def population_rate(times, n_neurons: int, t_start: float, t_stop: float, bin_width: float):
    """Mean firing rate (Hz) per neuron of a population in bins: (bin centres, rates)."""
    return _binned_rate(times, t_start, t_stop, bin_width, n_neurons)


def psth(times, onsets, window: tuple, bin_width: float, n_neurons: int = 1):
    """Peri-stimulus time histogram: rate (Hz per neuron) around each onset, averaged over onsets.

    ``window`` = (before, after) in seconds relative to each onset, e.g. (-0.05, 0.2).
    """
    onsets = np.atleast_1d(onsets)
    relative = np.concatenate([np.asarray(times) - onset for onset in onsets])
    return _binned_rate(relative, window[0], window[1], bin_width, len(onsets) * n_neurons)


def decoded_rates(entry: dict, n_units: int, edges) -> np.ndarray:
    """Spike rate per unit in each window [edges[j], edges[j+1]) in Hz per neuron, signed for errors.

    For an error population the (-) neurons count negatively, so the result is
    rate_err times the signed error the population carries.
    """
    per_sign = entry["per_unit"] // (2 if "sign" in entry else 1)
    weights = entry.get("sign", np.ones(len(entry["t"])))
    counts, _, _ = np.histogram2d(entry["t"], entry["unit"], bins=[np.asarray(edges), np.arange(n_units + 1)],
                                  weights=weights)
    return counts / (per_sign * np.diff(edges)[:, None])


def to_neo(result, area_names=None) -> list:
    """Spike trains of a :class:`RunResult` as ``neo.SpikeTrain`` objects (one per neuron).

    Each train carries units (s), ``t_stop`` = the run's length and
    annotations ``area``, ``population`` ('input', 'representation' or
    'error'), ``unit``, ``neuron`` and, for error neurons, ``sign`` (+1/-1),
    so Elephant's analyses apply directly.  Needs the ``neo`` package.
    """
    import neo
    import quantities as pq

    names = area_names or result.spec.area_names
    t_stop = float(result.schedule.total_time)  # seconds
    trains = []
    for (k, pop), entry in sorted(result.spikes.items()):
        population = "input" if k == 0 else ("error" if pop == "E" else "representation")
        order = np.argsort(entry["i"], kind="stable")
        neurons, starts = np.unique(entry["i"][order], return_index=True)
        by_neuron = dict(zip(neurons, np.split(entry["t"][order], starts[1:])))
        for n in range(entry["n_neurons"]):
            annotations = {"area": "input" if k == 0 else names[k - 1], "population": population,
                           "unit": n // entry["per_unit"], "neuron": n}
            if pop == "E":
                annotations["sign"] = int(entry["neuron_sign"][n])
            trains.append(neo.SpikeTrain(np.sort(by_neuron.get(n, np.empty(0))) * pq.s, t_stop=t_stop * pq.s,
                                         **annotations))
    return trains
