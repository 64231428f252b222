"""Validation of circuit descriptions: bad input fails with a SpecError naming
the parameter, before any Brian2 object exists or any code is generated.

Nothing here builds a network; every test is pure Python.
"""
import dataclasses

import numpy as np
import pytest
from brian2.units import Hz, ms, mV, second

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, SpecError
from brian_errorcircuits.spec import FEEDBACK_MODES, MODES, TARGETS, override

CONDUCTANCES = ("g_l", "g_bas", "g_api", "g_den", "g_tgt")


def spec(**changes):
    """A small valid rate-mode spec with two areas (3 -> 4 -> 2)."""
    base = dict(layers=(3, 4, 2), mode="rate", eta=(1 * Hz, 2 * Hz))
    base.update(changes)
    return CircuitSpec(**base)


def neuron_spec(mode="rate", **neuron):
    return spec(mode=mode, neuron=NeuronParams(**neuron))


# ------------------------------------------------------------------ positive
def test_defaults_validate():
    s = CircuitSpec(layers=(4, 10, 2))
    assert s.validate() is s
    assert s.mode == "spiking" and s.feedback == "backprop" and s.target == "cython"
    assert s.n_areas == 2
    assert len(s.eta) == 2 and all(float(e / Hz) == 0 for e in s.eta)
    np.testing.assert_allclose(s.init_scale, [1 / 2, 1 / np.sqrt(10)], rtol=1e-15)
    assert NeuronParams().validate() == NeuronParams()


def test_basal_fraction_of_defaults():
    # a = g_bas / (g_l + g_bas + g_api) = 0.1 / (0.03 + 0.1 + 0.06)
    assert abs(NeuronParams().basal_fraction - 0.1 / 0.19) < 1e-12


def test_scalar_eta_is_broadcast_to_every_area():
    s = spec(eta=3 * Hz).validate()
    assert len(s.eta) == 2 and all(float(e / Hz) == 3 for e in s.eta)


def test_validation_happens_in_error_circuit_constructor():
    """ErrorCircuit validates its spec before anything else (no network is built here)."""
    with pytest.raises(SpecError, match=r"^g_l="):
        ErrorCircuit(neuron_spec(g_l=-0.03 / ms))


# ------------------------------------------------------------------- layers
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 1/sqrt(0) in the default init_scale
@pytest.mark.parametrize("layers, match", [
    ((3, 0, 2), r"^layers\[1\]=0\b"),
    ((3, 4, 0), r"^layers\[2\]=0\b"),
    ((0, 4, 2), r"^layers\[0\]=0\b"),
    ((3, -4, 2), r"^layers\[1\]=-4\b"),
    ((3, 2.5, 2), r"^layers\[1\]=2\.5\b"),
    ((3, 4.0, 2), r"^layers\[1\]=4\.0\b"),
    ((3,), r"^layers=\(3,\)"),
    ((), r"^layers=\(\)"),
])
def test_bad_layers(layers, match):
    with pytest.raises(SpecError, match=match):
        CircuitSpec(layers=layers).validate()


def test_non_numeric_layer_is_a_spec_error():
    """A string size must be a SpecError naming the layer, not a numpy TypeError
    from computing the default init_scale in __post_init__."""
    with pytest.raises(SpecError, match=r"layers\[1\]"):
        CircuitSpec(layers=(3, "4", 2)).validate()


# ------------------------------------------------------------- conductances
@pytest.mark.parametrize("name", CONDUCTANCES)
@pytest.mark.parametrize("value", [0 / ms, -0.05 / ms])
def test_non_positive_conductance(name, value):
    with pytest.raises(SpecError, match=rf"^{name}=.*must be positive"):
        neuron_spec(**{name: value}).validate()


@pytest.mark.parametrize("name", CONDUCTANCES)
def test_conductance_with_wrong_unit(name):
    with pytest.raises(SpecError, match=rf"^{name}=.*wrong unit"):
        neuron_spec(**{name: 0.03 * ms}).validate()


@pytest.mark.parametrize("name", CONDUCTANCES)
def test_conductance_without_unit(name):
    with pytest.raises(SpecError, match=rf"^{name}=.*wrong unit"):
        neuron_spec(**{name: 0.03}).validate()


@pytest.mark.parametrize("name", CONDUCTANCES)
def test_infinite_conductance(name):
    with pytest.raises(SpecError, match=rf"^{name}=.*not finite"):
        neuron_spec(**{name: np.inf / ms}).validate()


def test_conductance_in_hertz_is_accepted():
    """1/ms and Hz have the same dimension."""
    neuron_spec(g_l=30 * Hz).validate()


# ------------------------------------------------------- spike coding values
@pytest.mark.parametrize("name, bad", [
    ("tau_syn", 0 * ms), ("tau_syn", -10 * ms),
    ("rate_max", 0 * Hz), ("rate_max", -100 * Hz),
    ("rate_err", 0 * Hz), ("rate_err", -100 * Hz),
])
def test_non_positive_spike_coding_values(name, bad):
    with pytest.raises(SpecError, match=rf"^{name}=.*must be positive"):
        neuron_spec(mode="sampled", **{name: bad}).validate()


@pytest.mark.parametrize("name, bad", [
    ("tau_syn", 10 * Hz), ("tau_syn", 10), ("tau_syn", 10 * mV),
    ("rate_max", 100 * ms), ("rate_max", 100),
    ("rate_err", 100 * ms),
])
def test_spike_coding_values_with_wrong_unit(name, bad):
    with pytest.raises(SpecError, match=rf"^{name}=.*wrong unit"):
        neuron_spec(**{name: bad}).validate()


@pytest.mark.parametrize("name", ["n_rep", "n_err", "n_input"])
@pytest.mark.parametrize("bad", [0, -1, 2.5, "50"])
def test_population_size_below_one_or_not_integer(name, bad):
    with pytest.raises(SpecError, match=rf"^{name}=.*at least 1 neuron"):
        neuron_spec(mode="sampled", **{name: bad}).validate()


@pytest.mark.parametrize("name", ["n_rep", "n_err", "n_input"])
def test_population_size_of_one_and_numpy_integers_are_fine(name):
    neuron_spec(mode="sampled", **{name: 1}).validate()
    neuron_spec(mode="sampled", **{name: np.int64(7)}).validate()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_lateral_weight_not_finite(bad):
    with pytest.raises(SpecError, match=r"^lateral_weight="):
        neuron_spec(lateral_weight=bad).validate()


# -------------------------------------------------------- names of choices
@pytest.mark.parametrize("field, bad", [
    ("mode", "hybrid"), ("mode", "Rate"),
    ("feedback", "random"), ("feedback", "feedback-alignment"),
    ("target", "gpu"), ("target", "standalone"),
])
def test_unknown_choice(field, bad):
    with pytest.raises(SpecError, match=rf"^{field}={bad!r} is unknown"):
        spec(**{field: bad}).validate()


@pytest.mark.parametrize("field, choices", [("mode", MODES), ("feedback", FEEDBACK_MODES), ("target", TARGETS)])
def test_every_known_choice_validates(field, choices):
    for value in choices:
        spec(**{field: value}).validate()


@pytest.mark.parametrize("name", ["activation", "output_activation"])
@pytest.mark.parametrize("mode", ["rate", "sampled"])
def test_unknown_activation(name, mode):
    with pytest.raises(SpecError, match=rf"^{name}='relu' is unknown"):
        neuron_spec(mode=mode, **{name: "relu"}).validate()


@pytest.mark.parametrize("name", ["activation", "output_activation"])
def test_linear_activation_rejected_in_spiking_mode(name):
    with pytest.raises(SpecError, match=rf"^{name}='linear'.*non-negative firing rate"):
        neuron_spec(mode="sampled", **{name: "linear"}).validate()


def test_linear_activation_accepted_in_rate_mode():
    neuron_spec(mode="rate", activation="linear", output_activation="linear").validate()


@pytest.mark.parametrize("name", ["logistic", "softrelu", "tanh"])
def test_bounded_below_activations_accepted_in_spiking_mode(name):
    neuron_spec(mode="sampled", activation=name, output_activation=name).validate()


# ----------------------------------------------------------- learning rates
@pytest.mark.parametrize("eta", [(1 * Hz,), (1 * Hz, 1 * Hz, 1 * Hz), ()])
def test_eta_with_wrong_number_of_entries(eta):
    with pytest.raises(SpecError, match=rf"^eta has {len(eta)} entries for 2 areas"):
        spec(eta=eta).validate()


def test_negative_eta_names_the_entry():
    with pytest.raises(SpecError, match=r"^eta\[1\]=.*must not be negative"):
        spec(eta=(1 * Hz, -1 * Hz)).validate()


@pytest.mark.parametrize("bad", [1 * ms, 1.0, 1 / second ** 2])
def test_eta_with_wrong_unit(bad):
    with pytest.raises(SpecError, match=r"^eta\[0\]=.*wrong unit"):
        spec(eta=(bad, 1 * Hz)).validate()


def test_zero_eta_is_allowed():
    spec(eta=(0 * Hz, 0 * Hz)).validate()


def test_eta_as_a_quantity_array_gives_one_rate_per_area():
    """``[1, 2] * Hz`` (a 1-d Quantity) means one rate per area, like a tuple (it raised TypeError before)."""
    s = spec(eta=np.array([1.0, 2.0]) * Hz).validate()
    assert len(s.eta) == 2 and float(s.eta[0] / Hz) == 1.0 and float(s.eta[1] / Hz) == 2.0


@pytest.mark.parametrize("eta, match", [
    (np.array([1.0, 2.0, 3.0]) * Hz, r"^eta has 3 entries for 2 areas"),
    (np.array([1.0, 2.0]), r"^eta\[0\]=.*1\.0.* has the wrong unit; expected a value like hertz"),
    (np.ones((2, 2)) * Hz, r"^eta\[0\]=.* must be a single value, not an array"),
])
def test_eta_arrays_that_do_not_fit_are_named(eta, match):
    with pytest.raises(SpecError, match=match):
        spec(eta=eta).validate()


# ---------------------------------------------------------------------- seed
@pytest.mark.parametrize("seed", [-1, 2.5, "abc", None, True])
def test_seed_must_be_a_whole_number_of_at_least_zero(seed):
    with pytest.raises(SpecError, match=rf"^seed={seed!r} must be a whole number >= 0"):
        spec(seed=seed).validate()


def test_numpy_integer_seed_is_accepted():
    spec(seed=np.int64(7)).validate()


# ------------------------------------------------------------- other fields
@pytest.mark.parametrize("bad, match", [
    ((1.0,), r"^init_scale has 1 entries for 2 areas"),
    ((1.0, -0.5), r"^init_scale\[1\]="),
    ((np.nan, 1.0), r"^init_scale\[0\]="),
])
def test_bad_init_scale(bad, match):
    with pytest.raises(SpecError, match=match):
        spec(init_scale=bad).validate()


@pytest.mark.parametrize("bad, match", [
    (0 * ms, r"^dt=.*must be positive"),
    (-0.1 * ms, r"^dt=.*must be positive"),
    (0.1, r"^dt=.*wrong unit"),
    (0.1 * Hz, r"^dt=.*wrong unit"),
])
def test_bad_dt(bad, match):
    with pytest.raises(SpecError, match=match):
        spec(dt=bad).validate()


# ---------------------------------------------------------------- overrides
def test_replace_neuron_rejects_unknown_keys_by_name():
    with pytest.raises(SpecError, match=r"unknown parameter\(s\) \['g_leak', 'n_neurons'\]"):
        spec().replace(neuron={"g_leak": 0.03 / ms, "n_neurons": 3, "g_l": 0.05 / ms})


def test_override_rejects_unknown_keys_by_name():
    with pytest.raises(SpecError, match=r"unknown parameter\(s\) \['tau'\]"):
        override(NeuronParams(), {"tau": 10 * ms})


def test_replace_neuron_with_dict_keeps_other_values():
    s = spec(neuron=NeuronParams(n_rep=7)).replace(neuron={"g_l": 0.05 / ms}, seed=3)
    assert float(s.neuron.g_l * ms) == pytest.approx(0.05)
    assert s.neuron.n_rep == 7 and s.seed == 3
    assert s.layers == (3, 4, 2)
    s.validate()


def test_replace_does_not_skip_validation():
    with pytest.raises(SpecError, match=r"^g_api="):
        spec().replace(neuron={"g_api": -1 / ms}).validate()


def test_replace_unknown_top_level_field():
    with pytest.raises(TypeError):
        spec().replace(layer=(3, 2))


def test_specs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec().mode = "sampled"


# ------------------------------------------------------- initial weights
def test_weights_of_wrong_shape():
    W0 = np.zeros((4, 3))
    with pytest.raises(SpecError, match=r"^weights\[1\] has shape \(3, 4\); expected \(2, 4\)"):
        ErrorCircuit(spec(), weights=[W0, np.zeros((3, 4))])
    with pytest.raises(SpecError, match=r"^weights\[0\] has shape \(3, 4\); expected \(4, 3\)"):
        ErrorCircuit(spec(), weights=[W0.T, np.zeros((2, 4))])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_weights_with_nan_or_inf(bad):
    W1 = np.zeros((2, 4))
    W1[1, 2] = bad
    with pytest.raises(SpecError, match=r"^weights\[1\] contains NaN or infinite values"):
        ErrorCircuit(spec(), weights=[np.zeros((4, 3)), W1])


def test_too_few_weight_matrices():
    with pytest.raises(SpecError, match=r"^weights has 1 matrices; expected 2"):
        ErrorCircuit(spec(), weights=[np.zeros((4, 3))])


def test_too_many_weight_matrices():
    """An extra matrix must not be dropped silently (zip() truncates)."""
    with pytest.raises(SpecError, match=r"^weights has 3 matrices; expected 2"):
        ErrorCircuit(spec(), weights=[np.zeros((4, 3)), np.zeros((2, 4)), np.zeros((5, 2))])


def test_given_weights_are_copied_as_float():
    W0 = np.ones((4, 3), dtype=int)
    circuit = ErrorCircuit(spec(), weights=[W0, np.zeros((2, 4))])
    assert circuit.weights[0].dtype == float
    W0[0, 0] = 5
    assert circuit.weights[0][0, 0] == 1.0


def test_default_weights_are_reproducible_and_within_init_scale():
    a, b = ErrorCircuit(spec(seed=11)), ErrorCircuit(spec(seed=11))
    for Wa, Wb, s in zip(a.weights, b.weights, a.spec.init_scale):
        np.testing.assert_array_equal(Wa, Wb)
        assert np.abs(Wa).max() <= s
    assert not np.array_equal(ErrorCircuit(spec(seed=12)).weights[0], a.weights[0])


@pytest.mark.parametrize("bad_matrix, match", [
    (np.zeros((2, 4)), r"feedback_weights\[0\] has shape"),  # (n_target, n_source) = (4, 2) expected
    (np.full((4, 2), np.nan), r"feedback_weights\[0\] contains NaN"),
])
def test_bad_feedback_weights(bad_matrix, match):
    """Fixed top-down weights (feedback alignment) are checked like the forward ones."""
    with pytest.raises(SpecError, match=match):
        ErrorCircuit(spec(feedback="feedback_alignment"), feedback_weights=[bad_matrix])
