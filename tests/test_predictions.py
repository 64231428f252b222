"""Verdicts of the prediction experiments are computed, and flip where theory says they must.

Rate mode on the numpy target (no compile); the same functions read spikes in spiking mode.
"""
import pytest

from brian_errorcircuits.experiments import predictions

RATE = dict(predictions.DEFAULTS, mode="rate", target="numpy", epochs=3, n_train=30, n_probe=10,
            eta_hz=30.0, duration_ms=60.0, settle_ms=20.0)


@pytest.fixture(scope="module")
def setup():
    return predictions.Setup(RATE)


def test_backprop_signal_passes_and_random_feedback_fails(setup):
    result = predictions.backprop_signal(setup)
    assert result["verdict"] == "pass", result["value"]
    assert result["control_verdict"] == "fail", result["control_value"]


def test_mismatch_fades_only_with_plasticity(setup):
    result = predictions.mismatch_fading(setup)
    assert result["verdict"] == "pass", result["value"]
    assert result["control_verdict"] == "fail", result["control_value"]


def test_silencing_stops_learning_below_but_not_inference(setup):
    result = predictions.silencing(setup)
    assert result["verdict"] == "pass", result["value"]
    assert result["value"]["output_area_weight_change_ratio"] > 0.5  # the area above keeps learning


def test_apical_carries_error_basal_carries_prediction(setup):
    result = predictions.apical_basal(setup)
    assert result["verdict"] == "pass", result["value"]


def test_gain_gating_tracks_the_partners_gain(setup):
    result = predictions.gain_gating(setup)
    assert result["verdict"] == "pass", result["value"]


def test_projection_targeting_follows_density_and_sham_cuts_do_nothing():
    """7-area table, tiny areas: cutting denser error routes costs more learning; cutting the
    routes that leave TEpd (no error pathway of its own) costs none, so the control fails."""
    params = dict(RATE, targeting_n_train=6, targeting_n_test=4, duration_ms=30.0, settle_ms=10.0, dt_ms=0.5, eta_hz=40.0,
                  targeting_epochs=2, table_sizes=(3, 3, 2, 2, 2, 2, 1))
    result = predictions.projection_targeting(predictions.Setup(params))
    assert result["verdict"] == "pass", result["value"]
    assert result["control_verdict"] == "fail", result["control_value"]
    assert result["control_value"]["largest_deficit"] == 0.0
    firing = result["value"]["error_firing_vs_intact"]["routes of density <= 1"]
    assert all(ratio == 0 for area, ratio in firing.items() if area not in ("TEpd", "DP")), firing


def test_population_code_needs_neuron_level_neurons(setup):
    """In rate mode every unit is one neuron: the prediction is reported, but not applicable."""
    result = predictions.population_code(setup)
    assert result["verdict"] == result["control_verdict"] == "not applicable"
    assert set(result["value"]) == {"area1", "area2"}


def test_defaults_are_neuron_level_spiking():
    assert predictions.DEFAULTS["mode"] == "spiking"
    assert predictions.DEFAULTS["target"] == "cpp_standalone"


@pytest.mark.parametrize("change, message", [
    ({"layers": (4, 2)}, "hidden area"),
    ({"settle_ms": 200.0}, "settle_ms"),
    ({"duration_ms": 200.1}, "time steps"),
    ({"gain_drive_scales": (1.0,)}, "gain_drive_scales"),
    ({"gain_drive_scales": (1.0, -3.0)}, "gain_drive_scales"),
    ({"connectivity": "sparse"}, "connectivity"),
])
def test_check_refuses_bad_parameters_before_anything_compiles(change, message):
    with pytest.raises(predictions.SpecError, match=message):
        predictions.check(dict(predictions.DEFAULTS, **change))


def test_at_least_forgives_rounding_only():
    assert predictions.at_least(0.7999999999999999, 0.8)
    assert not predictions.at_least(0.79, 0.8)
    assert not predictions.at_least(None, 0.8)


def test_check_refuses_more_areas_than_the_table_has():
    from brian_errorcircuits.connectome import TableError

    with pytest.raises(TableError, match="fewer areas"):
        predictions.check(dict(predictions.DEFAULTS, table_sizes=(8, 8, 6, 6, 6, 4, 2, 2)))
