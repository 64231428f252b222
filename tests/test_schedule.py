"""Schedules (plain data) and the checks ErrorCircuit.run makes before building.

No network is built: ``build_network`` is replaced by a sentinel that fails
the test if it is ever reached unexpectedly.
"""
import brian2 as b2
import numpy as np
import pytest
from brian2.devices.device import reset_device
from brian2.units import Hz, ms, second

import brian_errorcircuits.circuit as circuit_module
from brian_errorcircuits import CircuitSpec, ErrorCircuit, Schedule, SpecError


class Built(Exception):
    """Raised by the stand-in for build_network: the run got past its checks."""


@pytest.fixture(autouse=True)
def no_building(monkeypatch):
    """Never build a network; keep global Brian2 state as it was."""
    def refuse(*args, **kwargs):
        raise Built("build_network reached")

    monkeypatch.setattr(circuit_module, "build_network", refuse)
    target, dt = b2.prefs.codegen.target, b2.defaultclock.dt
    yield
    b2.prefs.codegen.target = target
    b2.defaultclock.dt = dt


def small_circuit(mode="sampled", dt=0.25 * ms):
    spec = CircuitSpec(layers=(3, 4, 2), mode=mode, eta=(1 * Hz, 1 * Hz), dt=dt, target="numpy")
    return ErrorCircuit(spec)


def data(n=5, n_in=3, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, n_in)), rng.uniform(-0.5, 0.5, (n, n_out))


# ---------------------------------------------------------------- block
def test_block_with_targets():
    x, y = data(5)
    s = Schedule.block(x, y, learning=True, label="train-1")
    assert len(s) == 5
    assert s.inputs.shape == (5, 3) and s.targets.shape == (5, 2)
    assert s.target_on.shape == (5,) and s.target_on.dtype == bool and s.target_on.all()
    assert s.learning.shape == (5,) and s.learning.all()
    assert list(s.labels) == ["train-1"] * 5
    np.testing.assert_array_equal(s.inputs, x)
    np.testing.assert_array_equal(s.targets, y)
    assert s.duration == 200 * ms and s.settle == 50 * ms


def test_block_without_targets():
    x, _ = data(4)
    s = Schedule.block(x, n_outputs=2, label="test")
    assert s.targets.shape == (4, 2) and not s.targets.any()
    assert not s.target_on.any() and not s.learning.any()


def test_block_without_targets_needs_n_outputs():
    with pytest.raises(SpecError, match="n_outputs"):
        Schedule.block(data(2)[0])


def test_one_dimensional_input_is_one_presentation():
    s = Schedule.block([0.1, 0.2, 0.3], [0.5, -0.5])
    assert s.inputs.shape == (1, 3) and s.targets.shape == (1, 2)


def test_circuit_block_is_sized_for_the_circuit():
    s = small_circuit().block(data(3)[0], label="evaluate")
    assert s.targets.shape == (3, 2) and not s.target_on.any()


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.zeros((2, 3, 1))])
def test_inputs_must_be_a_nonempty_matrix(bad):
    with pytest.raises(SpecError, match=r"^inputs must be a 2-d array"):
        Schedule.block(bad, n_outputs=2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_name_row_and_column(bad):
    x, y = data(4)
    x[2, 1] = bad
    with pytest.raises(SpecError, match=r"^inputs contains NaN or infinite values \(first at row 2, column 1\)"):
        Schedule.block(x, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_targets_name_row_and_column(bad):
    x, y = data(4)
    y[3, 0] = bad
    y[3, 1] = bad
    with pytest.raises(SpecError, match=r"^targets contains NaN or infinite values \(first at row 3, column 0\)"):
        Schedule.block(x, y)


def test_targets_with_wrong_row_count():
    x, y = data(4)
    with pytest.raises(SpecError, match=r"^targets has 3 rows for 4 inputs"):
        Schedule.block(x, y[:3])


# ---------------------------------------------------------------- timing
def test_duration_not_a_multiple_of_settle():
    with pytest.raises(SpecError, match=r"^duration=.*whole multiple of settle"):
        Schedule.block(*data(2), duration=200 * ms, settle=30 * ms)


@pytest.mark.parametrize("settle", [200 * ms, 250 * ms, -10 * ms])
def test_settle_outside_zero_to_duration(settle):
    with pytest.raises(SpecError, match=r"^settle=.*\[0, duration\)"):
        Schedule.block(*data(2), duration=200 * ms, settle=settle)


@pytest.mark.parametrize("settle", [50, 50 * Hz])
def test_settle_that_is_not_a_time(settle):
    with pytest.raises(SpecError, match=r"^settle="):
        Schedule.block(*data(2), duration=200 * ms, settle=settle)


@pytest.mark.parametrize("duration", [0 * ms, -200 * ms, 200, 200 * Hz])
def test_duration_that_is_not_a_positive_time(duration):
    with pytest.raises(SpecError, match=r"^duration=.*positive time"):
        Schedule.block(*data(2), duration=duration, settle=0 * ms)


@pytest.mark.parametrize("duration, settle", [(200 * ms, 50 * ms), (300 * ms, 100 * ms), (0.3 * second, 0.1 * second)])
def test_whole_multiples_are_accepted(duration, settle):
    Schedule.block(*data(2), duration=duration, settle=settle)


def test_averaging_gate_pattern():
    s = Schedule.block(*data(3), duration=200 * ms, settle=50 * ms)
    assert s.averaging_steps_per_presentation == 4
    np.testing.assert_array_equal(s.averaging_gate(), [0, 1, 1, 1] * 3)
    assert float(s.averaged_time / ms) == pytest.approx(150)


def test_averaging_gate_with_half_settling():
    s = Schedule.block(*data(2), duration=100 * ms, settle=50 * ms)
    np.testing.assert_array_equal(s.averaging_gate(), [0, 1, 0, 1])


def test_averaging_gate_without_settling():
    s = Schedule.block(*data(3), duration=200 * ms, settle=0 * ms)
    assert s.averaging_steps_per_presentation == 1
    np.testing.assert_array_equal(s.averaging_gate(), [1, 1, 1])
    assert float(s.averaged_time / ms) == pytest.approx(200)


def test_total_time():
    s = Schedule.block(*data(5), duration=200 * ms, settle=50 * ms)
    assert abs(float(s.total_time / second) - 1.0) < 1e-12
    s2 = s + Schedule.block(*data(2), duration=200 * ms, settle=50 * ms)
    assert abs(float(s2.total_time / second) - 1.4) < 1e-12


def test_block_with_per_presentation_target_and_learning():
    """A trial as one block: target and plasticity only on its last presentation."""
    x, y = data(4)
    last = [False, False, False, True]
    s = Schedule.block(x, y, target_on=last, learning=last)
    np.testing.assert_array_equal(s.target_on, last)
    np.testing.assert_array_equal(s.learning, last)
    np.testing.assert_array_equal(s.targets, y)


def test_learning_factors_scale_plasticity_per_presentation():
    s = Schedule.block(*data(4), learning=[1, 0, 2.5, 0.5])
    np.testing.assert_array_equal(s.learning, [1, 0, 2.5, 0.5])
    np.testing.assert_array_equal(Schedule.block(*data(3), learning=0.25).learning, [0.25] * 3)


@pytest.mark.parametrize("name, value", [("target_on", [True, False]), ("target_on", [1, 0, 2, 0]),
                                         ("learning", [1, 0]), ("learning", [[True] * 4]),
                                         ("learning", [1, -0.5, 0, 0]), ("learning", [1, np.nan, 0, 0]),
                                         ("learning", "fast")])
def test_per_presentation_flags_need_one_valid_value_each(name, value):
    with pytest.raises(SpecError, match=name):
        Schedule.block(*data(4), **{name: value})


def test_target_mask_needs_targets():
    with pytest.raises(SpecError, match="target_on needs targets"):
        Schedule.block(data(2)[0], n_outputs=2, target_on=[True, False])


# ---------------------------------------------------------- concatenation
def test_concatenation_keeps_labels_and_flags():
    x, y = data(5)
    train = Schedule.block(x[:3], y[:3], learning=True, label="train")
    test = Schedule.block(x[3:], n_outputs=2, label="test")
    probe = Schedule.block(x[:1], y[:1], label="probe")
    s = train + test + probe
    assert len(s) == 6
    assert list(s.labels) == ["train"] * 3 + ["test"] * 2 + ["probe"]
    np.testing.assert_array_equal(s.indices("train"), [0, 1, 2])
    np.testing.assert_array_equal(s.indices("test"), [3, 4])
    np.testing.assert_array_equal(s.indices("probe"), [5])
    assert s.indices("missing").size == 0
    np.testing.assert_array_equal(s.target_on, [1, 1, 1, 0, 0, 1])
    np.testing.assert_array_equal(s.learning, [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(s.inputs, np.vstack([x[:3], x[3:], x[:1]]))
    np.testing.assert_array_equal(s.targets[:3], y[:3])
    assert not s.targets[3:5].any()


def test_repeated_labels_are_all_found():
    x, y = data(2)
    block = Schedule.block(x, y, label="train")
    s = block + Schedule.block(x, n_outputs=2, label="test") + block
    np.testing.assert_array_equal(s.indices("train"), [0, 1, 4, 5])


def test_concatenation_with_mismatched_duration():
    a = Schedule.block(*data(2), duration=200 * ms, settle=50 * ms)
    b = Schedule.block(*data(2), duration=100 * ms, settle=50 * ms)
    with pytest.raises(SpecError, match="duration and settle"):
        a + b


def test_concatenation_with_mismatched_settle():
    a = Schedule.block(*data(2), duration=200 * ms, settle=50 * ms)
    b = Schedule.block(*data(2), duration=200 * ms, settle=100 * ms)
    with pytest.raises(SpecError, match="duration and settle"):
        a + b


@pytest.mark.parametrize("n_in, n_out", [(4, 2), (3, 1)])
def test_concatenation_with_mismatched_sizes(n_in, n_out):
    a = Schedule.block(*data(2))
    b = Schedule.block(*data(2, n_in=n_in, n_out=n_out))
    with pytest.raises(SpecError, match="input and target sizes"):
        a + b


# ------------------------------------------- checks in ErrorCircuit.run
def test_sentinel_valid_schedule_reaches_the_builder():
    """The stand-in works: a valid schedule passes every check and reaches build_network."""
    circuit = small_circuit()
    with pytest.raises(Built):
        circuit.run(circuit.block(*data(2)), silenced=(1, 2))


def test_run_rejects_inputs_with_wrong_number_of_columns():
    circuit = small_circuit()
    with pytest.raises(SpecError, match=r"^inputs has 4 columns; the input area has 3 units"):
        circuit.run(Schedule.block(*data(2, n_in=4)))


def test_run_rejects_targets_with_wrong_number_of_columns():
    circuit = small_circuit()
    with pytest.raises(SpecError, match=r"^targets has 3 columns; the output area has 2 units"):
        circuit.run(Schedule.block(*data(2, n_out=3)))


@pytest.mark.parametrize("value", [1.5, -0.1])
def test_run_rejects_inputs_outside_unit_interval_in_spiking_mode(value):
    circuit = small_circuit("sampled")
    x, y = data(3)
    x[1, 2] = value
    with pytest.raises(SpecError, match=r"^inputs must lie in \[0, 1\]"):
        circuit.run(circuit.block(x, y))


def test_rate_mode_allows_inputs_outside_unit_interval():
    circuit = small_circuit("rate")
    x, y = data(3)
    x[0, 0], x[1, 1] = -2.0, 3.0
    circuit._check_schedule(circuit.block(x, y))


def test_run_rejects_duration_not_a_multiple_of_dt():
    circuit = small_circuit(dt=0.25 * ms)
    with pytest.raises(SpecError, match=r"^duration=.* must be a whole number of time steps"):
        circuit.run(circuit.block(*data(2), duration=200.1 * ms, settle=0 * ms))


def test_run_rejects_settle_not_a_multiple_of_dt():
    circuit = small_circuit(dt=0.3 * ms)
    # duration 60 ms = 200 steps, settle 1 ms = 3.33 steps
    with pytest.raises(SpecError, match=r"^settle=.* must be a whole number of time steps"):
        circuit.run(circuit.block(*data(2), duration=60 * ms, settle=1 * ms))


@pytest.mark.parametrize("duration, settle, dt", [
    (200 * ms, 50 * ms, 0.25 * ms),
    (200 * ms, 50 * ms, 0.1 * ms),
    (110 * ms, 11 * ms, 0.1 * ms),   # 11 ms / 0.1 ms = 109.99999999999999 in floats
    (100 * ms, 10 * ms, 0.01 * ms),  # 10 ms / 0.01 ms = 999.9999999999999 in floats
])
def test_whole_numbers_of_steps_are_accepted(duration, settle, dt):
    """Rounding error in settle/dt must not reject a settle that is a whole number of steps."""
    circuit = small_circuit(dt=dt)
    circuit._check_schedule(circuit.block(*data(2), duration=duration, settle=settle))


@pytest.mark.parametrize("area", [0, 3, -1])
def test_silencing_a_non_existent_area(area):
    circuit = small_circuit()
    with pytest.raises(SpecError, match=rf"^silenced: {area} is not an area of this circuit \(areas are 1\.\.2, "
                                        r"or by name 'area1', 'area2'\)"):
        circuit.run(circuit.block(*data(2)), silenced=(area,))


def test_failed_checks_leave_the_circuit_untouched():
    circuit = small_circuit()
    before = [W.copy() for W in circuit.weights]
    with pytest.raises(SpecError):
        circuit.run(circuit.block(*data(2)), silenced=(5,))
    assert circuit.runs == 0
    for W, W0 in zip(circuit.weights, before):
        np.testing.assert_array_equal(W, W0)


# ------------------------------------------- checks in ErrorCircuit.train
def train_arguments(n_train=4, n_test=3):
    """Valid (x_train, y_train, x_test, y_test) for small_circuit()."""
    return (*data(n_train), *data(n_test, seed=1))


def bad_train_arguments(position, change):
    arguments = list(train_arguments())
    arguments[position] = change(arguments[position])
    return arguments


def non_finite_at(row, column, value):
    def change(array):
        array = array.copy()
        array[row, column] = value
        return array
    return change


@pytest.mark.parametrize("position, change, message", [
    (1, lambda y: y[:3], r"^y_train has 3 rows for the 4 rows of x_train \(one per sample\)"),
    (1, lambda y: np.vstack([y, y]), r"^y_train has 8 rows for the 4 rows of x_train"),
    (3, lambda y: y[:, :1], r"^y_test has 1 columns; the output area has 2 units, one column each"),
    (3, lambda y: y[:2], r"^y_test has 2 rows for the 3 rows of x_test"),
    (2, lambda x: x[:, :2], r"^x_test has 2 columns; the input area has 3 units, one column each"),
    (0, lambda x: x[:, :2], r"^x_train has 2 columns; the input area has 3 units"),
    (0, non_finite_at(2, 1, np.nan), r"^x_train contains NaN or infinite values \(first at row 2, column 1\)"),
    (1, non_finite_at(3, 0, np.inf), r"^y_train contains NaN or infinite values \(first at row 3, column 0\)"),
    (2, non_finite_at(0, 2, -np.inf), r"^x_test contains NaN or infinite values \(first at row 0, column 2\)"),
    (3, non_finite_at(1, 1, np.nan), r"^y_test contains NaN or infinite values \(first at row 1, column 1\)"),
])
def test_train_names_the_misfit_array_before_simulating(position, change, message):
    """Data that would be misread (rows dropped by the shuffle, NaN test MSE, a join error) is refused by name."""
    with pytest.raises(SpecError, match=message):
        small_circuit().train(*bad_train_arguments(position, change), epochs=1)


@pytest.mark.parametrize("epochs", [2.5, -1, 0, True, "3"])
def test_train_needs_a_whole_positive_number_of_epochs(epochs):
    with pytest.raises(SpecError, match=rf"^epochs={epochs!r} must be a whole number >= 1"):
        small_circuit().train(*train_arguments(), epochs=epochs)


def test_probe_of_the_wrong_width_is_named():
    x, y = data(2, n_out=3)
    with pytest.raises(SpecError, match=r"^probe targets has 3 columns; the output area has 2 units"):
        small_circuit().train(*train_arguments(), epochs=1, probe=(x, y))


def test_valid_training_data_reaches_the_builder():
    with pytest.raises(Built):
        small_circuit().train(*train_arguments(), epochs=2, probe=data(2), report=False)


@pytest.mark.parametrize("timing, message", [
    (dict(duration=np.nan * ms), r"^duration=.* must be a finite, positive time"),
    (dict(duration=np.inf * ms), r"^duration=.* must be a finite, positive time"),
    (dict(settle=np.nan * ms), r"^settle=.* must be a time in \[0, duration\)"),
])
def test_non_finite_timing_is_refused(timing, message):
    with pytest.raises(SpecError, match=message):
        small_circuit().train(*train_arguments(), epochs=1, **timing)


# ------------------------------------------- Brian2's global state
def test_run_restores_defaultclock_dt_and_numpy_random_state():
    """A circuit run sets dt and seeds for itself only: the user's dt and numpy random stream continue."""
    b2.defaultclock.dt = 0.1 * ms
    np.random.seed(123)
    expected_draw = np.random.RandomState(123).uniform()
    circuit = small_circuit(dt=0.25 * ms)
    with pytest.raises(Built):
        circuit.run(circuit.block(*data(2)))
    assert b2.defaultclock.dt == 0.1 * ms
    assert np.random.uniform() == expected_draw


def test_a_device_set_by_the_user_is_refused_before_building():
    """After brian2.set_device('cpp_standalone') a run would fail deep in Brian2; it is refused by name."""
    b2.set_device("cpp_standalone", build_on_run=False)
    try:
        circuit = small_circuit()
        with pytest.raises(SpecError, match=r"^Brian2's active device is CPPStandaloneDevice "
                                            r"\(brian2\.set_device was called\).*set_device\('runtime'\)"):
            circuit.run(circuit.block(*data(2)))
    finally:
        b2.device.reinit()
        reset_device()
    assert circuit.runs == 0
