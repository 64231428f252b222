"""Delayed match-to-sample trials: balance, layout and answers."""
import numpy as np
import pytest

from brian_errorcircuits.tasks.dms import encode, make_dms_trials


def test_kinds_are_balanced_and_answers_correct():
    trials = make_dms_trials(40, seed=1)
    pairs = list(zip(trials.first, trials.second))
    for kind in ((1, 1), (-1, -1), (1, -1), (-1, 1)):
        assert pairs.count(kind) == 10
    assert (trials.answer == 1).sum() == (trials.answer == -1).sum() == 20
    np.testing.assert_array_equal(trials.answer, np.where(trials.first == trials.second, 1.0, -1.0))


def test_every_block_of_four_trials_holds_each_kind_once():
    trials = make_dms_trials(24, seed=3)
    pairs = np.stack([trials.first, trials.second], axis=1).reshape(6, 4, 2)
    for block in pairs:
        assert {tuple(pair) for pair in block} == {(1, 1), (-1, -1), (1, -1), (-1, 1)}


def test_trial_layout_fixation_stimulus_delay_response():
    trials = make_dms_trials(12, seed=2, fixation=2, delays=(1, 3), fixation_rate=0.3)
    assert set(trials.delay) <= {1, 3}
    for n in range(len(trials)):
        rows = np.flatnonzero(trials.trial == n)
        assert len(rows) == 2 + 1 + trials.delay[n] + 1
        x = trials.inputs[rows]
        np.testing.assert_array_equal(x[:2, :2], 0)  # fixation: no stimulus
        np.testing.assert_array_equal(x[2], encode(trials.first[n], 0.3))
        np.testing.assert_array_equal(x[3:-1, :2], 0)  # delay
        np.testing.assert_array_equal(x[:, 2], 0.3)  # the fixation point stays on
        np.testing.assert_array_equal(x[-1], encode(trials.second[n], 0.3))
        np.testing.assert_array_equal(trials.response[rows], [False] * (len(rows) - 1) + [True])
        assert trials.targets[rows[-1], 0] == trials.answer[n]
        np.testing.assert_array_equal(trials.targets[rows[:-1]], 0)


def test_inputs_are_rates_one_channel_per_sign():
    trials = make_dms_trials(8)
    assert trials.inputs.min() == 0 and trials.inputs.max() == 1
    assert (trials.inputs[:, :2].sum(axis=1) <= 1).all()
    np.testing.assert_array_equal(encode(1), [1, 0, 1])
    np.testing.assert_array_equal(encode(-1), [0, 1, 1])
    np.testing.assert_array_equal(encode(0), [0, 0, 1])


def test_same_seed_same_trials_and_delays_vary():
    a, b = make_dms_trials(20, seed=5), make_dms_trials(20, seed=5)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    assert len(set(a.delay)) > 1


@pytest.mark.parametrize("kwargs", [dict(n_trials=0), dict(n_trials=4, delays=()), dict(n_trials=4, fixation=-1),
                                    dict(n_trials=4, fixation_rate=1.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_dms_trials(**kwargs)
