"""Equation strings: activations in numpy and in Brian2, and that the area and
synapse equations parse.  Brian2 evaluates expressions with the numpy code
generation target only (no compilation).
"""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits.equations import (
    ACTIVATIONS, error_equations, feedback_synapse_equations, forward_synapse_equations, input_equations,
    lateral_synapse_equations, representation_equations,
)

#: the analytic functions each activation stands for
ANALYTIC = {
    "tanh": np.tanh,
    "logistic": lambda x: 1 / (1 + np.exp(-x)),
    "softrelu": lambda x: np.log1p(np.exp(x)),  # softplus
    "linear": lambda x: x,
}
BOUNDED = ("tanh", "logistic")
#: functions a Brian2 expression of phi may call
FUNCTIONS = {"tanh", "exp", "log"}

X = np.linspace(-4, 4, 81)


@pytest.fixture
def numpy_target():
    """Brian2's numpy target (no compilation); previous settings restored after."""
    previous = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield
    b2.prefs.codegen.target = previous


def test_every_activation_has_an_analytic_reference():
    assert set(ACTIVATIONS) == set(ANALYTIC)
    for name, act in ACTIVATIONS.items():
        assert act.name == name


# --------------------------------------------------------------- numpy
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numpy_phi_matches_analytic(name):
    np.testing.assert_allclose(ACTIVATIONS[name](X), ANALYTIC[name](X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numpy_phi_prime_matches_finite_difference(name):
    act, h = ACTIVATIONS[name], 1e-5
    central = (act(X + h) - act(X - h)) / (2 * h)
    np.testing.assert_allclose(act(X, derivative=True), central, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_numpy_call_keeps_shape(name, shape):
    x = np.full(shape, 0.3)
    for derivative in (False, True):
        value = ACTIVATIONS[name](x, derivative=derivative)
        assert np.shape(value) == shape
        assert np.asarray(value).dtype == float


@pytest.mark.parametrize("name", BOUNDED)
def test_rate_mapping_covers_unit_interval(name):
    act = ACTIVATIONS[name]
    x = np.linspace(-40, 40, 2001)
    rate = (act(x) - act.rate_low) / act.rate_span
    assert rate.min() >= 0 and rate.max() <= 1
    assert rate.min() == pytest.approx(0, abs=1e-12)
    assert rate.max() == pytest.approx(1, abs=1e-12)
    assert float(act(0.0)) == pytest.approx(act.rate_low + act.rate_span / 2)  # phi(0) is mid-range


def test_softrelu_is_bounded_below_only():
    act = ACTIVATIONS["softrelu"]
    assert act.rate_low == 0.0
    assert act(np.linspace(-40, 40, 101)).min() >= act.rate_low


def test_linear_has_no_lower_bound():
    assert ACTIVATIONS["linear"].rate_low is None


# --------------------------------------------------------------- Brian2
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("argument", ["x", "u_breve_P"])
def test_brian2_expression_matches_numpy(name, argument, numpy_target):
    """One expression string serves both Brian2 and the numpy reference."""
    act = ACTIVATIONS[name]
    group = b2.NeuronGroup(
        len(X),
        f"{argument} : 1\n"
        f"phi_value = {act.expression(argument)} : 1\n"
        f"phi_prime_value = {act.expression(argument, derivative=True)} : 1",
        namespace={},
    )
    setattr(group, argument, X)
    np.testing.assert_allclose(group.phi_value[:], act(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(group.phi_prime_value[:], act(X, derivative=True), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_expression_refers_only_to_its_argument(name):
    """Substituting the argument must not touch other names (e.g. the x in exp)."""
    expr = b2.Expression(ACTIVATIONS[name].expression("u_breve_P"))
    assert expr.identifiers - FUNCTIONS == {"u_breve_P"}
    expr = b2.Expression(ACTIVATIONS[name].expression("u_breve_P", derivative=True))
    assert expr.identifiers - FUNCTIONS <= {"u_breve_P"}


# -------------------------------------------------------- area equations
REPRESENTATION = {"g_l", "g_bas", "g_api", "g_tot", "slope_P", "offset_P", "v_bas", "v_api", "u_P", "u_breve_P",
                  "r_P", "phi_prime_P", "out_P", "sum_P"}
ERROR = {"g_l", "g_den", "g_tgt", "slope_E", "offset_E", "error_active", "v_den", "g_err", "g_leak_E", "u_E",
         "r_E", "out_E", "sum_E"}


@pytest.mark.parametrize("mode", ["rate", "spiking", "sampled"])
@pytest.mark.parametrize("is_output", [True, False])
@pytest.mark.parametrize("prospective", [True, False])
def test_representation_equations_parse(mode, is_output, prospective):
    basal = ["v_bas_from_input", "v_bas_from_area3"]
    back = None if is_output else ["v_back_from_area2"]
    eqs = b2.Equations(representation_equations(ACTIVATIONS["tanh"], basal, back, is_output, mode, prospective,
                                                sends_error_down=True))
    assert REPRESENTATION <= eqs.names
    for name in basal:
        assert name in eqs["v_bas"].identifiers
    assert ("mismatch_P" in eqs.names) == is_output
    assert ("v_back" in eqs.names) == (not is_output)
    assert "partner_error" in eqs.names
    assert {"slope_P", "offset_P", "u_breve_P"} <= eqs["r_P"].identifiers
    assert {"u_P", "sum_P"} <= eqs.diff_eq_names
    assert ("a_P" in eqs.diff_eq_names) == (mode != "rate")
    assert ("spike_drive" in eqs.diff_eq_names) == (mode == "spiking")  # neuron level: own spikes
    if prospective:
        assert {"v_bas", "v_api", "g_tot"} <= eqs["u_breve_P"].identifiers
    else:
        assert str(eqs["u_breve_P"].expr) == "u_P"


@pytest.mark.parametrize("mode", ["rate", "spiking", "sampled"])
@pytest.mark.parametrize("is_output", [True, False])
@pytest.mark.parametrize("backprop", [True, False])
def test_error_equations_parse(mode, is_output, backprop):
    topdown = [] if is_output or backprop else ["v_td_from_area2"]
    eqs = b2.Equations(error_equations(topdown, is_output, mode, backprop))
    assert ERROR <= eqs.names
    assert ("a_E" in eqs.diff_eq_names) == (mode != "rate")
    assert ("spike_drive" in eqs.diff_eq_names) == (mode == "spiking")
    if is_output:
        assert "target_on" in eqs["g_err"].identifiers
        assert eqs["g_leak_E"].identifiers == {"g_l", "g_tgt"}  # leaks with g_l + g_tgt, target or not
    else:
        assert {"gain", "v_td"} <= eqs["v_den"].identifiers
        if not backprop:
            assert "v_td_from_area2" in eqs["v_td"].identifiers
    assert {"slope_E", "offset_E", "error_active"} <= eqs["r_E"].identifiers


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("mode", ["rate", "sampled"])
def test_representation_equations_parse_for_every_activation(name, mode):
    if mode == "sampled" and ACTIVATIONS[name].rate_low is None:
        pytest.skip("spiking mode needs an activation bounded below")
    eqs = b2.Equations(representation_equations(ACTIVATIONS[name], ["v_bas_from_input"], None, True, mode))
    assert eqs["r_P"].identifiers - FUNCTIONS == {"u_breve_P", "slope_P", "offset_P"}


def test_representation_equations_without_basal_inputs():
    eqs = b2.Equations(representation_equations(ACTIVATIONS["tanh"], [], None, True, "rate"))
    assert str(eqs["v_bas"].expr) == "0"


@pytest.mark.parametrize("matrix", ["WIP", "BPI"])
@pytest.mark.parametrize("is_output", [True, False])
@pytest.mark.parametrize("plastic", [True, False])
def test_lateral_synapse_equations_parse(matrix, is_output, plastic):
    eqs = b2.Equations(lateral_synapse_equations(matrix, is_output, True, plastic, sends_error_down=True))
    assert ("w" in eqs.diff_eq_names) == plastic
    summed = {name for name in eqs.names if name.endswith("_post")}
    if matrix == "WIP":
        assert summed == ({"v_den_post"} if is_output else {"gain_post", "v_td_post"})
    else:
        assert summed == {"v_api_post", "partner_error_post"}


@pytest.mark.parametrize("mode", ["rate", "spiking", "sampled"])
def test_input_equations_parse(mode):
    eqs = b2.Equations(input_equations(mode))
    assert {"r_P", "out_P"} <= eqs.names
    assert ("a_P" in eqs.diff_eq_names) == (mode != "rate")
    assert ("spike_drive" in eqs.diff_eq_names) == (mode == "spiking")


@pytest.mark.parametrize("sends_error", [False, True])
@pytest.mark.parametrize("noise", [False, True])
def test_forward_synapse_equations_parse(sends_error, noise):
    eqs = b2.Equations(forward_synapse_equations("area1", "area2", sends_error, noise))
    assert {"w", "eta", "v_bas_from_area1_post"} <= eqs.names
    assert "w" in eqs.diff_eq_names
    assert ("v_back_from_area2_pre" in eqs.names) == sends_error
    if sends_error:
        expected = {"w", "feedback_noise", "partner_error_post"} if noise else {"w", "partner_error_post"}
        assert eqs["v_back_from_area2_pre"].identifiers == expected


def test_feedback_synapse_equations_parse():
    eqs = b2.Equations(feedback_synapse_equations("area2"))
    assert "b" in eqs["v_td_from_area2_post"].identifiers
    assert "b" not in eqs.diff_eq_names
