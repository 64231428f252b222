"""The populations (paper Fig. 4) and heterogeneity (paper Fig. 5) experiments: task, circuits, run functions.

Tiny sizes on Brian2's numpy target; the sweeps themselves run in tests/test_experiments.py.
"""
import numpy as np
import pytest
from sklearn.datasets import load_digits

from brian_errorcircuits.arrays import CircuitArrays
from brian_errorcircuits.experiments import heterogeneity, populations, teacher_student
from brian_errorcircuits.experiments.base import parameters
from brian_errorcircuits.spec import SpecError
from brian_errorcircuits.tasks.digits import make_digits


def test_digits_targets_are_the_class_mean_images_of_disjoint_halves():
    """Each training presentation's target is its label's mean training image; the two halves' means,
    weighted by their sizes, give the class mean over all images (to 1e-12): the split is a partition."""
    data = make_digits(n_train=25, seed=4)
    assert data.x_train.shape == (25, 10) and data.y_train.shape == (25, 64)
    labels = data.x_train.argmax(axis=1)
    assert np.array_equal(data.x_train, np.eye(10)[labels])
    assert sorted(np.bincount(labels, minlength=10)) == [2] * 5 + [3] * 5  # equal shares of 25
    assert np.array_equal(data.y_train, data.train_images[labels])
    assert np.array_equal(data.x_test, np.eye(10)) and np.array_equal(data.y_test, data.test_images)
    digits = load_digits()
    for label in range(10):
        images = digits.data[digits.target == label] / 16
        n_test = int(round(0.5 * len(images)))
        weighted = (n_test * data.test_images[label] + (len(images) - n_test) * data.train_images[label]) / len(images)
        assert np.allclose(weighted, images.mean(axis=0), rtol=0, atol=1e-12)
    assert 0 < np.abs(data.train_images - data.test_images).max() < 0.3  # held out: close, not equal
    assert np.array_equal(make_digits(25, seed=4).y_train, data.y_train)


def tiny_population_run(n_rep, n_err, lateral_noise=0.0, mode="rate"):
    params = parameters(populations.DEFAULTS, ["n_train=2", "rate_epochs=1", "rate_duration_ms=60", "dt_ms=1",
                                               "spiking_duration_ms=20", "spiking_epochs=1", "pixel_neurons=2",
                                               f"lateral_noise={lateral_noise}"], target="numpy")
    return populations.run_parameters(params, n_rep, n_err, mode, seed=1)


def test_population_circuit_has_the_task_shape_with_pixel_populations_in_spiking_mode():
    rate = populations.make_spec(tiny_population_run(7, 3))
    assert rate.layers == (10, 7, 64) and rate.error_sizes == (3, 64) and rate.output_units == 64
    spiking = populations.make_spec(tiny_population_run(7, 3, mode="spiking"))
    assert spiking.layers == (10, 7, 128) and spiking.error_sizes == (3, 128) and spiking.output_units == 64
    assert spiking.mode == "spiking" and rate.lateral_noise == 0.0


@pytest.mark.parametrize("n_rep, n_err", [(6, 3), (3, 6)])
def test_fewer_or_more_error_neurons_carry_backprop_with_exact_feedback(n_rep, n_err, tmp_path):
    """n_E != n_R, identity laterals and exact W^T: the hidden error neurons' signals point along their
    partners' backprop deltas before and after a short training, and training lowers the test error.
    Tolerance: cosine >= 0.995, not the 0.999 of small errors: untrained pixel errors reach 1, and the
    nudged steady state departs from backprop's linearisation by terms of second order in the error.
    Presentations of 60 ms, averaged over their last 15 ms: the error somata (``prospective_errors``
    false, the experiment's default) settle within a few of their 8-11 ms time constants."""
    result = populations.train_one(tiny_population_run(n_rep, n_err), tmp_path)
    assert result["cosine_start"] >= 0.995 and result["cosine_end"] >= 0.995
    assert len(result["curve"]) == 2 and result["final"] < result["initial"]
    if n_rep > n_err:  # the paper's lateral noise U(-0.03, 0.03) mixes the partners' errors a little
        noisy = populations.train_one(tiny_population_run(n_rep, n_err, lateral_noise=0.03), tmp_path)
        assert 0.9 < noisy["cosine_start"] < result["cosine_start"]


def test_populations_refuses_an_unknown_mode_and_repeated_sizes():
    for overrides, message in ((["modes=rate,banana"], "banana"), (["sizes_rep=50,50"], "sizes_rep")):
        with pytest.raises(SpecError, match=message):
            populations.check(parameters(populations.DEFAULTS, overrides))


def heterogeneity_spec(placement, sigma, mode="rate"):
    params = parameters(heterogeneity.DEFAULTS, [], target="numpy")
    run = heterogeneity.run_parameters(params, mode, placement, sigma, seed=2)
    return run, teacher_student.make_spec({**teacher_student.DEFAULTS, **run, "layers": tuple(run["layers"])})


def test_zero_spread_is_the_homogeneous_teacher_student_circuit_for_both_placements():
    """sigma = 0 is one run (the same sweep key) whichever the placement, and its circuit's spec, weights
    and per-neuron values are the homogeneous teacher-student circuit's."""
    run_rep, spec_rep = heterogeneity_spec("rep", 0.0)
    run_err, _ = heterogeneity_spec("err", 0.0)
    assert run_rep == run_err
    homogeneous = teacher_student.make_spec({**teacher_student.DEFAULTS, "mode": "rate", "seed": 2,
                                             "target": "numpy", "eta_hz": run_rep["eta_hz"],
                                             "neurons_per_unit": run_rep["neurons_per_unit"]})
    assert spec_rep == homogeneous
    ours, theirs = CircuitArrays.draw(spec_rep), CircuitArrays.draw(homogeneous)
    for a, b in zip(ours.weights, theirs.weights):
        assert np.array_equal(a, b)
    for area in ours.neurons[1:]:
        for population in ("P", "E"):
            assert np.all(area[population][f"slope_{population}"] == 1.0) and np.all(area[population][f"offset_{population}"] == 0.0)


@pytest.mark.parametrize("placement, spread, plain", [("rep", "P", "E"), ("err", "E", "P")])
def test_a_spread_reaches_only_its_placement_with_the_same_weights(placement, spread, plain):
    """sigma = 0.5 in one placement: that population's slopes and offsets spread with s.d. near 0.5
    (12 neurons: within 0.2), the other's stay 1 and 0; forward weights equal the homogeneous circuit's."""
    _, spec = heterogeneity_spec(placement, 0.5)
    _, homogeneous = heterogeneity_spec(placement, 0.0)
    arrays = CircuitArrays.draw(spec)
    for a, b in zip(arrays.weights, CircuitArrays.draw(homogeneous).weights):
        assert np.array_equal(a, b)
    slopes = np.concatenate([area[spread][f"slope_{spread}"] for area in arrays.neurons[1:]])
    offsets = np.concatenate([area[spread][f"offset_{spread}"] for area in arrays.neurons[1:]])
    assert abs(slopes.std() - 0.5) < 0.2 and abs(offsets.std() - 0.5) < 0.2
    for area in arrays.neurons[1:]:
        assert np.all(area[plain][f"slope_{plain}"] == 1.0) and np.all(area[plain][f"offset_{plain}"] == 0.0)


def test_heterogeneity_refuses_an_unknown_placement():
    with pytest.raises(SpecError, match="placements"):
        heterogeneity.check(parameters(heterogeneity.DEFAULTS, ["placements=rep,dendrite"]))
