"""Validated, plain descriptions of a circuit: everything needed to build it.

Nothing here creates Brian2 objects; units come from ``brian2.units`` so that
parameters carry physical dimensions and are checked before any code is
generated.  Every check raises :class:`SpecError` naming the parameter.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from brian2.units import Hz, ms
from brian2.equations.equations import dimensions_and_type_from_string
from brian2.units.fundamentalunits import Quantity, get_unit, have_same_dimensions

from .equations import ACTIVATIONS

MODES = ("rate", "spiking", "sampled")
#: modes whose neurons communicate through spikes
SPIKING_MODES = ("spiking", "sampled")
FEEDBACK_MODES = ("backprop", "feedback_alignment")
TARGETS = ("cython", "numpy", "cpp_standalone")


def unit_default(value):
    """A dataclass default for a Quantity (Quantities are mutable arrays)."""
    return field(default_factory=lambda: value)


class SpecError(ValueError):
    """A circuit description is invalid; the message names the parameter."""


class DeadEndWarning(UserWarning):
    """A circuit is valid, but some of its areas can never learn (no path to the output)."""


@dataclass(frozen=True)
class NeuronParams:
    """Conductances, activations and spike-coding constants of one circuit.

    Defaults follow Max et al. 2026 (conductances in 1/ms) and the spiking
    choices documented in docs/model.md ("Three modes of one description").
    """

    g_l: Quantity = unit_default(0.03 / ms)  #: leak conductance of every soma
    g_bas: Quantity = unit_default(0.1 / ms)  #: basal -> soma coupling (representation neurons)
    g_api: Quantity = unit_default(0.06 / ms)  #: apical -> soma coupling (representation neurons)
    g_den: Quantity = unit_default(0.1 / ms)  #: dendrite -> soma coupling (hidden error neurons)
    g_tgt: Quantity = unit_default(0.06 / ms)  #: target nudging conductance (output error neurons)
    activation: str = "tanh"  #: phi of hidden representation neurons
    output_activation: str = "tanh"  #: phi of output representation neurons
    prospective: bool = True  #: read rates from u + tau_eff du/dt (Latent Equilibrium)
    #: read error rates from the dendritic fixed point g_err v_den / g_leak_E (True, the original's
    #: equations) or from the error soma u_E (False, a membrane lag of 1 / g_leak_E); see docs/model.md,
    #: "Stability of the error loop"
    prospective_errors: bool = True
    lateral_weight: float = 1.0  #: one-to-one P<->E weights (identity by default)
    # spiking modes: firing rates and synaptic filters; population sizes of the sampled mode only
    n_rep: int = 50  #: Poisson generators per representation neuron (sampled mode)
    n_err: int = 50  #: Poisson generators per error neuron and sign (sampled mode)
    #: Poisson generators per input neuron (sampled mode); None: n_rep.  They only feed
    #: their neuron's trace, so a large input population sharpens the input at little cost
    n_input: int | None = None
    rate_max: Quantity = unit_default(100 * Hz)  #: rate of a representation neuron at the top of phi's range
    rate_err: Quantity = unit_default(400 * Hz)  #: rate of an error neuron per unit of signed error (errors are ~0.01-0.3)
    tau_syn: Quantity = unit_default(10 * ms)  #: synaptic filter of every spike train
    #: synaptic filter of the input area's signal in both modes (slow synapses keep a fading
    #: memory of past inputs); None: tau_syn in spiking mode, unfiltered in rate mode
    tau_input: Quantity | None = None

    def validate(self) -> "NeuronParams":
        for name in ("g_l", "g_bas", "g_api", "g_den", "g_tgt"):
            _positive(name, getattr(self, name), 1 / ms)
        for name in ("rate_max", "rate_err"):
            _positive(name, getattr(self, name), Hz)
        _positive("tau_syn", self.tau_syn, ms)
        if self.tau_input is not None:
            _positive("tau_input", self.tau_input, ms)
        for name in ("activation", "output_activation"):
            value = getattr(self, name)
            if value not in ACTIVATIONS:
                raise SpecError(f"{name}={value!r} is unknown; choose one of {sorted(ACTIVATIONS)}")
        for name, value in (("n_rep", self.n_rep), ("n_err", self.n_err), ("n_input", self.input_neurons)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise SpecError(f"{name}={value!r}: a population needs at least 1 neuron")
        if not np.isfinite(self.lateral_weight):
            raise SpecError(f"lateral_weight={self.lateral_weight!r} is not finite")
        return self

    @property
    def input_neurons(self) -> int:
        """Spiking neurons per input unit."""
        return self.n_rep if self.n_input is None else self.n_input

    @property
    def basal_fraction(self) -> float:
        """a = g_bas / (g_l + g_bas + g_api): what the basal dendrite alone predicts of the soma."""
        return float(self.g_bas / (self.g_l + self.g_bas + self.g_api))


@dataclass(frozen=True)
class Heterogeneity:
    """Spread of per-neuron phi: phi_i(x) = phi(slope_i (x - offset_i)),
    slope_i ~ N(1, ``slope``), offset_i ~ N(0, ``offset``) (Max et al. 2026, Fig. 5)."""

    slope: float = 0.0
    offset: float = 0.0

    def validate(self, name: str) -> "Heterogeneity":
        for part in ("slope", "offset"):
            non_negative_number(f"{name}.{part}", getattr(self, part))
        return self


@dataclass(frozen=True)
class Projection:
    """A projection between areas (index 0 = input, 1..L = areas), with its density.

    Bottom-up projections (source < target) end on basal dendrites of
    representation neurons; top-down ones (source > target) end on dendrites
    of error neurons.  ``density`` scales the initial weight range (and the
    learning rate, if the spec asks for it).  ``source`` and ``target`` may
    be area names (``'input'`` or one of the spec's ``area_names``): the
    :class:`CircuitSpec` they are given to replaces them by indices.  ``eta_scale`` multiplies the
    target area's learning rate for this projection alone: with sparse wiring
    :func:`~brian_errorcircuits.populations.neuron_level` sets it to 1/q, q the
    projection's connection probability (fan-in normalisation).
    """

    source: int | str
    target: int | str
    density: float = 1.0
    eta_scale: float = 1.0


def hierarchy(n_areas: int) -> tuple:
    """Bottom-up projections of a strict hierarchy: input -> 1 -> 2 -> ... -> L."""
    return tuple(Projection(k - 1, k) for k in range(1, n_areas + 1))


@dataclass(frozen=True)
class CircuitSpec:
    """A layered error-neuron circuit: sizes, learning rates, modes, timing.

    Parameters
    ----------
    layers : sequence of int
        Units per area, input first, e.g. ``(4, 30, 2)``.
    mode : {'rate', 'spiking', 'sampled'}
        The same neurons and equations: without spikes (``rate``, the mean
        field); every neuron firing from its own rate, its spikes filtered by
        the synapses (``spiking``, neuron-level); or every neuron read out by
        a population of Poisson generators (``sampled``, the cheap
        population-sampled mode, see docs/model.md).
    feedback : {'backprop', 'feedback_alignment'}
        Top-down weights track W^T of the current forward weights, or stay
        fixed and random.
    eta : Quantity (1/second), or a sequence or 1-d Quantity array of them
        Learning rate of the basal synapses into each area (one per area, e.g.
        ``(5 * Hz, 5 * Hz)`` or ``[5, 5] * Hz``); a single value applies to every area.
    dt : Quantity (second)
        Integration step.
    threads : int, optional
        OpenMP threads of a ``cpp_standalone`` binary (1: plain code, no
        OpenMP); None takes the environment variable ``ERRORCIRCUITS_THREADS``
        (``errorcircuits run --threads N`` sets it), else 1.  More than one
        needs ``target='cpp_standalone'``; see the README's Benchmarks for
        where threads help.
    projections : tuple of Projection, optional
        Bottom-up projections (default: a strict hierarchy).  The last area is
        the output area.
    feedback_projections : tuple of Projection, optional
        Top-down projections between error neurons used with
        ``feedback_alignment`` (default: the bottom-up ones reversed).  With
        ``backprop`` feedback, every bottom-up projection between areas sends
        the error back down with its own transposed weights.
    area_names : tuple of str, optional
        Names of areas 1..L (default ``area1``..``areaL``); they name the Brian2 objects.
    lesioned_feedback : tuple of (int, int), optional
        Top-down error routes (from area, into area) cut, as in a lesion
        experiment: the lower area's error neurons no longer hear the upper
        area's errors along that route; the bottom-up projection stays.  The
        network keeps every route and closes the cut ones with a gate set
        before the run (``equations.route_gate``), so circuits that differ
        only in their cuts generate the same code (one ``cpp_standalone`` build).
    error_sizes : tuple of int, optional
        Error neurons n_E per area 1..L (default: as many as representation
        neurons, ``layers[1:]``).
    input_units, output_units : int, optional
        Units of the task (columns of inputs and targets; default
        ``layers[0]`` and ``layers[-1]``).  Input unit u drives the block of
        ``layers[0] // input_units`` input neurons starting at
        ``u * layers[0] // input_units``; output unit u is read as the mean of
        its block of output neurons, and each of them gets the unit's target.
    lateral_noise : float
        Lateral matrices WIP (n_E x n_R) and BPI (n_R x n_E) start as
        ``neuron.lateral_weight`` x the rectangular identity plus fixed noise
        U(-lateral_noise, lateral_noise) (the original: 0.3 in its Fig. 3,
        0.03 in its Fig. 4).
    eta_lateral : Quantity (1/second)
        Rate at which both lateral matrices relax toward the rectangular
        identity, dM/dt = -eta_lateral (M - I), while plasticity is on (0: fixed).
    feedback_noise : float
        With ``backprop`` feedback: top-down weights (W + Xi)^T with a fixed
        Xi ~ U(-feedback_noise, feedback_noise) drawn once, so they track the
        learning W without equalling W^T (the original uses 0.5).
    heterogeneity_rep, heterogeneity_err : Heterogeneity
        Spread of the per-neuron slope and offset of phi in representation
        and in error neurons (default none).
    initial_voltage_spread : float
        Somatic voltages start N(0, spread) at every run (the original: 1; default 0).
    """

    layers: tuple
    mode: str = "spiking"
    feedback: str = "backprop"
    eta: tuple = None
    init_scale: tuple = None  #: forward weights start in U(-s, s) per area; default 1/sqrt(fan-in)
    feedback_scale: float = 1.0  #: scale of the fixed random top-down weights (feedback_alignment)
    neuron: NeuronParams = field(default_factory=NeuronParams)
    dt: Quantity = unit_default(0.25 * ms)
    seed: int = 0  #: whole number >= 0: decides initial weights, noise and spikes (see ErrorCircuit.run)
    target: str = "cython"
    threads: int = None
    projections: tuple = None
    feedback_projections: tuple = None
    area_names: tuple = None
    eta_scaled_by_density: bool = False  #: multiply each projection's eta by its density
    lesioned_feedback: tuple = ()
    error_sizes: tuple = None
    input_units: int = None
    output_units: int = None
    lateral_noise: float = 0.0
    eta_lateral: Quantity = unit_default(0 * Hz)
    feedback_noise: float = 0.0
    heterogeneity_rep: Heterogeneity = field(default_factory=Heterogeneity)
    heterogeneity_err: Heterogeneity = field(default_factory=Heterogeneity)
    initial_voltage_spread: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers) if self.layers is not None else ())
        areas = len(self.layers) - 1
        if self.area_names is None:
            object.__setattr__(self, "area_names", tuple(f"area{k}" for k in range(1, areas + 1)))
        object.__setattr__(self, "area_names", tuple(self.area_names))
        if self.projections is None:
            object.__setattr__(self, "projections", hierarchy(max(areas, 0)))
        object.__setattr__(self, "projections", self._indexed_projections(self.projections))
        if self.feedback_projections is None:
            object.__setattr__(self, "feedback_projections", tuple(
                Projection(p.target, p.source, p.density) for p in self.projections if p.source > 0))
        object.__setattr__(self, "feedback_projections", self._indexed_projections(self.feedback_projections))
        object.__setattr__(self, "lesioned_feedback", tuple(
            self.area_indices(tuple(route), "lesioned_feedback") if any(isinstance(a, str) for a in route)
            else tuple(route) for route in self.lesioned_feedback))
        if self.eta is None:
            object.__setattr__(self, "eta", (0 * Hz,) * max(areas, 0))
        elif np.ndim(self.eta) == 0:  # one rate for every area
            object.__setattr__(self, "eta", (self.eta,) * max(areas, 0))
        sizes_ok = all(is_count(n) for n in self.layers)
        if self.init_scale is None and areas > 0 and sizes_ok:
            fan_in = [sum(self.layers[p.source] for p in self.projections
                          if p.target == k and 0 <= p.source < len(self.layers))
                      for k in range(1, areas + 1)]
            object.__setattr__(self, "init_scale", tuple(1 / np.sqrt(max(n, 1)) for n in fan_in))
        object.__setattr__(self, "eta", tuple(self.eta))
        object.__setattr__(self, "init_scale", tuple(self.init_scale or ()))
        if self.error_sizes is None:
            object.__setattr__(self, "error_sizes", tuple(self.layers[1:]))
        object.__setattr__(self, "error_sizes", tuple(self.error_sizes))
        if self.input_units is None and self.layers:
            object.__setattr__(self, "input_units", self.layers[0])
        if self.output_units is None and self.layers:
            object.__setattr__(self, "output_units", self.layers[-1])

    def validate(self) -> "CircuitSpec":
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SpecError(f"seed={self.seed!r} must be a whole number >= 0")
        if len(self.layers) < 2:
            raise SpecError(f"layers={self.layers!r}: need an input size and at least one area")
        for k, n in enumerate(self.layers):
            if not is_count(n):
                raise SpecError(f"layers[{k}]={n!r}: every area needs at least 1 unit")
        if self.mode not in MODES:
            raise SpecError(f"mode={self.mode!r} is unknown; choose one of {MODES}")
        if self.feedback not in FEEDBACK_MODES:
            raise SpecError(f"feedback={self.feedback!r} is unknown; choose one of {FEEDBACK_MODES}")
        if self.target not in TARGETS:
            raise SpecError(f"target={self.target!r} is unknown; choose one of {TARGETS}")
        if self.threads is not None:
            if not is_count(self.threads):
                raise SpecError(f"threads={self.threads!r}: expected a whole number >= 1")
            if self.threads > 1 and self.target != "cpp_standalone":
                raise SpecError(f"threads={self.threads} needs target='cpp_standalone' (OpenMP in the standalone "
                                f"binary); target={self.target!r} runs on one thread")
        if len(self.eta) != self.n_areas:
            raise SpecError(f"eta has {len(self.eta)} entries for {self.n_areas} areas")
        for k, eta in enumerate(self.eta):
            _non_negative(f"eta[{k}]", eta, Hz)
        if len(self.init_scale) != self.n_areas:
            raise SpecError(f"init_scale has {len(self.init_scale)} entries for {self.n_areas} areas")
        for k, s in enumerate(self.init_scale):
            if not np.isfinite(s) or s < 0:
                raise SpecError(f"init_scale[{k}]={s!r} must be finite and >= 0")
        _positive("dt", self.dt, ms)
        self._validate_projections()
        self.neuron.validate()
        self._validate_populations()
        if self.mode in SPIKING_MODES:
            for name in ("activation", "output_activation"):
                act = ACTIVATIONS[getattr(self.neuron, name)]
                if act.rate_low is None:
                    raise SpecError(
                        f"{name}={act.name!r} has no lower bound, so it cannot set a "
                        "non-negative firing rate in spiking mode"
                    )
        return self

    def _validate_populations(self):
        if len(self.error_sizes) != self.n_areas:
            raise SpecError(f"error_sizes has {len(self.error_sizes)} entries for {self.n_areas} areas")
        for k, n in enumerate(self.error_sizes):
            if not is_count(n):
                raise SpecError(f"error_sizes[{k}]={n!r}: every area needs at least 1 error neuron")
        for name, units, neurons in (("input_units", self.input_units, self.layers[0]),
                                     ("output_units", self.output_units, self.layers[-1])):
            if not is_count(units) or neurons % units:
                raise SpecError(f"{name}={units!r} must be a positive divisor of the area's {neurons} neurons")
        for name in ("lateral_noise", "feedback_noise", "initial_voltage_spread"):
            non_negative_number(name, getattr(self, name))
        if self.feedback_noise and self.feedback != "backprop":
            raise SpecError("feedback_noise perturbs backprop feedback (W + Xi)^T; "
                            f"with feedback={self.feedback!r} set feedback_scale instead")
        _non_negative("eta_lateral", self.eta_lateral, Hz)
        for name in ("heterogeneity_rep", "heterogeneity_err"):
            value = getattr(self, name)
            if not isinstance(value, Heterogeneity):
                raise SpecError(f"{name} must be a Heterogeneity(slope=..., offset=...), got {value!r}")
            value.validate(name)

    def _validate_projections(self):
        L = self.n_areas
        if len(self.area_names) != L:
            raise SpecError(f"area_names has {len(self.area_names)} names for {L} areas")
        labels = [brian_label(name) for name in self.area_names]
        for name, label in zip(self.area_names, labels):
            if not name or label == "input" or labels.count(label) > 1:
                raise SpecError(f"area name {name!r} is empty, 'input', or not unique")
        for kind, projections, upward in (("projections", self.projections, True),
                                          ("feedback_projections", self.feedback_projections, False)):
            seen = set()
            for p in projections:
                if not isinstance(p, Projection):
                    raise SpecError(f"{kind} must hold Projection objects, got {p!r}")
                lowest = 0 if upward else 1
                if not (lowest <= p.source <= L and 1 <= p.target <= L):
                    raise SpecError(f"{kind}: {p} names an area outside {lowest}..{L}")
                if p.source == p.target:
                    raise SpecError(f"{kind}: {p} projects area {p.source} onto itself; "
                                    "an area's own coupling is its lateral matrices")
                if (p.source < p.target) != upward:
                    direction = "upward (source < target)" if upward else "downward (source > target)"
                    raise SpecError(f"{kind}: {p} must point {direction}")
                if not np.isfinite(p.density) or p.density <= 0:
                    raise SpecError(f"{kind}: {p} needs a finite density > 0")
                non_negative_number(f"{kind}: {p} eta_scale", p.eta_scale)
                if (p.source, p.target) in seen:
                    raise SpecError(f"{kind}: {p.source} -> {p.target} appears twice")
                seen.add((p.source, p.target))
        intact = {(src, into) for src, into, _ in self._all_error_routes()}
        for route in self.lesioned_feedback:
            if route not in intact:
                raise SpecError(f"lesioned_feedback: {route} is not a top-down error route of this circuit; "
                                f"routes (from area, into area): {sorted(intact)}")
        fed = {p.target for p in self.projections}
        for k in range(1, L + 1):
            if k not in fed:
                raise SpecError(f"area {self.area_names[k - 1]!r} receives no bottom-up projection")
        dead_ends = self.dead_end_areas()
        if dead_ends:
            warnings.warn(f"area(s) {', '.join(map(repr, dead_ends))} send nothing toward the output area "
                          f"{self.area_names[-1]!r}: no error reaches them, so their input weights never learn",
                          DeadEndWarning, stacklevel=3)

    def dead_end_areas(self) -> tuple:
        """Names of hidden areas with no chain of bottom-up projections to the output area (dead ends)."""
        reaches_output = {self.n_areas}
        for k in range(self.n_areas - 1, 0, -1):  # projections point upward: decide from the top down
            if any(p.source == k and p.target in reaches_output for p in self.projections):
                reaches_output.add(k)
        return tuple(self.area_names[k - 1] for k in range(1, self.n_areas) if k not in reaches_output)

    def _all_error_routes(self) -> list:
        if self.feedback == "backprop":
            return [(p.target, p.source, p.density) for p in self.projections if p.source > 0]
        return [(p.source, p.target, p.density) for p in self.feedback_projections]

    def error_routes(self, with_lesioned: bool = False) -> tuple:
        """(from area, into area, density) of every top-down error pathway, lesions left out
        (``with_lesioned``: included).

        With ``backprop`` feedback each bottom-up projection between areas
        sends its target's error back to its source (with W^T); with
        ``feedback_alignment`` the ``feedback_projections`` do.
        """
        return tuple(r for r in self._all_error_routes() if with_lesioned or r[:2] not in self.lesioned_feedback)

    @property
    def n_areas(self) -> int:
        return len(self.layers) - 1

    def encode_inputs(self, inputs) -> np.ndarray:
        """Task inputs (samples, input_units) -> rates of the input neurons (samples, layers[0])."""
        return _spread(inputs, self.layers[0] // self.input_units)

    def encode_targets(self, targets) -> np.ndarray:
        """Task targets (samples, output_units) -> a target per output neuron (samples, layers[-1])."""
        return _spread(targets, self.layers[-1] // self.output_units)

    def decode_outputs(self, outputs) -> np.ndarray:
        """Output neurons (samples, layers[-1]) -> task outputs (samples, output_units): block means."""
        outputs = np.atleast_2d(np.asarray(outputs, float))
        return outputs.reshape(len(outputs), self.output_units, -1).mean(axis=2)

    def projection_eta(self, projection: Projection) -> Quantity:
        """Learning rate of a bottom-up projection: its target's eta times its ``eta_scale``,
        and times its density if asked."""
        scale = projection.density if self.eta_scaled_by_density else 1.0
        return self.eta[projection.target - 1] * scale * projection.eta_scale

    def label(self, area) -> str:
        """Brian2-safe name of ``area`` (an index, 0 = input, or a name)."""
        k = self.area_index(area)
        return "input" if k == 0 else brian_label(self.area_names[k - 1])

    def area_name(self, area) -> str:
        """The name of ``area`` (an index or a name): ``'input'`` or one of ``area_names``."""
        k = self.area_index(area)
        return "input" if k == 0 else self.area_names[k - 1]

    def area_index(self, area, first: int = 0) -> int:
        """Index of ``area``: 0 = input, 1..L = the areas.

        Parameters
        ----------
        area : int or str
            An index, ``'input'``, one of ``area_names`` or its Brian2 label (:meth:`label`).
        first : int
            Lowest index accepted: 1 where the input area is not meant (e.g. silencing).

        Returns
        -------
        int
            The index; an unknown index or name raises :class:`SpecError` listing the known names.
        """
        return self.area_indices((area,), "area", first)[0]

    def area_indices(self, areas, what: str, first: int = 0) -> tuple:
        """Indices of several ``areas`` (see :meth:`area_index`); ``what`` names the parameter
        in the :class:`SpecError` that lists every unknown area at once."""
        known = {k: k for k in range(first, self.n_areas + 1)}
        for k, name in enumerate(self.area_names[:max(self.n_areas, 0)], start=1):
            known.setdefault(brian_label(name), k)
            known[name] = k
        if first == 0:
            known["input"] = 0
        resolved = [known.get(area) if _names_an_area(area) else None for area in areas]
        unknown = [area for area, k in zip(areas, resolved) if k is None]
        if unknown:
            names = ", ".join(map(repr, (["input"] if first == 0 else []) + list(self.area_names)))
            verb = "is not an area" if len(unknown) == 1 else "are not areas"
            raise SpecError(f"{what}: {', '.join(map(repr, unknown))} {verb} of this circuit "
                            f"(areas are {first}..{self.n_areas}, or by name {names})")
        return tuple(resolved)

    def _indexed_projections(self, projections) -> tuple:
        """``projections`` with area names replaced by indices (anything else is left for :meth:`validate`)."""
        indexed = []
        for p in projections:
            if isinstance(p, Projection) and (isinstance(p.source, str) or isinstance(p.target, str)):
                source, target = self.area_indices((p.source, p.target), f"projection {p}")
                p = dataclasses.replace(p, source=source, target=target)
            indexed.append(p)
        return tuple(indexed)

    @classmethod
    def from_table(cls, table, sizes, n_input: int, **fields) -> "CircuitSpec":
        """A multi-area circuit from a projection-density table.

        ``sizes`` gives the units of the first ``len(sizes)`` areas of the
        table (in table order, the last one being the output area); the input
        projects into the first area with density 1.  Bottom-up projections are
        the table's entries above the diagonal, top-down ones (used with
        feedback alignment) those below it.
        """
        table = table.first(len(sizes))

        def entries(mask):  # table row/column i is area i + 1 (0 is the input)
            return tuple(Projection(int(s) + 1, int(t) + 1, float(table.densities[s, t]))
                         for s, t in np.argwhere(mask))

        return cls(layers=(n_input, *sizes), projections=(Projection(0, 1),) + entries(table.bottom_up),
                   feedback_projections=entries(table.top_down), area_names=tuple(table.areas), **fields)

    def replace(self, **changes) -> "CircuitSpec":
        """A copy with some fields changed (``neuron`` accepts a dict of overrides)."""
        neuron = changes.pop("neuron", None)
        if isinstance(neuron, dict):
            changes["neuron"] = override(self.neuron, neuron)
        elif neuron is not None:
            changes["neuron"] = neuron
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        """The spec as JSON-ready data that :meth:`from_dict` turns back into an equal spec.

        Returns
        -------
        dict
            One entry per field; nested parameters as dicts, tuples as lists, and every
            Quantity as ``{"value": <SI float>, "unit": <Brian2 base unit>}`` (floats
            survive JSON exactly, so the round trip is bit-identical).
        """
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CircuitSpec":
        """The spec that :meth:`as_dict` wrote; an unknown field raises :class:`SpecError`."""
        data = _restored(data)
        nested = {"neuron": NeuronParams, "heterogeneity_rep": Heterogeneity, "heterogeneity_err": Heterogeneity}
        for name, kind in nested.items():
            if name in data:
                data[name] = kind(**_known_fields(kind, data[name]))
        for name in ("projections", "feedback_projections"):
            if data.get(name) is not None:
                data[name] = tuple(Projection(**_known_fields(Projection, p)) for p in data[name])
        return cls(**_known_fields(cls, data))



def _plain(value):
    """``value`` (a spec, its parts, numbers, Quantities) as JSON-ready data (see :meth:`CircuitSpec.as_dict`)."""
    if isinstance(value, Quantity):
        return {"value": np.asarray(value).tolist(), "unit": repr(get_unit(value.dim))}
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _restored(value):
    """:func:`_plain`'s output with Quantities and tuples back (dataclasses stay dicts)."""
    if isinstance(value, dict):
        if set(value) == {"value", "unit"}:
            dimensions, _ = dimensions_and_type_from_string(value["unit"])
            return np.asarray(value["value"], float) * get_unit(dimensions)
        return {name: _restored(v) for name, v in value.items()}
    if isinstance(value, list):
        return tuple(_restored(v) for v in value)
    return value


def _known_fields(kind, data: dict) -> dict:
    """``data`` if every key is a field of dataclass ``kind``, else SpecError (a file of another version)."""
    unknown = sorted(set(data) - {f.name for f in dataclasses.fields(kind)})
    if unknown:
        raise SpecError(f"{kind.__name__} has no field(s) {unknown}: written by another version of the package?")
    return data


def _names_an_area(value) -> bool:
    """Whether ``value`` can name an area: a name or a whole number (bools excluded)."""
    return isinstance(value, (str, numbers.Integral)) and not isinstance(value, bool)


def _spread(values, neurons_per_unit: int) -> np.ndarray:
    """Each column repeated for the neurons of its unit (the array itself, as 2-D floats, when 1)."""
    values = np.atleast_2d(np.asarray(values, float))
    return values if neurons_per_unit == 1 else np.repeat(values, neurons_per_unit, axis=1)


def is_count(n) -> bool:
    """A positive integer (bools excluded)."""
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1


def brian_label(name: str) -> str:
    """``name`` as a Brian2 identifier (letters, digits, underscores)."""
    label = re.sub(r"\W", "_", str(name))
    return label if label[:1].isalpha() else f"a_{label}"


def override(params, changes: dict):
    """Copy a dataclass with ``changes``, rejecting unknown keys by name."""
    known = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise SpecError(f"unknown parameter(s) {unknown}; known: {sorted(known)}")
    return dataclasses.replace(params, **changes)


def non_negative_number(name: str, value) -> float:
    """``value`` as a float if it is a plain finite number >= 0 (bools refused), else SpecError naming ``name``
    (a NaN spread or learning rate would otherwise run silently to NaN)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise SpecError(f"{name}={value!r} must be a finite number >= 0")
    return float(value)


def _check_unit(name, value, unit):
    if np.ndim(value) != 0:
        raise SpecError(f"{name}={value!r} must be a single value, not an array")
    if not have_same_dimensions(value, unit):
        raise SpecError(f"{name}={value!r} has the wrong unit; expected a value like {unit!r}")
    if not np.isfinite(float(value / unit)):
        raise SpecError(f"{name}={value!r} is not finite")


def _positive(name, value, unit):
    _check_unit(name, value, unit)
    if float(value / unit) <= 0:
        raise SpecError(f"{name}={value!r} must be positive")


def _non_negative(name, value, unit):
    _check_unit(name, value, unit)
    if float(value / unit) < 0:
        raise SpecError(f"{name}={value!r} must not be negative")


__all__ = ["NeuronParams", "CircuitSpec", "Projection", "Heterogeneity", "DeadEndWarning", "hierarchy", "brian_label", "SpecError", "override", "MODES", "FEEDBACK_MODES", "TARGETS", "SPIKING_MODES", "is_count", "non_negative_number"]
