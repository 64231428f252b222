"""What the network is shown, presentation by presentation.

A :class:`Schedule` is plain data: one row per presentation of an input, an
optional target, and whether plasticity is on.  The builder turns it into
``TimedArray``s, so a whole training run (test blocks included) is a single
Brian2 ``run`` call, which is what makes ``cpp_standalone`` fast.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2.units import ms
from brian2.units.fundamentalunits import Quantity

from .spec import SpecError


@dataclass(frozen=True)
class Schedule:
    """A sequence of presentations of equal duration.

    Attributes
    ----------
    inputs : ndarray, shape (P, n_input)
        Input rates in [0, 1] (fractions of the maximal rate).
    targets : ndarray, shape (P, n_output)
        Target rates in phi's range; ignored where ``target_on`` is False.
    target_on : ndarray of bool, shape (P,)
    learning : ndarray of float, shape (P,)
        Plasticity per presentation: 0 off, 1 at the circuit's learning
        rates, other non-negative values scale them (learning-rate schedules).
    labels : ndarray of str, shape (P,)
        Segment names (e.g. ``'train-3'``, ``'test-3'``) to find results by.
    duration : Quantity
        Length of each presentation.
    settle : Quantity
        Start of each presentation left out of the presentation averages.
    """

    inputs: np.ndarray
    targets: np.ndarray
    target_on: np.ndarray
    learning: np.ndarray
    labels: np.ndarray
    duration: Quantity
    settle: Quantity

    @classmethod
    def block(
        cls,
        inputs,
        targets=None,
        *,
        target_on=None,
        learning=False,
        label: str = "block",
        duration: Quantity = 200 * ms,
        settle: Quantity = 50 * ms,
        n_outputs: int | None = None,
    ) -> "Schedule":
        """One block of presentations; ``targets=None`` presents no target.

        ``target_on`` (one bool per presentation; default: all on when targets
        are given) and ``learning`` (one bool or non-negative factor, or one
        per presentation) let a block be a sequence in which only some
        presentations carry a target or plasticity, e.g. the trials of a memory
        task; a factor other than 1 scales the learning rates (``True`` = 1).
        """
        inputs = finite_matrix("inputs", inputs)
        n = len(inputs)
        if targets is None:
            if n_outputs is None:
                raise SpecError("a block without targets needs n_outputs")
            if target_on is not None:
                raise SpecError("target_on needs targets")
            targets = np.zeros((n, n_outputs))
            target_on = np.zeros(n, bool)
        else:
            targets = finite_matrix("targets", targets)
            if len(targets) != n:
                raise SpecError(f"targets has {len(targets)} rows for {n} inputs")
            target_on = np.ones(n, bool) if target_on is None else _flags("target_on", target_on, n)
        _check_timing(duration, settle)
        return cls(
            inputs, targets, target_on, _learning_factors(learning, n), np.full(n, label, dtype=object),
            duration, settle,
        )

    def __add__(self, other: "Schedule") -> "Schedule":
        if self.duration != other.duration or self.settle != other.settle:
            raise SpecError("schedules can only be joined when duration and settle agree")
        if self.inputs.shape[1] != other.inputs.shape[1] or self.targets.shape[1] != other.targets.shape[1]:
            raise SpecError("schedules can only be joined when input and target sizes agree")
        join = lambda name: np.concatenate([getattr(self, name), getattr(other, name)])
        return Schedule(
            join("inputs"), join("targets"), join("target_on"), join("learning"), join("labels"),
            self.duration, self.settle,
        )

    def __len__(self) -> int:
        return len(self.inputs)

    def indices(self, label: str) -> np.ndarray:
        """Presentations of the segment named ``label``."""
        return np.flatnonzero(self.labels == label)

    @property
    def total_time(self) -> Quantity:
        return len(self) * self.duration

    @property
    def averaging_steps_per_presentation(self) -> int:
        """Slots of length ``settle`` per presentation (the averaging gate's resolution)."""
        return int(round(float(self.duration / self.settle))) if self.settle > 0 * ms else 1

    def averaging_gate(self) -> np.ndarray:
        """0 during settling, 1 afterwards, at the resolution of ``settle``."""
        slots = self.averaging_steps_per_presentation
        pattern = np.ones(slots)
        if self.settle > 0 * ms:
            pattern[0] = 0.0
        return np.tile(pattern, len(self))

    @property
    def averaged_time(self) -> Quantity:
        return self.duration - self.settle


def finite_matrix(name, values) -> np.ndarray:
    """``values`` as a float matrix (presentations x units; 1-d = one presentation), all finite,
    or :class:`SpecError` naming ``name`` (and the first non-finite entry)."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be an array of numbers (presentations x units)") from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] == 0:
        raise SpecError(f"{name} must be a 2-d array (presentations x units), got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise SpecError(f"{name} contains NaN or infinite values (first at row {row}, column {col})")
    return array


def _flags(name, values, n: int) -> np.ndarray:
    """One bool per presentation from a single bool or a sequence of n bools."""
    flags = np.asarray(values)
    if flags.ndim == 0:
        return np.full(n, bool(flags))
    if flags.shape != (n,) or not np.isin(flags, (0, 1)).all():
        raise SpecError(f"{name} must be one bool or {n} bools (one per presentation), got {values!r}")
    return flags.astype(bool)


def _learning_factors(values, n: int) -> np.ndarray:
    """One learning-rate factor per presentation from a bool / factor or a sequence of n of them."""
    try:
        factors = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        factors = None
    if factors is None or factors.ndim > 1 or (factors.ndim == 1 and factors.shape != (n,)) \
            or not np.all(np.isfinite(factors)) or np.any(factors < 0):
        raise SpecError(f"learning must be one bool or factor >= 0, or {n} of them (one per presentation), "
                        f"got {values!r}")
    return np.broadcast_to(factors, (n,)).copy()


def _check_timing(duration, settle):
    if not _is_finite_time(duration) or duration <= 0 * ms:
        raise SpecError(f"duration={duration!r} must be a finite, positive time")
    if not _is_finite_time(settle) or settle < 0 * ms or settle >= duration:
        raise SpecError(f"settle={settle!r} must be a time in [0, duration)")
    if settle > 0 * ms:
        ratio = float(duration / settle)
        if abs(ratio - round(ratio)) > 1e-9:
            raise SpecError(f"duration={duration!r} must be a whole multiple of settle={settle!r}")


def _is_finite_time(value) -> bool:
    """A single finite Quantity in units of time (NaN passes every comparison, so it is refused here)."""
    return isinstance(value, Quantity) and value.dim == ms.dim and np.ndim(value) == 0 \
        and bool(np.isfinite(float(value / ms)))
