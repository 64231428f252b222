"""Label-to-image regression on scikit-learn's handwritten digits (Max et al. 2026, Fig. 4 protocol).

The paper maps a one-hot digit label to a 784-pixel MNIST image; MNIST cannot
be downloaded here, so this uses the 1797 8x8 images (64 pixels, values 0..16,
scaled to [0, 1]) that ship with scikit-learn.

The input is the label alone, so the best any network can output for a label
is the mean of that label's images: individual images would only add
irreducible variance to every score.  The target of a label is therefore the
mean image of its class, taken over the training images (training targets)
or over held-out images (test targets): test error measures how well the
learned images match what the class looks like in images never used, with
one test presentation per label.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .splits import Splits

#: Digit classes (input units) and pixels of an image (output units).
LABELS, PIXELS = 10, 64


@dataclass(frozen=True)
class DigitsData(Splits):
    """Presentations of the label-to-image task: one-hot labels (x) and mean images (y).

    ``x_train`` / ``y_train``: ``n_train`` presentations, the labels in equal
    shares, shuffled; ``x_val`` / ``y_val`` and ``x_test`` / ``y_test``: each
    label once, with the training and the held-out mean images.
    ``train_images`` / ``test_images``: (labels, pixels) mean images per label.
    """

    train_images: np.ndarray
    test_images: np.ndarray


def make_digits(n_train: int = 100, seed: int = 0, test_fraction: float = 0.5) -> DigitsData:
    """The task from scikit-learn's digits: images split per class into training and held-out halves
    (``test_fraction`` held out, drawn with ``seed``), mean image per label and split, ``n_train``
    training presentations (each label ``n_train // 10`` or one more times, in a seeded order)."""
    from sklearn.datasets import load_digits

    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction!r} must be in (0, 1)")
    digits = load_digits()
    images, labels = digits.data / 16.0, digits.target
    rng = np.random.default_rng(seed)
    train_images, test_images = np.zeros((LABELS, PIXELS)), np.zeros((LABELS, PIXELS))
    for label in range(LABELS):
        members = rng.permutation(np.flatnonzero(labels == label))
        held_out = int(round(test_fraction * len(members)))
        test_images[label] = images[members[:held_out]].mean(axis=0)
        train_images[label] = images[members[held_out:]].mean(axis=0)
    one_hot = np.eye(LABELS)
    order = rng.permutation(np.arange(n_train) % LABELS)
    return DigitsData(one_hot[order], train_images[order], one_hot, train_images, one_hot, test_images,
                      train_images, test_images)
