"""The Yin-Yang data set: geometry, balance, features, published splits."""
import numpy as np
import pytest

from brian_errorcircuits.tasks.yinyang import OUTSIDE, make_yinyang, yinyang_class, yinyang_sets


@pytest.fixture(scope="module")
def data():
    return yinyang_sets()


@pytest.mark.parametrize("point, expected", [
    ((0.2, 0.5), 0),    # left half, far from both small circles: yin
    ((0.8, 0.5), 1),    # right half: yang
    ((0.35, 0.75), 1),  # left half but inside the top small circle (0.15 from its centre): yang
    ((0.65, 0.25), 0),  # right half but inside the bottom small circle: yin
    ((0.5, 0.75), 2),   # centre of the top dot
    ((0.57, 0.18), 2),  # 0.099 from the bottom dot's centre
    ((0.5, 0.88), 1),   # 0.13 above the top dot, still in the top small circle
    ((0.5, 0.12), 0),   # 0.13 below the bottom dot, still in the bottom small circle
    ((0.05, 0.05), OUTSIDE),  # corner of the square, outside the disc
    ((0.5, 0.999), 1),  # top edge of the disc
])
def test_class_rule_on_hand_checked_points(point, expected):
    assert yinyang_class(*point) == expected


def test_sizes_and_class_balance(data):
    for labels, n in ((data.y_train, 5000), (data.y_val, 1000), (data.y_test, 1000)):
        assert labels.shape == (n,)
        shares = np.bincount(labels, minlength=3) / n
        # class drawn uniformly per sample: binomial sd sqrt(2/9 / n) = 0.0067 (n=5000), 0.015 (n=1000);
        # 0.05 is more than 3 sd for every split
        assert np.allclose(shares, 1 / 3, atol=0.05), shares


def test_points_in_disc_with_their_class_and_features_mirrored(data):
    for x, labels in ((data.x_train, data.y_train), (data.x_val, data.y_val), (data.x_test, data.y_test)):
        assert x.shape[1] == 4 and x.min() >= 0 and x.max() <= 1
        assert np.allclose(x[:, :2] + x[:, 2:], 1.0, atol=1e-12)
        assert np.all(np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) <= 0.5)
        assert np.array_equal(yinyang_class(x[:, 0], x[:, 1]), labels)


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
