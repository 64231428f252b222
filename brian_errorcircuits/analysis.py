"""Measures of a run: alignment with backprop, rates from spikes, PSTHs, Neo export."""
from __future__ import annotations

from dataclasses import replace

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


def weight_update_angles(circuit, inputs, targets, recording: Recording = Recording(), **timing) -> list:
    """Median over presentations of each projection's :func:`presentation_angles`.

    The circuit learns over one block of presentations (segment ``'angle-probe'``)
    of (inputs, targets) from its current weights, which are restored afterwards,
    so the measurement leaves a trained circuit as it was.  ``recording``: what
    else the run records (weights are recorded once per presentation in any
    case); the recording of the circuit's other runs lets them share its build.
    """
    start = circuit.arrays.copy()
    block = circuit.block(inputs, targets, learning=True, label="angle-probe", **timing)
    try:
        result = circuit.run(block, replace(recording, weights=True, dt=block.duration))
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


_POPULATION_NAMES = {"P": "representation", "E": "error"}


def schedule_segments(schedule) -> list:
    """The schedule's segments in time order: [(label, first presentation, end presentation), ...].

    A segment is a maximal run of consecutive presentations with the same
    label, so a label that recurs later (e.g. ``'a'``, ``'b'``, ``'a'``) gives
    two segments.
    """
    labels = schedule.labels
    starts = np.concatenate([[0], np.flatnonzero(labels[1:] != labels[:-1]) + 1])
    ends = np.concatenate([starts[1:], [len(labels)]])
    return [(labels[s], int(s), int(e)) for s, e in zip(starts, ends)]


def spiking_cells(spec) -> dict:
    """Spiking cells per population, {(area, 'P'|'E'): count}, areas in order, P before E.

    The cells are those of ``RunResult.spikes``: the Poisson generators of the
    sampled mode; in the neuron-level spiking mode the neurons, each error
    neuron counted twice (its positive- and negative-error spikes).
    """
    p = spec.neuron
    sampled = spec.mode == "sampled"
    cells = {(0, "P"): spec.layers[0] * (p.input_neurons if sampled else 1)}
    for k in range(1, spec.n_areas + 1):
        cells[(k, "P")] = spec.layers[k] * (p.n_rep if sampled else 1)
        cells[(k, "E")] = spec.error_sizes[k - 1] * 2 * (p.n_err if sampled else 1)
    return cells


def to_neo(result, recording: Recording | None = None):
    """The spikes of a run as a ``neo.Block``, so that Elephant's analyses apply directly.

    Parameters
    ----------
    result : RunResult
        A run of a spiking mode with spikes recorded.
    recording : Recording, optional
        The recording the run was made with (default: ``result.recording``,
        which :meth:`ErrorCircuit.run` keeps): its ``spike_segments`` say which
        parts of the run hold spikes (a train that also spanned the unrecorded
        parts would understate every rate).

    Returns
    -------
    neo.Block
        One ``Segment`` per recorded schedule segment (see
        :func:`schedule_segments`; every segment when ``spike_segments`` is
        None), named by its label.  Each holds one ``SpikeTrain`` per spiking
        cell of every recorded population, spanning the segment's own time
        (t_start, t_stop in s), and an ``Epoch`` of its presentations: onsets,
        durations, the label, and as array annotations the schedule index
        ``presentation``, ``input_<u>`` and ``target_<u>`` per task unit u,
        ``target_on`` and ``learning``.  A train's annotations: ``area`` (name,
        or ``'input'``), ``population`` (``'input'``, ``'representation'`` or
        ``'error'``), ``neuron`` (index in its population), ``unit`` (the
        neuron of the description it reads out: ``neuron // per_unit``),
        ``sign`` (+1 / -1, error cells only) and ``neuron_id``, unique in the
        circuit (see :func:`spiking_cells` for the order) and the same in
        every segment and whichever areas were recorded.  The block's
        ``groups`` hold one ``neo.Group`` per population with its trains of
        every segment.
    """
    import neo

    if not result.spikes:
        raise SpecError("to_neo needs spikes: run a spiking mode with Recording(spikes=True)")
    spec, schedule = result.spec, result.schedule
    recording = result.recording if recording is None else recording
    if recording is None:
        raise SpecError("to_neo needs the Recording the run used (this result keeps none)")
    recorded = recording.spike_segments
    segments = [(label, first, end) for label, first, end in schedule_segments(schedule)
                if recorded is None or label in recorded]
    dt = float(spec.dt)  # seconds; boundaries as step * dt, the arithmetic of Brian2's spike times
    steps_per_presentation = int(round(float(schedule.duration / spec.dt)))
    cells = spiking_cells(spec)
    first_ids = dict(zip(cells, np.cumsum([0, *cells.values()])))
    recorded_populations = [key for key in cells if key in result.spikes]
    block = neo.Block(name="brian_errorcircuits run", mode=spec.mode, seed=spec.seed)
    groups = {(k, pop): neo.Group(name=f"{_area_name(spec, k)} {_population_name(k, pop)}",
                                  allowed_types=[neo.SpikeTrain], area=_area_name(spec, k),
                                  population=_population_name(k, pop))
              for k, pop in recorded_populations}
    for index, (label, first, end) in enumerate(segments):
        steps = (first * steps_per_presentation, end * steps_per_presentation)
        segment = neo.Segment(name=str(label), index=index, first_presentation=first, presentations=end - first)
        segment.epochs.append(_presentations_epoch(schedule, first, end, steps_per_presentation * dt))
        for key in recorded_populations:
            trains = _population_trains(spec, key, result.spikes[key], steps, dt, first_ids[key])
            segment.spiketrains.extend(trains)
            groups[key].spiketrains.extend(trains)
        block.segments.append(segment)
    block.groups.extend(groups.values())
    block.check_relationships()
    return block


def _area_name(spec, k: int) -> str:
    return "input" if k == 0 else spec.area_names[k - 1]


def _population_name(k: int, pop: str) -> str:
    return "input" if k == 0 else _POPULATION_NAMES[pop]


def _population_trains(spec, key, entry, steps: tuple, dt: float, first_id: int) -> list:
    """One ``neo.SpikeTrain`` per cell of a population: its spikes in time steps [start, stop)."""
    import neo
    import quantities as pq

    k, pop = key
    step = np.rint(entry["t"] / dt)
    inside = (step >= steps[0]) & (step < steps[1])
    t_start, t_stop = steps[0] * dt, steps[1] * dt
    cells, times = entry["i"][inside], entry["t"][inside]
    order = np.lexsort((times, cells))
    counts = np.bincount(cells, minlength=entry["n_neurons"])
    by_cell = np.split(times[order], np.cumsum(counts)[:-1])
    trains = []
    for n, spikes in enumerate(by_cell):
        annotations = {"area": _area_name(spec, k), "population": _population_name(k, pop), "neuron": n,
                       "unit": n // entry["per_unit"], "neuron_id": int(first_id + n)}
        if pop == "E":
            annotations["sign"] = int(entry["neuron_sign"][n])
        trains.append(neo.SpikeTrain(spikes * pq.s, t_start=t_start * pq.s, t_stop=t_stop * pq.s,
                                     name=f"{annotations['area']} {annotations['population']} {n}", **annotations))
    return trains


def _presentations_epoch(schedule, first: int, end: int, duration: float):
    """A ``neo.Epoch`` of presentations first..end-1 (``duration`` in s each): onsets, durations,
    labels and what was shown."""
    import neo
    import quantities as pq

    index = np.arange(first, end)
    shown = {"presentation": index, "target_on": schedule.target_on[index],
             "learning": schedule.learning[index]}
    shown.update({f"input_{u}": column for u, column in enumerate(schedule.inputs[index].T)})
    shown.update({f"target_{u}": column for u, column in enumerate(schedule.targets[index].T)})
    return neo.Epoch(times=index * duration * pq.s, durations=np.full(len(index), duration) * pq.s,
                     labels=schedule.labels[index].astype(str), name="presentations", array_annotations=shown)
