"""Full credit-assignment runs (opt-in: ``python -m pytest -m slow``).

The teacher is a 4-10-2 tanh network and the student has the same shape, so a
frozen random hidden layer cannot imitate it: the hidden area has to learn.
"""
import pytest

from brian_errorcircuits.experiments.teacher_student import DEFAULTS, train_student
from brian_errorcircuits.tasks.teacher_student import make_teacher_student

pytestmark = pytest.mark.slow


def data_for(params):
    return make_teacher_student(params["layers"], params["n_train"], params["n_probe"], params["n_test"],
                                seed=params["seed"])


def test_spiking_student_assigns_credit_to_hidden_area():
    """Spiking, defaults of the experiment (10 epochs of 100 samples, 200 ms each).

    Final test MSE <= 10 % of the untrained student's and <= 50 % of the best
    a frozen-hidden twin reaches over all epochs.
    """
    params = dict(DEFAULTS, target="cpp_standalone")
    data = data_for(params)
    student = train_student(params, data)
    frozen = train_student(params, data, frozen_hidden=True)
    assert student.test_mse[-1] <= 0.10 * student.test_mse[0], student.test_mse
    assert student.test_mse[-1] <= 0.50 * min(frozen.test_mse), (student.test_mse, frozen.test_mse)
    assert student.alignment["start"][1] >= 0.9


def test_rate_student_reaches_two_percent():
    """Rate mode, 50 ms presentations, 50 epochs at eta 20 Hz: final test MSE <= 2 % of untrained."""
    params = dict(DEFAULTS, mode="rate", target="cython", epochs=50, eta_hz=20.0,
                  duration_ms=50.0, settle_ms=10.0, dt_ms=0.25)
    student = train_student(params, data_for(params))
    assert student.test_mse[-1] <= 0.02 * student.test_mse[0], student.test_mse
