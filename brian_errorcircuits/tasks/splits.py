"""The train / validation / test splits that every supervised task returns."""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Splits:
    """Inputs (x) and targets or labels (y) of the training, validation and test sets, one row per sample."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
