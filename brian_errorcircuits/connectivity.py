"""Which neurons of two connected areas have a synapse: all, by probability, or a fixed in-degree.

A projection table says which areas project and how densely
(``CircuitSpec.projections``, a density each); a connectivity pattern turns
that into synapses between neurons:

``'dense'``
    every neuron pair (all-to-all): connection probability q = 1;
``'density'``
    every pair independently, with the projection's density as probability q
    (a neuron's in-degree from the source area is Binomial(N_source, q));
``('in_degree', K)``
    every postsynaptic neuron draws exactly K_p = max(1, round(K x density))
    distinct partners among the source area's N_source neurons (K for a
    projection of density 1), so q = K_p / N_source.

A wiring is a boolean (n_target, n_source) mask, or None where every pair is
connected (q = 1).  The builder connects the mask's pairs and nothing else; it
never reads a table.
"""
from __future__ import annotations

import numpy as np

from .spec import Projection, SpecError, is_count


def checked_pattern(pattern) -> tuple:
    """``pattern`` as (kind, K): ``('dense', None)``, ``('density', None)`` or ``('in_degree', K)``."""
    if isinstance(pattern, str) and pattern in ("dense", "density"):
        return pattern, None
    if isinstance(pattern, (tuple, list)) and len(pattern) == 2 and pattern[0] == "in_degree" \
            and is_count(pattern[1]):
        return "in_degree", int(pattern[1])
    raise SpecError(f"connectivity={pattern!r}: choose 'dense', 'density' or ('in_degree', K), "
                    "K a whole number >= 1")


def in_degree(pattern, projection: Projection, n_source: int) -> int:
    """Synapses each neuron of the target receives through ``projection`` under an in-degree ``pattern``."""
    _, K = checked_pattern(pattern)
    partners = max(1, round(K * projection.density))
    if partners > n_source:
        raise SpecError(f"connectivity={pattern!r}: {projection} needs {partners} distinct partners per neuron, "
                        f"but its source area has {n_source} neurons")
    return partners


def connection_probability(pattern, projection: Projection, n_source: int) -> float:
    """q, the probability that a neuron pair of ``projection`` is connected, in (0, 1]."""
    kind, _ = checked_pattern(pattern)
    if kind == "dense":
        return 1.0
    if kind == "density":
        if projection.density > 1:
            raise SpecError(f"connectivity='density': {projection} has density {projection.density} > 1, "
                            "which is no connection probability")
        return float(projection.density)
    return in_degree(pattern, projection, n_source) / n_source


def draw_wiring(pattern, projection: Projection, shape: tuple, rng: np.random.Generator) -> tuple:
    """(mask, q) of ``projection`` between populations of ``shape`` = (n_target, n_source) neurons.

    The mask is None when every pair is connected (q = 1); otherwise drawn
    from ``rng``: Bernoulli(q) per pair, or K_p distinct partners per row.
    """
    n_source = shape[1]
    q = connection_probability(pattern, projection, n_source)
    if q == 1:
        return None, 1.0
    if checked_pattern(pattern)[0] == "density":
        return rng.random(shape) < q, q
    partners = np.argsort(rng.random(shape), axis=1)[:, :in_degree(pattern, projection, n_source)]
    mask = np.zeros(shape, bool)
    np.put_along_axis(mask, partners, True, axis=1)
    return mask, q


__all__ = ["checked_pattern", "connection_probability", "draw_wiring", "in_degree"]
