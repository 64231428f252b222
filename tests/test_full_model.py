"""The original's full model: lateral matrices, noisy feedback, populations, heterogeneity.

Rate mode against the numpy reference with every option on, the defaults
against the unit-level circuit, and the population mapping of task units.
"""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, Heterogeneity, Recording, cosine
from brian_errorcircuits.arrays import CircuitArrays, partner_matrix
from brian_errorcircuits.populations import neuron_level
from brian_errorcircuits.reference import RateReference, backprop_deltas
from brian_errorcircuits.spec import Projection, SpecError
from reference_checks import assert_matches_reference

#: 8 input neurons for 4 input units, hidden areas of 7 and 5 representation neurons with 5 and 6
#: error neurons, 6 output neurons for 3 output units; a skip projection 1 -> 3.
FULL = dict(
    layers=(8, 7, 5, 6), error_sizes=(5, 6, 6), input_units=4, output_units=3, mode="rate",
    projections=(Projection(0, 1), Projection(1, 2), Projection(2, 3), Projection(1, 3, 0.5)),
    eta=(3 * b2.Hz,) * 3, dt=0.1 * b2.ms, seed=2,
    lateral_noise=0.3, eta_lateral=20 * b2.Hz, heterogeneity_rep=Heterogeneity(slope=0.5, offset=0.3),
    heterogeneity_err=Heterogeneity(slope=0.3, offset=0.05), initial_voltage_spread=1.0,
)


def task(n, spec, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, spec.input_units)), rng.uniform(-0.8, 0.8, (n, spec.output_units))


@pytest.mark.parametrize("feedback, feedback_noise, target", [
    ("backprop", 0.5, "cython"), ("backprop", 0.5, "numpy"), ("feedback_alignment", 0.0, "numpy")])
def test_full_model_rate_mode_matches_numpy_reference(feedback, feedback_noise, target):
    """Everything on: voltages, forward and lateral weights agree with the numpy reference.

    1200 steps (6 presentations of 20 ms at dt = 0.1 ms), plasticity on for
    four of them, a target on for five: relative error <= 1e-6 (the same
    arithmetic in another order; observed ~1e-14).
    """
    spec = CircuitSpec(**FULL, feedback=feedback, feedback_noise=feedback_noise, target=target)
    circuit = ErrorCircuit(spec)
    x, y = task(6, spec)
    timing = dict(duration=20 * b2.ms, settle=5 * b2.ms)
    schedule = (circuit.block(x[:4], y[:4], learning=[1, 0.5, 2, 1], **timing)
                + circuit.block(x[4:5], y[4:5], **timing) + circuit.block(x[5:], **timing))
    reference = RateReference(spec, circuit.arrays)
    lateral_before = [None] + [{n: M.copy() for n, M in area.items()} for area in circuit.arrays.lateral[1:]]
    result = circuit.run(schedule, Recording(variables=("u_P", "u_E"), dt=spec.dt))
    expected = reference.run(schedule)
    assert result.states[1]["u_P"].shape == (7, 1200)
    assert result.states[1]["u_E"].shape == (5, 1200)
    assert_matches_reference(spec, result, expected, reference)
    for k in range(1, spec.n_areas + 1):
        for name in ("WIP", "BPI"):
            learned, oracle = circuit.arrays.lateral[k][name], reference.arrays.lateral[k][name]
            assert np.max(np.abs(learned - lateral_before[k][name])) > 1e-4, "lateral learning must have acted"
            assert np.max(np.abs(learned - oracle)) <= 1e-6 * np.max(np.abs(oracle))


def test_defaults_draw_the_unit_level_circuit():
    """At the defaults: identity laterals, one error neuron per unit, no spread, no feedback noise, zero
    initial voltages, and the forward weights drawn exactly as before the full model existed."""
    spec = CircuitSpec(layers=(4, 7, 3), seed=3)
    arrays = CircuitArrays.draw(spec)
    rng = np.random.default_rng(3)
    first = rng.uniform(-1, 1, size=(7, 4)) * spec.init_scale[0]
    np.testing.assert_array_equal(arrays.weights[0], first)
    assert spec.error_sizes == (7, 3)
    for k in (1, 2):
        np.testing.assert_array_equal(arrays.lateral[k]["WIP"], np.eye(spec.layers[k]))
        np.testing.assert_array_equal(arrays.lateral[k]["BPI"], np.eye(spec.layers[k]))
        for kind, slope in (("P", "slope_P"), ("E", "slope_E")):
            assert np.all(arrays.neurons[k][kind][slope] == 1)
    assert all(not X.any() for X in arrays.feedback_noise)


def test_switching_options_on_never_changes_the_forward_weights():
    plain = CircuitArrays.draw(CircuitSpec(layers=(4, 7, 3), seed=3))
    full = CircuitArrays.draw(CircuitSpec(layers=(4, 7, 3), seed=3, lateral_noise=0.3, feedback_noise=0.5,
                                          heterogeneity_rep=Heterogeneity(0.5, 0.5)))
    for a, b in zip(plain.weights, full.weights):
        np.testing.assert_array_equal(a, b)
    assert np.abs(full.lateral[1]["WIP"] - np.eye(7)).max() > 0.1


def test_rectangular_laterals_with_fewer_error_neurons():
    spec = CircuitSpec(layers=(4, 8, 2), error_sizes=(4, 2), lateral_noise=0.03, seed=1)
    arrays = CircuitArrays.draw(spec)
    assert arrays.lateral[1]["WIP"].shape == (4, 8) and arrays.lateral[1]["BPI"].shape == (8, 4)
    assert np.abs(arrays.lateral[1]["WIP"] - partner_matrix(4, 8)).max() <= 0.03


def test_exact_feedback_and_identity_laterals_carry_backprop_deltas_with_populations():
    """Populations (input and output units spread over neurons) with exact W^T and identity laterals:
    steady-state hidden error neurons point along backprop's deltas (cosine >= 0.999, as unit-level)."""
    spec = CircuitSpec(layers=(8, 7, 6), input_units=4, output_units=3, mode="rate", eta=(0 * b2.Hz,) * 2,
                       dt=0.25 * b2.ms, seed=4, target="numpy")
    circuit = ErrorCircuit(spec)
    x, y = task(10, spec, seed=1)
    result = circuit.run(circuit.block(x, y, duration=100 * b2.ms, settle=50 * b2.ms))
    deltas = backprop_deltas(spec, circuit.weights, x, y)
    assert cosine(result.err_avg[1], deltas[1]) >= 0.999
    assert result.outputs.shape == (10, 3) and result.rep_avg[-1].shape == (10, 6)
    np.testing.assert_allclose(result.outputs, result.rep_avg[-1].reshape(10, 3, 2).mean(axis=2))


def test_population_mapping_of_task_units():
    spec = CircuitSpec(layers=(6, 4, 4), input_units=3, output_units=2)
    np.testing.assert_array_equal(spec.encode_inputs([[0.1, 0.2, 0.3]]), [[0.1, 0.1, 0.2, 0.2, 0.3, 0.3]])
    np.testing.assert_array_equal(spec.encode_targets([[1.0, -1.0]]), [[1.0, 1.0, -1.0, -1.0]])
    np.testing.assert_allclose(spec.decode_outputs([[0.0, 0.2, 0.4, 0.8]]), [[0.1, 0.6]])


@pytest.mark.parametrize("changes, message", [
    (dict(error_sizes=(4,)), "error_sizes has 1 entries"),
    (dict(error_sizes=(4, 0)), r"error_sizes\[1\]=0"),
    (dict(input_units=3), "input_units=3 must be a positive divisor"),
    (dict(output_units=0), "output_units=0"),
    (dict(lateral_noise=-0.1), "lateral_noise=-0.1"),
    (dict(feedback_noise=float("nan")), "feedback_noise=nan"),
    (dict(feedback="feedback_alignment", feedback_noise=0.5), "feedback_noise perturbs backprop"),
    (dict(eta_lateral=-1 * b2.Hz), "eta_lateral"),
    (dict(eta_lateral=1 * b2.ms), "eta_lateral"),
    (dict(heterogeneity_rep=Heterogeneity(slope=-1)), r"heterogeneity_rep.slope=-1"),
    (dict(heterogeneity_err=0.5), "heterogeneity_err must be a Heterogeneity"),
    (dict(initial_voltage_spread=float("inf")), "initial_voltage_spread=inf"),
    (dict(projections=(Projection(0, 1), Projection(1, 2)), feedback_projections=(Projection(2, 2),)),
     "onto itself"),
    (dict(projections=(Projection(0, 1), Projection(1, 2), Projection(2, 2))), "onto itself"),
])
def test_bad_full_model_options_are_rejected_before_anything_compiles(changes, message):
    with pytest.raises(SpecError, match=message):
        ErrorCircuit(CircuitSpec(**{**dict(layers=(4, 4, 2)), **changes}))


def test_explicit_lateral_matrices_are_checked():
    spec = CircuitSpec(layers=(4, 4, 2), mode="rate")
    lateral = CircuitArrays.draw(spec).lateral
    lateral[1] = {"WIP": np.eye(3, 4), "BPI": np.eye(4)}
    with pytest.raises(SpecError, match=r"lateral\[1\]\[0\] has shape \(3, 4\); expected \(4, 4\)"):
        ErrorCircuit(spec, lateral=lateral)


def test_fewer_error_neurons_carry_their_partners_backprop_deltas():
    """n_E = n_R / 2 with identity laterals: hidden error neuron i carries the backprop delta of its
    partner, representation neuron i (cosine >= 0.999 at steady state); the other half of the
    representation neurons hear no error."""
    spec = CircuitSpec(layers=(4, 8, 2), error_sizes=(4, 2), mode="rate", eta=(0 * b2.Hz,) * 2,
                       dt=0.25 * b2.ms, seed=4, target="numpy")
    circuit = ErrorCircuit(spec)
    x, y = task(8, spec, seed=2)
    result = circuit.run(circuit.block(x, y, duration=100 * b2.ms, settle=50 * b2.ms, label="probe"))
    assert result.err_avg[1].shape == (8, 4)
    assert circuit.error_alignment(result, "probe")[1] >= 0.999
    deltas = backprop_deltas(spec, circuit.weights, x, y)
    assert cosine(result.err_avg[1], deltas[1][:, :4]) >= 0.999


@pytest.mark.parametrize("feedback", ["backprop", "feedback_alignment"])
def test_sparse_neuron_level_rate_mode_matches_numpy_reference(feedback):
    """Wiring drawn from the densities (2 neurons per unit, projections of density 0.6, 0.5 and a
    skip one of 0.4; feedback alignment's top-down projections sparse too): Brian2 connects only
    the masks' pairs and the reference masks its updates, so voltages and learned weights agree to
    1e-6 of their largest magnitude (as the dense test); absent synapses read back exactly 0 after
    a learning run and after a second one, and the per-presentation weight samples do too."""
    units = CircuitSpec(layers=(3, 4, 3, 2), mode="rate", feedback=feedback, eta=(3 * b2.Hz,) * 3, dt=0.1 * b2.ms,
                        seed=4, target="numpy", lateral_noise=0.2,
                        projections=(Projection(0, 1, 0.6), Projection(1, 2, 0.5), Projection(2, 3),
                                     Projection(1, 3, 0.4)))
    spec, arrays = neuron_level(units, 2, connectivity="density")
    masks = arrays.connectivity + (arrays.feedback_connectivity if feedback == "feedback_alignment" else [])
    assert sum(mask is not None and not mask.all() for mask in masks) == (5 if feedback == "feedback_alignment" else 3)
    circuit = ErrorCircuit.from_arrays(spec, arrays)
    x, y = task(5, spec)
    timing = dict(duration=20 * b2.ms, settle=5 * b2.ms)
    schedule = circuit.block(x[:4], y[:4], learning=True, **timing) + circuit.block(x[4:], y[4:], **timing)
    reference = RateReference(spec, circuit.arrays)
    result = circuit.run(schedule, Recording(variables=("u_P", "u_E"), weights=True, dt=spec.dt))
    expected = reference.run(schedule)
    assert_matches_reference(spec, result, expected, reference)
    again = circuit.run(schedule)
    for mask, W, samples, W_again in zip(arrays.connectivity, result.weights_after, result.states["weights"],
                                         again.weights_after):
        if mask is not None:
            assert np.all(W[~mask] == 0) and np.all(samples[:, ~mask] == 0) and np.all(W_again[~mask] == 0)
            assert np.all(W[mask] != 0)
        np.testing.assert_array_equal(samples[-1], W)  # the last sample (step before the end) read back as W
