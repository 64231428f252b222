"""Yin-Yang classification (Kriener, Goeltz & Petrovici 2022, ICONS).

A disc of radius ``R_BIG`` = 0.5 centred at (0.5, 0.5) is split into three
classes: yin (0), yang (1) and the two dots (2).  Two small circles of radius
R_BIG / 2, centred at (0.5, 0.75) (top) and (0.5, 0.25) (bottom), draw the
S-curve between yin and yang; the dots, of radius ``R_SMALL`` = 0.1, sit at
the same two centres.  The rule, applied in this order:

1. dot, if the point lies within ``R_SMALL`` of either dot centre;
2. yin, if it lies inside the bottom small circle, or in the left half
   (x < 0.5) and outside the top small circle;
3. yang otherwise (right half outside the bottom small circle, and the top
   small circle).

Yin and yang are mirror images under the point reflection through the
disc's centre, so they cover equal areas.  Procedure of the paper: each
sample first draws its class uniformly, then draws points uniformly from
[0, 1]^2 until one falls into that class (points outside the disc belong to
no class and are always rejected); classes are therefore balanced in
expectation.  Features are (x, y, 1 - x, 1 - y), all in [0, 1]: the mirrored
coordinates let a network without biases separate the classes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

R_BIG = 0.5  #: radius of the disc
R_SMALL = 0.1  #: radius of the dots
CENTRE = np.array([0.5, 0.5])
TOP = np.array([0.5, 0.75])  #: centre of the upper small circle and dot
BOTTOM = np.array([0.5, 0.25])  #: centre of the lower small circle and dot
CLASS_NAMES = ("yin", "yang", "dot")
OUTSIDE = -1  #: "class" of points outside the disc

#: (size, seed) of each split, as published
SPLITS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}


def yinyang_class(x, y) -> np.ndarray:
    """Class of points (x, y): 0 yin, 1 yang, 2 dot, -1 outside the disc (rule in the module docstring)."""
    points = np.stack(np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float)), axis=-1)
    to_top = np.linalg.norm(points - TOP, axis=-1)
    to_bottom = np.linalg.norm(points - BOTTOM, axis=-1)
    in_yin = (to_bottom <= R_BIG / 2) | ((points[..., 0] < CENTRE[0]) & (to_top > R_BIG / 2))
    labels = np.where(in_yin, 0, 1)
    labels = np.where((to_top <= R_SMALL) | (to_bottom <= R_SMALL), 2, labels)
    return np.where(np.linalg.norm(points - CENTRE, axis=-1) > R_BIG, OUTSIDE, labels)


def make_yinyang(n: int, seed: int) -> tuple:
    """``n`` samples drawn with ``numpy.random.default_rng(seed)``: (features (n, 4), labels (n,)).

    Per sample: class uniform over the three, then points uniform in
    [0, 1]^2 (x drawn before y) until one has that class.
    """
    rng = np.random.default_rng(seed)
    points, labels = np.empty((n, 2)), np.empty(n, int)
    for sample in range(n):
        wanted = labels[sample] = rng.integers(len(CLASS_NAMES))
        while True:
            point = rng.uniform(0, 1, size=2)
            if yinyang_class(*point) == wanted:
                break
        points[sample] = point
    return np.hstack([points, 1 - points]), labels


@dataclass(frozen=True)
class YinYangData:
    """The published splits: features (n, 4) = (x, y, 1-x, 1-y) and labels (n,) in {0, 1, 2}."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def yinyang_sets() -> YinYangData:
    """Train 5000 (seed 42), validation 1000 (seed 41), test 1000 (seed 40)."""
    return YinYangData(*(part for name in ("train", "validation", "test") for part in make_yinyang(*SPLITS[name])))
