"""Teacher-student regression (Max et al. 2026, Fig. 3 protocol).

A random tanh network (weights U(-1, 1), no biases) maps inputs drawn
uniformly from [0, 1]^n to targets; a student of the same shape learns to
imitate it.  Because the student is no wider than its teacher, a random
frozen hidden layer cannot reproduce the teacher: the hidden area must learn.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TeacherStudentData:
    """Train / validation / test splits of one teacher."""

    teacher_weights: list
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def teacher_outputs(weights: list, inputs: np.ndarray) -> np.ndarray:
    """r_k = tanh(W_k r_{k-1}) through every layer of the teacher."""
    rates = np.asarray(inputs, float)
    for W in weights:
        rates = np.tanh(rates @ W.T)
    return rates


def make_teacher_student(layers, n_train=100, n_val=100, n_test=100, seed=0) -> TeacherStudentData:
    """A random tanh teacher of shape ``layers`` and data sets drawn from it."""
    if len(layers) < 2 or min(layers) < 1:
        raise ValueError(f"layers={layers!r}: need an input size and at least one area of >= 1 unit")
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, size=(layers[k], layers[k - 1])) for k in range(1, len(layers))]
    splits = []
    for n in (n_train, n_val, n_test):
        x = rng.uniform(0, 1, size=(n, layers[0]))
        splits += [x, teacher_outputs(weights, x)]
    return TeacherStudentData(weights, *splits)
