"""Measures of how closely a circuit follows backprop."""
from __future__ import annotations

import numpy as np

from .reference import backprop_weight_updates


def angle_degrees(a, b) -> float:
    """Angle between two arrays seen as vectors (90 if either is zero)."""
    a, b = np.ravel(a).astype(float), np.ravel(b).astype(float)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return 90.0
    a, b = a / norm_a, b / norm_b
    # 2 atan2(|a - b|, |a + b|) stays accurate near 0 and 180 degrees, unlike arccos
    return float(np.degrees(2 * np.arctan2(np.linalg.norm(a - b), np.linalg.norm(a + b))))


def weight_update_angles(circuit, inputs, targets, **timing) -> list:
    """Angle (degrees) between each projection's weight change and backprop's.

    The circuit learns over one block of presentations of (inputs, targets);
    its weight change is compared with the summed backprop gradient at the
    weights it started from.  The circuit's weights are restored afterwards,
    so the measurement leaves a trained circuit as it was.
    """
    start = [W.copy() for W in circuit.weights]
    try:
        result = circuit.run(circuit.block(inputs, targets, learning=True, label="angle-probe", **timing))
    finally:
        circuit.weights = start
    gradients = backprop_weight_updates(circuit.spec, start, inputs, targets)
    return [angle_degrees(after - before, g)
            for after, before, g in zip(result.weights_after, start, gradients)]
