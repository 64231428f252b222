"""The numbers a circuit carries between runs: weights, lateral matrices, per-neuron values.

A :class:`~brian_errorcircuits.spec.CircuitSpec` says how these are drawn
(ranges, spreads, seeds); :class:`CircuitArrays` holds the drawn (or given)
values, checked for shape and finiteness.  The Brian2 builder and the numpy
reference read the same object, so both integrate the same circuit.

Per area k (1..L), with n_R representation and n_E error neurons:

- ``lateral[k]['WIP']`` (n_E, n_R): representation -> error neurons; carries the
  partner gains phi'(u) (and, in the output area, the gated mismatch);
- ``lateral[k]['BPI']`` (n_R, n_E): error -> representation neurons, onto the
  apical dendrite;
- ``neurons[k]['P']`` / ``neurons[k]['E']``: per-neuron values of the
  representation / error neurons: conductances (1/s, plain floats), the slope
  and offset of phi (phi_i(x) = phi(slope_i (x - offset_i))) and the initial
  somatic voltage.

``connectivity[p]`` (n_target, n_source, boolean) says which neuron pairs of
bottom-up projection p have a synapse, ``feedback_connectivity[p]`` the same
for the top-down projections of feedback alignment; None: every pair
(dense).  Weights (and feedback noise) are 0 where no synapse exists, and
stay 0: Brian2 connects only the mask's pairs and the numpy reference masks
its updates (see :mod:`~brian_errorcircuits.connectivity`).

The *partner* of error neuron i is representation neuron i (the rectangular
identity, for i < min(n_E, n_R)): lateral matrices start from it, lateral
plasticity pulls them back to it, and ``backprop`` feedback uses it to route
each error through the forward weight of its partners.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .spec import CircuitSpec, SpecError

#: per-neuron values of representation (P) and error (E) neurons, in the order they are drawn
REPRESENTATION_VALUES = ("g_l", "g_bas", "g_api", "slope_P", "offset_P", "u_P")
ERROR_VALUES = ("g_l", "g_den", "g_tgt", "slope_E", "offset_E", "u_E")


def partner_matrix(n_error: int, n_rep: int) -> np.ndarray:
    """The rectangular identity (n_error, n_rep): error neuron i is partner of representation neuron i."""
    return np.eye(n_error, n_rep)


@dataclass
class CircuitArrays:
    """Weights, lateral matrices and per-neuron values of one circuit (numpy, SI units).

    ``weights[p]`` (n_target, n_source) per ``spec.projections`` entry;
    ``feedback_weights[p]`` per ``spec.feedback_projections`` entry (fixed,
    used with feedback alignment); ``feedback_noise[p]`` (shape of
    ``weights[p]``): the fixed Xi of ``backprop`` feedback, whose top-down
    matrix is (W + Xi)^T; ``lateral`` and ``neurons``: lists indexed by area
    (index 0, the input, is None), see the module docstring; ``connectivity``
    and ``feedback_connectivity``: one mask or None per projection (default:
    all dense).
    """

    weights: list
    feedback_weights: list
    feedback_noise: list
    lateral: list
    neurons: list = field(default_factory=list)
    connectivity: list = None
    feedback_connectivity: list = None

    def __post_init__(self):
        if self.connectivity is None:
            self.connectivity = [None] * len(self.weights)
        if self.feedback_connectivity is None:
            self.feedback_connectivity = [None] * len(self.feedback_weights)

    @classmethod
    def draw(cls, spec: CircuitSpec, weights=None, feedback_weights=None, lateral=None,
             feedback_noise=None, neurons=None, connectivity=None, feedback_connectivity=None) -> "CircuitArrays":
        """Arrays for ``spec``: the given ones checked, the others drawn from ``spec.seed``.

        Forward and feedback weights come first from ``default_rng(seed)`` (as they
        always have); laterals, feedback noise and per-neuron values from a second,
        independent stream, so switching them on never changes the weights.
        Drawn matrices are set to 0 where ``connectivity`` (``feedback_connectivity``)
        has no synapse; given ones must be 0 there.
        """
        rng = np.random.default_rng(spec.seed)
        n, n_err = spec.layers, spec.error_sizes
        shapes = [(n[p.target], n[p.source]) for p in spec.projections]
        feedback_shapes = [(n_err[p.target - 1], n_err[p.source - 1]) for p in spec.feedback_projections]
        masks = _checked_masks("connectivity", connectivity, shapes)
        feedback_masks = _checked_masks("feedback_connectivity", feedback_connectivity, feedback_shapes)
        if weights is None:
            weights = [on_synapses(p.density * rng.uniform(-1, 1, size=shape) * spec.init_scale[p.target - 1], mask)
                       for p, shape, mask in zip(spec.projections, shapes, masks)]
        if feedback_weights is None:
            feedback_weights = [
                on_synapses(p.density * rng.uniform(-1, 1, size=shape) * spec.feedback_scale
                            * spec.init_scale[p.source - 1], mask)
                for p, shape, mask in zip(spec.feedback_projections, feedback_shapes, feedback_masks)
            ]
        extra = np.random.default_rng([spec.seed, 1])
        if feedback_noise is None:
            feedback_noise = [on_synapses(extra.uniform(-1, 1, size=shape) * spec.feedback_noise, mask)
                              if spec.feedback_noise else np.zeros(shape) for shape, mask in zip(shapes, masks)]
        if lateral is None:
            lateral = [None] + [
                {name: spec.neuron.lateral_weight * identity
                 + (extra.uniform(-1, 1, size=identity.shape) * spec.lateral_noise if spec.lateral_noise else 0)
                 for name, identity in (("WIP", partner_matrix(n_err[k - 1], n[k])),
                                        ("BPI", partner_matrix(n_err[k - 1], n[k]).T))}
                for k in range(1, spec.n_areas + 1)
            ]
        if neurons is None:
            neurons = _neurons(spec, extra)
        return cls(
            weights=_checked_matrices("weights", weights, shapes, masks),
            feedback_weights=_checked_matrices("feedback_weights", feedback_weights, feedback_shapes, feedback_masks),
            feedback_noise=_checked_matrices("feedback_noise", feedback_noise, shapes, masks),
            lateral=_checked_lateral(spec, lateral),
            neurons=_checked_neurons(spec, neurons),
            connectivity=masks,
            feedback_connectivity=feedback_masks,
        )

    @classmethod
    def neuron_values(cls, spec: CircuitSpec) -> list:
        """The per-neuron values :meth:`draw` gives ``spec``'s circuit, without drawing anything
        else when no value is spread (the common case: constants, cheap enough for every
        call of the numpy reference)."""
        spread = (spec.heterogeneity_rep.slope, spec.heterogeneity_rep.offset, spec.heterogeneity_err.slope,
                  spec.heterogeneity_err.offset, spec.initial_voltage_spread)
        if not any(spread):
            return _neurons(spec, rng=None)
        no_weights = [np.zeros((spec.layers[p.target], spec.layers[p.source])) for p in spec.projections]
        return cls.draw(spec, weights=no_weights).neurons

    def as_flat(self) -> dict:
        """Every array by its place, e.g. ``'weights/0'``, ``'lateral/2/WIP'``, ``'neurons/1/P/g_l'``
        (the layout :meth:`from_flat` reads, and the names inside a saved circuit)."""
        flat = {}
        for name in ("weights", "feedback_weights", "feedback_noise"):
            flat.update({f"{name}/{i}": M for i, M in enumerate(getattr(self, name))})
        for name in ("connectivity", "feedback_connectivity"):  # dense projections have no mask
            flat.update({f"{name}/{i}": mask for i, mask in enumerate(getattr(self, name)) if mask is not None})
        for k, (lateral, neurons) in enumerate(zip(self.lateral[1:], self.neurons[1:]), start=1):
            flat.update({f"lateral/{k}/{name}": M for name, M in lateral.items()})
            flat.update({f"neurons/{k}/{kind}/{name}": v for kind, values in neurons.items()
                         for name, v in values.items()})
        return flat

    @classmethod
    def from_flat(cls, spec: CircuitSpec, flat) -> "CircuitArrays":
        """The arrays of ``spec``'s circuit from a mapping in :meth:`as_flat`'s layout, checked like
        :meth:`draw`'s; a missing array raises :class:`SpecError` naming it."""
        def get(key):
            if key not in flat:
                raise SpecError(f"no array {key!r}: it does not hold the values of this circuit")
            return flat[key]

        def matrices(name, count):
            return [get(f"{name}/{i}") for i in range(count)]

        areas = range(1, spec.n_areas + 1)
        return cls.draw(
            spec, weights=matrices("weights", len(spec.projections)),
            feedback_weights=matrices("feedback_weights", len(spec.feedback_projections)),
            feedback_noise=matrices("feedback_noise", len(spec.projections)),
            connectivity=[flat.get(f"connectivity/{i}") for i in range(len(spec.projections))],
            feedback_connectivity=[flat.get(f"feedback_connectivity/{i}") for i in range(len(spec.feedback_projections))],
            lateral=[None] + [{name: get(f"lateral/{k}/{name}") for name in ("WIP", "BPI")} for k in areas],
            neurons=[None] + [{kind: {name: get(f"neurons/{k}/{kind}/{name}") for name in names}
                               for kind, names in (("P", REPRESENTATION_VALUES), ("E", ERROR_VALUES))}
                              for k in areas],
        )

    def copy(self) -> "CircuitArrays":
        """A deep copy (numpy arrays copied)."""
        return CircuitArrays(
            weights=[W.copy() for W in self.weights],
            feedback_weights=[B.copy() for B in self.feedback_weights],
            feedback_noise=[X.copy() for X in self.feedback_noise],
            lateral=[None] + [{name: M.copy() for name, M in area.items()} for area in self.lateral[1:]],
            neurons=[None] + [{kind: {name: v.copy() for name, v in values.items()}
                               for kind, values in area.items()} for area in self.neurons[1:]],
            connectivity=[None if mask is None else mask.copy() for mask in self.connectivity],
            feedback_connectivity=[None if mask is None else mask.copy() for mask in self.feedback_connectivity],
        )

    def synapse_counts(self) -> list:
        """Synapses of each bottom-up projection: its mask's pairs, or every pair where it is dense."""
        return [W.size if mask is None else int(mask.sum()) for W, mask in zip(self.weights, self.connectivity)]


def on_synapses(matrix: np.ndarray, mask) -> np.ndarray:
    """``matrix`` with 0 where ``mask`` has no synapse (``matrix`` itself when the mask is None: dense)."""
    return matrix if mask is None else np.where(mask, matrix, 0.0)


def _neurons(spec: CircuitSpec, rng) -> list:
    """Per-neuron values of every area (index 0 None), spreads drawn from ``rng``."""
    return [None] + [{"P": _drawn_values(spec, rng, "P", spec.layers[k]),
                      "E": _drawn_values(spec, rng, "E", spec.error_sizes[k - 1])}
                     for k in range(1, spec.n_areas + 1)]


def _drawn_values(spec: CircuitSpec, rng, kind: str, size: int) -> dict:
    """Per-neuron values of one population: conductances from ``spec.neuron``, slope ~ N(1, spread),
    offset ~ N(0, spread), initial voltage ~ N(0, spec.initial_voltage_spread)."""
    p = spec.neuron
    spread = spec.heterogeneity_rep if kind == "P" else spec.heterogeneity_err
    names = REPRESENTATION_VALUES if kind == "P" else ERROR_VALUES
    values = {name: np.full(size, float(getattr(p, name))) for name in names[:-3]}
    values[names[-3]] = 1 + spread.slope * rng.standard_normal(size) if spread.slope else np.ones(size)
    values[names[-2]] = spread.offset * rng.standard_normal(size) if spread.offset else np.zeros(size)
    sigma = spec.initial_voltage_spread
    values[names[-1]] = sigma * rng.standard_normal(size) if sigma else np.zeros(size)
    return values


def _checked_matrices(name, matrices, shapes, masks=None):
    """Float copies of ``matrices``, checked for count, shape, finiteness and (with ``masks``)
    for being 0 where no synapse exists."""
    if len(matrices) != len(shapes):
        raise SpecError(f"{name} has {len(matrices)} matrices; expected {len(shapes)}")
    checked = []
    for k, (W, shape) in enumerate(zip(matrices, shapes)):
        W = np.array(W, dtype=float)
        if W.shape != shape:
            raise SpecError(f"{name}[{k}] has shape {W.shape}; expected {shape}")
        if not np.isfinite(W).all():
            raise SpecError(f"{name}[{k}] contains NaN or infinite values")
        if masks is not None and masks[k] is not None and np.any(W[~masks[k]]):
            raise SpecError(f"{name}[{k}] is nonzero where its connectivity mask has no synapse")
        checked.append(W)
    return checked


def _checked_masks(name, masks, shapes) -> list:
    """Boolean copies of ``masks`` (None entries: dense), one per shape; all None if ``masks`` is None."""
    if masks is None:
        return [None] * len(shapes)
    if len(masks) != len(shapes):
        raise SpecError(f"{name} has {len(masks)} masks; expected one (or None) per projection: {len(shapes)}")
    checked = []
    for k, (mask, shape) in enumerate(zip(masks, shapes)):
        if mask is not None:
            mask = np.array(mask)
            if mask.dtype != bool or mask.shape != shape:
                raise SpecError(f"{name}[{k}] must be a boolean matrix of shape {shape}, "
                                f"got {mask.dtype} {mask.shape}")
        checked.append(mask)
    return checked


def _check_per_area(name: str, entries, spec: CircuitSpec):
    """``entries`` must hold one entry per area, index 0 (the input) None."""
    if len(entries) != spec.n_areas + 1 or entries[0] is not None:
        raise SpecError(f"{name} needs one entry per area, index 0 (the input) None: {spec.n_areas + 1} entries")


def _checked_lateral(spec: CircuitSpec, lateral) -> list:
    _check_per_area("lateral", lateral, spec)
    checked = [None]
    for k in range(1, spec.n_areas + 1):
        entry = lateral[k]
        if not isinstance(entry, dict) or set(entry) != {"WIP", "BPI"}:
            raise SpecError(f"lateral[{k}] must be a dict with the matrices 'WIP' and 'BPI'")
        n_r, n_e = spec.layers[k], spec.error_sizes[k - 1]
        wip, bpi = _checked_matrices(f"lateral[{k}]", [entry["WIP"], entry["BPI"]], [(n_e, n_r), (n_r, n_e)])
        checked.append({"WIP": wip, "BPI": bpi})
    return checked


def _checked_neurons(spec: CircuitSpec, neurons) -> list:
    _check_per_area("neurons", neurons, spec)
    checked = [None]
    for k in range(1, spec.n_areas + 1):
        area = {}
        for kind, names, size in (("P", REPRESENTATION_VALUES, spec.layers[k]),
                                  ("E", ERROR_VALUES, spec.error_sizes[k - 1])):
            given = neurons[k].get(kind, {}) if isinstance(neurons[k], dict) else None
            if given is None or set(given) != set(names):
                raise SpecError(f"neurons[{k}][{kind!r}] must hold exactly {sorted(names)}")
            values = {}
            for name in names:
                value = np.array(given[name], dtype=float)
                if value.shape != (size,) or not np.isfinite(value).all():
                    raise SpecError(f"neurons[{k}][{kind!r}][{name!r}] needs {size} finite values")
                if name.startswith("g_") and value.min() <= 0:
                    raise SpecError(f"neurons[{k}][{kind!r}][{name!r}]: conductances must be positive")
                values[name] = value
            area[kind] = values
        checked.append(area)
    return checked


__all__ = ["CircuitArrays", "on_synapses", "partner_matrix", "REPRESENTATION_VALUES", "ERROR_VALUES"]
