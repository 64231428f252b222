"""teacher-student under cpp_standalone: one build serves the angle probe, the student and its frozen
twin, and the twin trained in a second process gives the numbers of a twin trained in this one."""
import brian2 as b2
import pytest

from brian_errorcircuits.experiments import teacher_student
from brian_errorcircuits.tasks.teacher_student import make_teacher_student

pytestmark = [pytest.mark.standalone, pytest.mark.slow]

TINY = dict(teacher_student.DEFAULTS, epochs=2, n_train=4, n_test=3, n_probe=2, duration_ms=20.0, settle_ms=5.0,
            neurons_per_unit=2)


def test_frozen_twin_in_a_second_process_equals_one_trained_here(tmp_path):
    data = make_teacher_student(TINY["layers"], TINY["n_train"], TINY["n_probe"], TINY["n_test"], seed=TINY["seed"])
    untrained = teacher_student.student_circuit(TINY, teacher_student.make_spec(TINY), tmp_path)
    untrained.run(untrained.block(*teacher_student.probe_set(TINY, data), learning=True, label="angle-probe",
                                  duration=20 * b2.ms, settle=5 * b2.ms),
                  teacher_student.student_recording(TINY, "angle-probe"))  # builds <tmp_path>/build first
    here_mse, here_seconds = teacher_student.frozen_twin(TINY, data, tmp_path)
    elsewhere_mse, elsewhere_seconds = teacher_student.start_frozen_twin(TINY, data, tmp_path).result()
    assert elsewhere_mse == here_mse  # the same numbers, to the last digit
    assert elsewhere_seconds == here_seconds == pytest.approx(0.02 * (2 * 2 + 3 + 2 * (4 + 3)))
