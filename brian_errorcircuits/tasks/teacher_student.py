"""Teacher-student regression (Max et al. 2026, Fig. 3 protocol).

A random tanh network (weights U(-1, 1), no biases) maps inputs drawn
uniformly from [0, 1]^n to targets; a student of the same shape learns to
imitate it.  Because the student is no wider than its teacher, a random
frozen hidden layer cannot reproduce the teacher: the hidden area must learn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .splits import Splits


@dataclass(frozen=True)
class TeacherStudentData(Splits):
    """Train / validation / test splits of one teacher."""

    teacher_weights: list


def teacher_outputs(weights: list, inputs: np.ndarray, projections=None) -> np.ndarray:
    """Output rates of the teacher: r_k = tanh(sum over projections into k of W r_source).

    ``projections`` lists (source, target) area indices (0 = input), one per
    weight matrix; None means a strict hierarchy (layer k feeds layer k+1).
    """
    if projections is None:
        projections = [(k - 1, k) for k in range(1, len(weights) + 1)]
    n_areas = max(target for _, target in projections)
    rates = [np.asarray(inputs, float)]
    for k in range(1, n_areas + 1):
        rates.append(np.tanh(sum(rates[s] @ W.T for (s, t), W in zip(projections, weights) if t == k)))
    return rates[-1]


def make_teacher_student(layers, n_train=100, n_val=100, n_test=100, seed=0,
                         projections=None) -> TeacherStudentData:
    """A random tanh teacher of shape ``layers`` and data sets drawn from it.

    ``projections`` = [(source, target, density), ...] gives the teacher the
    connectivity of a multi-area circuit (weights U(-1, 1) times density);
    None is a strict hierarchy.
    """
    if len(layers) < 2 or min(layers) < 1:
        raise ValueError(f"layers={layers!r}: need an input size and at least one area of >= 1 unit")
    if projections is None:
        projections = [(k - 1, k, 1.0) for k in range(1, len(layers))]
    rng = np.random.default_rng(seed)
    weights = [density * rng.uniform(-1, 1, size=(layers[t], layers[s])) for s, t, density in projections]
    pairs = [(s, t) for s, t, _ in projections]
    splits = []
    for n in (n_train, n_val, n_test):
        x = rng.uniform(0, 1, size=(n, layers[0]))
        splits += [x, teacher_outputs(weights, x, pairs)]
    return TeacherStudentData(*splits, teacher_weights=weights)
