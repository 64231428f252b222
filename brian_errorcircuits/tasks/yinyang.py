"""Yin-Yang classification (Kriener, Goeltz & Petrovici 2022, ICONS): the published data set.

Geometry: a disc of radius ``R_BIG`` = 0.5 centred at (0.5, 0.5).  Two small
circles of radius R_BIG / 2 centred on the horizontal diameter, at
``LEFT_DOT`` = (0.25, 0.5) and ``RIGHT_DOT`` = (0.75, 0.5), draw the S-curve;
the dots, of radius ``R_SMALL`` = 0.1, sit at the same two centres.  Labels,
with the names the published data set gives them:

* 2, dot: strictly within ``R_SMALL`` of either dot centre;
* 1, yang: the upper half (y > 0.5) outside the right small circle, plus the
  left small circle; also the right dot's rim (distance exactly ``R_SMALL``);
* 0, yin: the rest of the disc, i.e. the lower half outside the left small
  circle, plus the right small circle.

(The published code computes label 1 as a flag named ``is_yin``, while its
class names and README call label 0 "yin"; the names here follow the latter.)
Yin and yang swap under the point reflection through the disc's centre, so
they cover equal areas.

Generation, as published: one ``numpy.random.RandomState(seed)`` per split.
For each sample, in order: ``randint(3)`` draws the wanted class; then pairs
``rand(2) * 2 * R_BIG`` (x, then y) are drawn until one lies inside the disc
and has the wanted class; points outside the disc or of another class are
discarded.  Classes are therefore balanced in expectation.  Features are
(x, y, 1 - x, 1 - y): the mirrored coordinates let a network without biases
separate the classes.  Splits (size, seed): train (5000, 42), validation
(1000, 41), test (1000, 40).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .splits import Splits

R_BIG = 0.5  #: radius of the disc, centred at (R_BIG, R_BIG)
R_SMALL = 0.1  #: radius of the dots
LEFT_DOT = (0.5 * R_BIG, R_BIG)  #: centre of the left small circle and dot
RIGHT_DOT = (1.5 * R_BIG, R_BIG)  #: centre of the right small circle and dot
CLASS_NAMES = ("yin", "yang", "dot")
OUTSIDE = -1  #: "class" of points outside the disc

#: (size, seed) of each split, as published
SPLITS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}


def _distance(x, y, centre) -> np.ndarray:
    """Euclidean distance, written as the published code writes it so that rims fall on the same side."""
    return np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2)


def yinyang_class(x, y) -> np.ndarray:
    """Label of points (x, y): 0 yin, 1 yang, 2 dot, -1 outside the disc (rule in the module docstring)."""
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    to_left, to_right = _distance(x, y, LEFT_DOT), _distance(x, y, RIGHT_DOT)
    is_yang = ((to_right <= R_SMALL)
               | ((to_left > R_SMALL) & (to_left <= R_BIG / 2))
               | ((y > R_BIG) & (to_right > R_BIG / 2)))
    labels = np.where((to_left < R_SMALL) | (to_right < R_SMALL), 2, is_yang.astype(int))
    return np.where(_distance(x, y, (R_BIG, R_BIG)) > R_BIG, OUTSIDE, labels)


def make_yinyang(n: int, seed: int) -> tuple:
    """The first ``n`` samples the published generator draws with ``seed``: (features (n, 4), labels (n,))."""
    rng = np.random.RandomState(seed)
    points, labels = np.empty((n, 2)), np.empty(n, int)
    for sample in range(n):
        wanted = labels[sample] = rng.randint(len(CLASS_NAMES))
        while True:
            point = rng.rand(2) * 2 * R_BIG
            if yinyang_class(*point) == wanted:
                break
        points[sample] = point
    return np.hstack([points, 1 - points]), labels


@dataclass(frozen=True)
class YinYangData(Splits):
    """The published splits: features (n, 4) = (x, y, 1-x, 1-y) and labels (n,) in {0, 1, 2}."""



def yinyang_sets() -> YinYangData:
    """Train 5000 (seed 42), validation 1000 (seed 41), test 1000 (seed 40)."""
    return YinYangData(*(part for name in ("train", "validation", "test") for part in make_yinyang(*SPLITS[name])))
