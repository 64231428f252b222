"""Validated, plain descriptions of a circuit: everything needed to build it.

Nothing here creates Brian2 objects; units come from ``brian2.units`` so that
parameters carry physical dimensions and are checked before any code is
generated.  Every check raises :class:`SpecError` naming the parameter.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from brian2.units import Hz, ms
from brian2.units.fundamentalunits import Quantity, have_same_dimensions

from .equations import ACTIVATIONS

MODES = ("rate", "spiking")
FEEDBACK_MODES = ("backprop", "feedback_alignment")
TARGETS = ("cython", "numpy", "cpp_standalone")


def unit_default(value):
    """A dataclass default for a Quantity (Quantities are mutable arrays)."""
    return field(default_factory=lambda: value)


class SpecError(ValueError):
    """A circuit description is invalid; the message names the parameter."""


@dataclass(frozen=True)
class NeuronParams:
    """Conductances, activations and spike-coding constants of one circuit.

    Defaults follow Max et al. 2026 (conductances in 1/ms) and the spiking
    choices documented in README ("Spiking mode").
    """

    g_l: Quantity = unit_default(0.03 / ms)  #: leak conductance of every soma
    g_bas: Quantity = unit_default(0.1 / ms)  #: basal -> soma coupling (representation neurons)
    g_api: Quantity = unit_default(0.06 / ms)  #: apical -> soma coupling (representation neurons)
    g_den: Quantity = unit_default(0.1 / ms)  #: dendrite -> soma coupling (hidden error neurons)
    g_tgt: Quantity = unit_default(0.06 / ms)  #: target nudging conductance (output error neurons)
    activation: str = "tanh"  #: phi of hidden representation neurons
    output_activation: str = "tanh"  #: phi of output representation neurons
    prospective: bool = True  #: read rates from u + tau_eff du/dt (Latent Equilibrium)
    lateral_weight: float = 1.0  #: one-to-one P<->E weights (identity by default)
    # spiking mode only
    n_rep: int = 50  #: spiking neurons per representation unit
    n_err: int = 50  #: spiking neurons per error unit and sign (+ and - populations)
    rate_max: Quantity = unit_default(100 * Hz)  #: rate of a representation neuron at the top of phi's range
    rate_err: Quantity = unit_default(100 * Hz)  #: rate of an error neuron per unit of signed error
    tau_syn: Quantity = unit_default(10 * ms)  #: synaptic filter of every spike train

    def validate(self) -> "NeuronParams":
        for name in ("g_l", "g_bas", "g_api", "g_den", "g_tgt"):
            _positive(name, getattr(self, name), 1 / ms)
        for name in ("rate_max", "rate_err"):
            _positive(name, getattr(self, name), Hz)
        _positive("tau_syn", self.tau_syn, ms)
        for name in ("activation", "output_activation"):
            value = getattr(self, name)
            if value not in ACTIVATIONS:
                raise SpecError(f"{name}={value!r} is unknown; choose one of {sorted(ACTIVATIONS)}")
        for name in ("n_rep", "n_err"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise SpecError(f"{name}={value!r}: a population needs at least 1 neuron")
        if not np.isfinite(self.lateral_weight):
            raise SpecError(f"lateral_weight={self.lateral_weight!r} is not finite")
        return self

    @property
    def basal_fraction(self) -> float:
        """a = g_bas / (g_l + g_bas + g_api): what the basal dendrite alone predicts of the soma."""
        return float(self.g_bas / (self.g_l + self.g_bas + self.g_api))


@dataclass(frozen=True)
class CircuitSpec:
    """A layered error-neuron circuit: sizes, learning rates, modes, timing.

    Parameters
    ----------
    layers : sequence of int
        Units per area, input first, e.g. ``(4, 30, 2)``.
    mode : {'rate', 'spiking'}
        The same equations without spikes, or with Poisson populations and
        filtered spike trains.
    feedback : {'backprop', 'feedback_alignment'}
        Top-down weights track W^T of the current forward weights, or stay
        fixed and random.
    eta : sequence of Quantity (1/second)
        Learning rate of the basal synapses into each area (len = areas).
    dt : Quantity (second)
        Integration step.
    """

    layers: tuple
    mode: str = "spiking"
    feedback: str = "backprop"
    eta: tuple = None
    init_scale: tuple = None  #: forward weights start in U(-s, s) per area; default 1/sqrt(fan-in)
    feedback_scale: float = 1.0  #: scale of the fixed random top-down weights (feedback_alignment)
    neuron: NeuronParams = field(default_factory=NeuronParams)
    dt: Quantity = unit_default(0.25 * ms)
    seed: int = 0
    target: str = "cython"

    def __post_init__(self):
        object.__setattr__(self, "layers", tuple(self.layers) if self.layers is not None else ())
        areas = len(self.layers) - 1
        if self.eta is None:
            object.__setattr__(self, "eta", (0 * Hz,) * max(areas, 0))
        elif not isinstance(self.eta, (tuple, list)):
            object.__setattr__(self, "eta", (self.eta,) * max(areas, 0))
        sizes_ok = all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                       for n in self.layers)
        if self.init_scale is None and areas > 0 and sizes_ok:
            object.__setattr__(
                self, "init_scale", tuple(1 / np.sqrt(n) for n in self.layers[:-1])
            )
        object.__setattr__(self, "eta", tuple(self.eta))
        object.__setattr__(self, "init_scale", tuple(self.init_scale or ()))

    def validate(self) -> "CircuitSpec":
        if len(self.layers) < 2:
            raise SpecError(f"layers={self.layers!r}: need an input size and at least one area")
        for k, n in enumerate(self.layers):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise SpecError(f"layers[{k}]={n!r}: every area needs at least 1 unit")
        if self.mode not in MODES:
            raise SpecError(f"mode={self.mode!r} is unknown; choose one of {MODES}")
        if self.feedback not in FEEDBACK_MODES:
            raise SpecError(f"feedback={self.feedback!r} is unknown; choose one of {FEEDBACK_MODES}")
        if self.target not in TARGETS:
            raise SpecError(f"target={self.target!r} is unknown; choose one of {TARGETS}")
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
        self.neuron.validate()
        if self.mode == "spiking":
            for name in ("activation", "output_activation"):
                act = ACTIVATIONS[getattr(self.neuron, name)]
                if act.rate_low is None:
                    raise SpecError(
                        f"{name}={act.name!r} has no lower bound, so it cannot set a "
                        "non-negative firing rate in spiking mode"
                    )
        return self

    @property
    def n_areas(self) -> int:
        return len(self.layers) - 1

    def replace(self, **changes) -> "CircuitSpec":
        """A copy with some fields changed (``neuron`` accepts a dict of overrides)."""
        neuron = changes.pop("neuron", None)
        if isinstance(neuron, dict):
            changes["neuron"] = override(self.neuron, neuron)
        elif neuron is not None:
            changes["neuron"] = neuron
        return dataclasses.replace(self, **changes)


def override(params, changes: dict):
    """Copy a dataclass with ``changes``, rejecting unknown keys by name."""
    known = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise SpecError(f"unknown parameter(s) {unknown}; known: {sorted(known)}")
    return dataclasses.replace(params, **changes)


def _check_unit(name, value, unit):
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


__all__ = ["NeuronParams", "CircuitSpec", "SpecError", "override", "MODES", "FEEDBACK_MODES", "TARGETS"]
