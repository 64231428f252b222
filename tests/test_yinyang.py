"""The Yin-Yang data set: the published generator's samples, geometry, balance, features."""
import math

import numpy as np
import pytest

from brian_errorcircuits.tasks.yinyang import OUTSIDE, SPLITS, make_yinyang, yinyang_class, yinyang_sets


@pytest.fixture(scope="module")
def data():
    return yinyang_sets()


def split(data, name):
    """(features, labels) of one published split."""
    return {"train": (data.x_train, data.y_train), "validation": (data.x_val, data.y_val),
            "test": (data.x_test, data.y_test)}[name]


def label_by_geometry(x, y):
    """Label read off the picture: dots, then the left small circle (yang), the right one (yin), then the halves."""
    if math.hypot(x - 0.5, y - 0.5) > 0.5:
        return None
    to_left, to_right = math.hypot(x - 0.25, y - 0.5), math.hypot(x - 0.75, y - 0.5)
    if min(to_left, to_right) < 0.1:
        return 2
    if to_left <= 0.25:
        return 1
    if to_right <= 0.25:
        return 0
    return 1 if y > 0.5 else 0


def first_samples_by_hand(seed, count):
    """The published procedure step by step on a fresh RandomState: class first, then (x, y) pairs until one fits."""
    rng = np.random.RandomState(seed)
    features, labels = [], []
    for _ in range(count):
        wanted = rng.randint(3)
        x, y = rng.rand(2)  # times 2 * r_big = 1
        while label_by_geometry(x, y) != wanted:
            x, y = rng.rand(2)
        features.append([x, y, 1 - x, 1 - y])
        labels.append(wanted)
    return np.array(features), np.array(labels)


@pytest.mark.parametrize("name", SPLITS)
def test_first_samples_are_the_published_ones(data, name):
    features, labels = split(data, name)
    expected_features, expected_labels = first_samples_by_hand(SPLITS[name][1], count=20)
    assert np.array_equal(labels[:20], expected_labels)
    assert np.allclose(features[:20], expected_features, rtol=0, atol=1e-15)


@pytest.mark.parametrize("point, expected", [
    ((0.25, 0.5), 2),    # left dot's centre
    ((0.75, 0.5), 2),    # right dot's centre
    ((0.25, 0.59), 2),   # 0.09 above the left dot's centre
    ((0.75, 0.41), 2),   # 0.09 below the right dot's centre
    ((0.25, 0.61), 1),   # 0.11 from the left dot's centre: left small circle, yang
    ((0.25, 0.3), 1),    # lower half but in the left small circle (0.2 from its centre): yang
    ((0.05, 0.45), 1),   # lower half, 0.21 from the left centre: yang
    ((0.75, 0.7), 0),    # upper half but in the right small circle: yin
    ((0.9, 0.55), 0),    # upper half, 0.16 from the right centre: yin
    ((0.75, 0.37), 0),   # lower half, 0.13 from the right centre: yin
    ((0.5, 0.9), 1),     # upper half, 0.47 from the right centre: yang
    ((0.5, 0.1), 0),     # lower half, 0.47 from the left centre: yin
    ((0.5, 0.999), 1),   # top edge of the disc
    ((0.05, 0.05), OUTSIDE),  # corner of the square, outside the disc
])
def test_class_rule_on_hand_checked_points(point, expected):
    assert yinyang_class(*point) == expected


def test_yin_and_yang_swap_under_point_reflection():
    grid = np.linspace(0.003, 0.997, 97)
    x, y = np.meshgrid(grid, grid)
    labels, reflected = yinyang_class(x, y), yinyang_class(1 - x, 1 - y)
    swapped = np.select([labels == 0, labels == 1], [1, 0], labels)
    assert np.mean(reflected == swapped) > 0.999  # only points on a rim may disagree
    assert np.sum(labels == 0) == pytest.approx(np.sum(labels == 1), rel=0.02)


@pytest.mark.parametrize("name", SPLITS)
def test_class_balance(data, name):
    n = SPLITS[name][0]
    _, labels = split(data, name)
    assert labels.shape == (n,)
    counts = np.bincount(labels, minlength=3)
    # the class of each sample is drawn uniformly: counts ~ Binomial(n, 1/3), sd sqrt(2 n / 9) = 33 (n = 5000),
    # 15 (n = 1000); 4 sd allows 1667 +- 133 and 333 +- 60
    assert np.all(np.abs(counts - n / 3) <= 4 * math.sqrt(2 * n / 9)), counts


@pytest.mark.parametrize("name", SPLITS)
def test_points_in_disc_with_their_class_and_features_mirrored(data, name):
    x, labels = split(data, name)
    assert x.shape[1] == 4 and x.min() >= 0 and x.max() <= 1
    assert np.allclose(x[:, :2] + x[:, 2:], 1.0, rtol=0, atol=1e-12)
    assert np.all(np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) <= 0.5)
    assert np.array_equal(yinyang_class(x[:, 0], x[:, 1]), labels)
    in_dots = (np.hypot(x[:, 0] - 0.25, x[:, 1] - 0.5) < 0.1) | (np.hypot(x[:, 0] - 0.75, x[:, 1] - 0.5) < 0.1)
    assert np.array_equal(in_dots, labels == 2)


def test_splits_differ_and_seed_reproduces(data):
    assert not np.allclose(data.x_train[:1000], data.x_val)
    assert not np.allclose(data.x_val, data.x_test)
    features, labels = make_yinyang(1000, seed=40)
    assert np.array_equal(features, data.x_test) and np.array_equal(labels, data.y_test)
    assert not np.array_equal(make_yinyang(50, seed=1)[0], make_yinyang(50, seed=2)[0])


def test_targets_and_readout_of_the_experiment():
    """One-hot targets in tanh's range; spike counts per output unit only after settling."""
    from types import SimpleNamespace

    import brian2 as b2

    from brian_errorcircuits import CircuitSpec
    from brian_errorcircuits.experiments.yinyang import accuracy, one_hot_targets, output_spike_counts
    from brian_errorcircuits.schedule import Schedule

    targets = one_hot_targets(np.array([2, 0]), {"target_high": 0.6, "target_low": -0.6})
    assert np.array_equal(targets, [[-0.6, -0.6, 0.6], [0.6, -0.6, -0.6]])
    assert accuracy([[0.1, 0.5, 0.2], [0.9, 0.0, 0.0]], np.array([1, 1])) == 0.5
    spec = CircuitSpec(layers=(4, 5, 3), mode="sampled")
    schedule = Schedule.block(np.zeros((2, 4)), n_outputs=3, label="test", duration=100 * b2.ms, settle=25 * b2.ms)
    # two neurons per unit; presentation 0 spans 0-0.1 s (counted from 0.025 s), presentation 1 spans 0.1-0.2 s
    times = np.array([0.010, 0.030, 0.050, 0.090, 0.110, 0.150, 0.160, 0.199])
    units = np.array([0, 0, 2, 2, 1, 1, 1, 0])
    spikes = {(2, "P"): {"t": times, "unit": units, "i": 2 * units, "per_unit": 2, "n_neurons": 6}}
    counts = output_spike_counts(SimpleNamespace(schedule=schedule, spec=spec, spikes=spikes), "test")
    # spikes per neuron per second over the 75 ms windows (the 0.010 s and 0.110 s spikes fall in settling)
    expected = np.array([[1, 0, 2], [1, 2, 0]]) / (2 * 0.075)
    assert np.allclose(counts, expected, rtol=1e-12)
