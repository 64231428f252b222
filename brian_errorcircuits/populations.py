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
"""
from __future__ import annotations

import numpy as np

from .arrays import CircuitArrays
from .spec import CircuitSpec, SpecError, is_count


def neuron_level(spec: CircuitSpec, neurons_per_unit: int, arrays: CircuitArrays | None = None,
                 draw_per_neuron: bool = False, **changes) -> tuple:
    """(spec, arrays) of ``spec``'s circuit with ``neurons_per_unit`` neurons per unit.

    ``arrays``: the unit-level values (default: drawn from ``spec``);
    ``changes``: CircuitSpec fields changed first, at the unit level (e.g.
    ``mode='spiking'``; an ``eta`` given here is divided by m like the others).
    ``draw_per_neuron``: draw every neuron's slope, offset and initial voltage
    from the spec's ``heterogeneity_rep`` / ``heterogeneity_err`` /
    ``initial_voltage_spread`` (seeded by ``spec.seed``) instead of repeating
    the unit's values; the circuit then is no longer its unit-level twin.
    The result's ``input_units`` / ``output_units`` are the unit-level sizes, so
    tasks written for ``spec`` run on it unchanged.
    """
    spec = spec.replace(**changes).validate()
    m = neurons_per_unit
    if not is_count(m):
        raise SpecError(f"neurons_per_unit={m!r} must be a whole number >= 1")
    if spec.input_units != spec.layers[0] or spec.output_units != spec.layers[-1]:
        raise SpecError("neuron_level expects a unit-level spec (one neuron per task unit)")
    units = arrays if arrays is not None else CircuitArrays.draw(spec)
    block = np.ones((m, m)) / m
    population = spec.replace(
        layers=tuple(m * n for n in spec.layers), error_sizes=tuple(m * n for n in spec.error_sizes),
        input_units=spec.layers[0], output_units=spec.layers[-1], eta=tuple(eta / m for eta in spec.eta),
        init_scale=None,
    )
    if draw_per_neuron:
        neurons = CircuitArrays.neuron_values(population)
    else:
        neurons = [None] + [{kind: {name: np.repeat(v, m) for name, v in values.items()}
                             for kind, values in area.items()} for area in units.neurons[1:]]
    tied = CircuitArrays(
        weights=[np.kron(W, block) for W in units.weights],
        feedback_weights=[np.kron(B, block) for B in units.feedback_weights],
        feedback_noise=[np.kron(X, block) for X in units.feedback_noise],
        lateral=[None] + [{name: np.kron(M, np.eye(m)) for name, M in area.items()} for area in units.lateral[1:]],
        neurons=neurons,
    )
    return population.validate(), tied


def unit_means(values: np.ndarray, neurons_per_unit: int) -> np.ndarray:
    """Per-unit means of per-neuron values (samples, units * m) -> (samples, units)."""
    values = np.atleast_2d(values)
    return values.reshape(len(values), -1, neurons_per_unit).mean(axis=2)


__all__ = ["neuron_level", "unit_means"]
