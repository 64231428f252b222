"""Command line and experiment parameters; nothing is simulated."""
from pathlib import Path

import pytest

from brian_errorcircuits import cli
from brian_errorcircuits.experiments import EXPERIMENTS, get
from brian_errorcircuits.experiments import teacher_student
from brian_errorcircuits.experiments.base import output_dir, parameters

DEFAULTS = teacher_student.DEFAULTS


def test_list_prints_experiments(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "teacher-student" in out
    assert f"teacher-student: {teacher_student.QUESTION}" in out
    assert "layers = " not in out


def test_list_verbose_prints_defaults(capsys):
    assert cli.main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    assert "layers = (4, 10, 2)" in out
    assert "frozen_twin = True" in out


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit):
        cli.main([])


def test_run_unknown_experiment(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "no-such-experiment"])
    assert "no-such-experiment" in capsys.readouterr().err


def test_run_with_unknown_parameter_stops_before_anything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="bogus"):
        cli.main(["run", "teacher-student", "--set", "bogus=1"])
    assert list(tmp_path.iterdir()) == []


def test_get_unknown_experiment_lists_known_names():
    with pytest.raises(KeyError, match="teacher-student"):
        get("nope")
    assert "teacher-student" in EXPERIMENTS


# ------------------------------------------------------------ parameters
def test_parameters_convert_types():
    params = parameters(DEFAULTS, ["layers=4,5,2", "eta_hz=2.5", "frozen_twin=false", "epochs=3"])
    assert params["layers"] == (4, 5, 2) and all(type(n) is int for n in params["layers"])
    assert params["eta_hz"] == 2.5 and type(params["eta_hz"]) is float
    assert params["frozen_twin"] is False
    assert params["epochs"] == 3 and type(params["epochs"]) is int
    assert params["mode"] == DEFAULTS["mode"]


@pytest.mark.parametrize("text, value", [
    ("true", True), ("True", True), ("1", True), ("yes", True),
    ("false", False), ("FALSE", False), ("0", False), ("no", False),
])
def test_boolean_spellings(text, value):
    assert parameters(DEFAULTS, [f"frozen_twin={text}"])["frozen_twin"] is value


def test_integer_given_to_float_parameter():
    params = parameters(DEFAULTS, ["eta_hz=5"])
    assert params["eta_hz"] == 5.0 and type(params["eta_hz"]) is float


def test_string_parameter_and_value_with_equals_sign():
    assert parameters(DEFAULTS, ["feedback=feedback_alignment"])["feedback"] == "feedback_alignment"


def test_later_override_wins_and_defaults_untouched():
    before = dict(DEFAULTS)
    params = parameters(DEFAULTS, ["epochs=3", "epochs=4"])
    assert params["epochs"] == 4
    assert DEFAULTS == before


def test_unknown_key_is_refused_by_name():
    with pytest.raises(SystemExit, match=r"nonsense: unknown parameter"):
        parameters(DEFAULTS, ["nonsense=1"])


def test_override_without_equals_sign():
    with pytest.raises(SystemExit, match=r"expected key=value"):
        parameters(DEFAULTS, ["epochs"])


@pytest.mark.parametrize("item, key", [
    ("epochs=many", "epochs"), ("epochs=2.5", "epochs"), ("eta_hz=fast", "eta_hz"),
    ("frozen_twin=maybe", "frozen_twin"), ("layers=4,x,2", "layers"),
])
def test_unconvertible_values_name_the_key(item, key):
    with pytest.raises(SystemExit, match=rf"--set {key}="):
        parameters(DEFAULTS, [item])


def test_named_values_apply_and_none_is_ignored():
    params = parameters(DEFAULTS, [], seed=7, mode="rate", target=None)
    assert params["seed"] == 7 and params["mode"] == "rate"
    assert params["target"] == DEFAULTS["target"]


def test_named_value_unknown_to_experiment():
    with pytest.raises(SystemExit, match=r"--colour does not apply"):
        parameters(DEFAULTS, [], colour="red")


# ------------------------------------------------------------ output_dir
def test_output_dir_is_deterministic(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = parameters(DEFAULTS, ["epochs=3"])
    first = output_dir("teacher-student", params)
    again = output_dir("teacher-student", parameters(DEFAULTS, ["epochs=3"]))
    reordered = output_dir("teacher-student", dict(reversed(list(params.items()))))
    assert first == again == reordered
    assert first.parent == Path("results")
    assert first.name.startswith("teacher-student-")
    assert (tmp_path / first).is_dir()


def test_output_dir_differs_for_different_params(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = output_dir("teacher-student", parameters(DEFAULTS, ["epochs=3"]))
    b = output_dir("teacher-student", parameters(DEFAULTS, ["epochs=4"]))
    c = output_dir("teacher-student", parameters(DEFAULTS, ["layers=4,5,2"]))
    assert len({a, b, c}) == 3
    assert all((tmp_path / p).is_dir() for p in (a, b, c))


def test_output_dir_differs_for_different_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert output_dir("one", dict(DEFAULTS)) != output_dir("two", dict(DEFAULTS))


def test_output_dir_explicit(tmp_path):
    target = tmp_path / "nested" / "out"
    assert output_dir("teacher-student", dict(DEFAULTS), str(target)) == target
    assert target.is_dir()
