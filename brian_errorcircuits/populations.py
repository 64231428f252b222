"""Unit-level circuits as populations of neurons: the same mean field, one neuron at a time.

:func:`neuron_level` replaces every unit of a circuit (input, representation
and error) by ``m`` neurons.  Unit i of an area becomes neurons
``i*m .. i*m + m - 1``; task inputs and targets reach those neurons through
``CircuitSpec.input_units`` / ``output_units``.  Synapses are scaled by fan-in:
every neuron pair of a unit pair (u, v) starts with the weight W_uv / m and
learns with eta / m, so the m synapses a neuron receives from unit v sum to
W_uv and their summed change to the unit-level change.  Lateral matrices
couple each error neuron with the representation neuron of the same unit and
the same position in it (M kron I_m).  Per-neuron values (slope and offset
of phi, initial voltage) are repeated, or with ``draw_per_neuron`` drawn
for every neuron from the spec's spreads, so that the neurons of one unit
differ (heterogeneity within units).

With these tied values the population circuit's rate mode *is* the unit-level
rate network (every neuron of a unit follows the same trajectory), so the
unit-level rate network is the mean field of the neuron-level spiking one.

Sparse wiring (``connectivity``, see :mod:`~brian_errorcircuits.connectivity`)
connects each neuron pair of a projection with probability q (the table's
density, or K_p / N_source for a fixed in-degree), drawn from ``spec.seed`` on
a stream of its own (switching it on changes no other draw).  Fan-in
normalisation keeps the mean field: a connected pair of unit pair (u, v)
starts with W_uv / (m q) and learns with eta / (m q) (``Projection.eta_scale``
= 1 / q), so a neuron receives on average m q synapses from unit v whose
weights sum to W_uv in expectation,

    E[ sum over synapses from unit v of w ] = m q * W_uv / (m q) = W_uv,

and whose summed change is the unit-level change.  The table's density thus
acts twice: in the unit-level weights (their range is density x U(-s, s)) and
as the probability of each synapse; sparsity adds quenched variance across
neurons, never a bias.  With backprop feedback the error travels down
through the same synapses; feedback-alignment weights are wired and
normalised like the forward ones.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from .arrays import CircuitArrays, on_synapses
from .connectivity import draw_wiring
from .spec import CircuitSpec, DeadEndWarning, SpecError, is_count

#: seed stream of the wiring: default_rng([spec.seed, WIRING_STREAM]) (weights use seed, laterals [seed, 1])
WIRING_STREAM = 2


def _validated(spec: CircuitSpec) -> CircuitSpec:
    """``spec.validate()`` without its DeadEndWarning: the circuit built from the result warns once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeadEndWarning)
        return spec.validate()


def neuron_level(spec: CircuitSpec, neurons_per_unit: int, arrays: CircuitArrays | None = None,
                 connectivity="dense", draw_per_neuron: bool = False, **changes) -> tuple:
    """(spec, arrays) of ``spec``'s circuit with ``neurons_per_unit`` neurons per unit.

    ``arrays``: the unit-level values (default: drawn from ``spec``);
    ``connectivity``: ``'dense'`` (every neuron pair of a projection),
    ``'density'`` (each pair with the projection's density as probability) or
    ``('in_degree', K)`` (see :mod:`~brian_errorcircuits.connectivity`), for the
    bottom-up projections and, with feedback alignment, the top-down ones;
    ``changes``: CircuitSpec fields changed first, at the unit level (e.g.
    ``mode='spiking'``; an ``eta`` given here is divided by m like the others).
    ``draw_per_neuron``: draw every neuron's slope, offset and initial voltage
    from the spec's ``heterogeneity_rep`` / ``heterogeneity_err`` /
    ``initial_voltage_spread`` (seeded by ``spec.seed``) instead of repeating
    the unit's values; the circuit then is no longer its unit-level twin.
    The result's ``input_units`` / ``output_units`` are the unit-level sizes, so
    tasks written for ``spec`` run on it unchanged.
    """
    spec = _validated(spec.replace(**changes))
    m = neurons_per_unit
    if not is_count(m):
        raise SpecError(f"neurons_per_unit={m!r} must be a whole number >= 1")
    if spec.input_units != spec.layers[0] or spec.output_units != spec.layers[-1]:
        raise SpecError("neuron_level expects a unit-level spec (one neuron per task unit)")
    units = arrays if arrays is not None else CircuitArrays.draw(spec)
    if any(mask is not None for mask in units.connectivity + units.feedback_connectivity):
        raise SpecError("neuron_level wires the neurons itself: give unit-level arrays without connectivity masks")
    rng = np.random.default_rng([spec.seed, WIRING_STREAM])
    n, n_err = spec.layers, spec.error_sizes
    forward = [draw_wiring(connectivity, p, (m * n[p.target], m * n[p.source]), rng) for p in spec.projections]
    sparse_feedback = spec.feedback == "feedback_alignment"
    feedback = [draw_wiring(connectivity, p, (m * n_err[p.target - 1], m * n_err[p.source - 1]), rng)
                if sparse_feedback else (None, 1.0) for p in spec.feedback_projections]
    population = spec.replace(
        layers=tuple(m * size for size in n), error_sizes=tuple(m * size for size in n_err),
        input_units=n[0], output_units=n[-1], eta=tuple(eta / m for eta in spec.eta), init_scale=None,
        projections=tuple(dataclasses.replace(p, eta_scale=p.eta_scale / q)
                          for p, (_, q) in zip(spec.projections, forward)),
    )
    if draw_per_neuron:
        neurons = CircuitArrays.neuron_values(population)
    else:
        neurons = [None] + [{kind: {name: np.repeat(v, m) for name, v in values.items()}
                             for kind, values in area.items()} for area in units.neurons[1:]]
    tied = CircuitArrays(
        weights=[_tied(W, m, wiring) for W, wiring in zip(units.weights, forward)],
        feedback_weights=[_tied(B, m, wiring) for B, wiring in zip(units.feedback_weights, feedback)],
        feedback_noise=[_tied(X, m, wiring) for X, wiring in zip(units.feedback_noise, forward)],
        lateral=[None] + [{name: np.kron(M, np.eye(m)) for name, M in area.items()} for area in units.lateral[1:]],
        neurons=neurons,
        connectivity=[mask for mask, _ in forward],
        feedback_connectivity=[mask for mask, _ in feedback],
    )
    return _validated(population), tied


def _tied(matrix: np.ndarray, m: int, wiring: tuple) -> np.ndarray:
    """A unit-level matrix on the synapses of ``wiring`` = (mask, q): W_uv / (m q) per connected pair."""
    mask, q = wiring
    return on_synapses(np.kron(matrix, np.ones((m, m)) / (m * q)), mask)


def unit_means(values: np.ndarray, neurons_per_unit: int) -> np.ndarray:
    """Per-unit means of per-neuron values (samples, units * m) -> (samples, units)."""
    values = np.atleast_2d(values)
    return values.reshape(len(values), -1, neurons_per_unit).mean(axis=2)


__all__ = ["neuron_level", "unit_means"]
