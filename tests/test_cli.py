"""Command line and experiment parameters; nothing is simulated."""
from pathlib import Path

import pytest

from brian_errorcircuits import SpecError, cli
from brian_errorcircuits.connectome import TableError
from brian_errorcircuits.experiments import EXPERIMENTS, get
from brian_errorcircuits.experiments import base, teacher_student
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


def test_run_with_unknown_parameter_stops_before_anything(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "teacher-student", "--set", "bogus=1"]) == 2
    assert capsys.readouterr().err.startswith("error: --set bogus: unknown parameter")
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
    with pytest.raises(SpecError, match=r"nonsense: unknown parameter"):
        parameters(DEFAULTS, ["nonsense=1"])


def test_override_without_equals_sign():
    with pytest.raises(SpecError, match=r"expected key=value"):
        parameters(DEFAULTS, ["epochs"])


@pytest.mark.parametrize("item, key", [
    ("epochs=many", "epochs"), ("epochs=2.5", "epochs"), ("eta_hz=fast", "eta_hz"),
    ("frozen_twin=maybe", "frozen_twin"), ("layers=4,x,2", "layers"),
])
def test_unconvertible_values_name_the_key(item, key):
    with pytest.raises(SpecError, match=rf"^{key}="):
        parameters(DEFAULTS, [item])


def test_named_values_apply_and_none_is_ignored():
    params = parameters(DEFAULTS, [], seed=7, mode="rate", target=None)
    assert params["seed"] == 7 and params["mode"] == "rate"
    assert params["target"] == DEFAULTS["target"]


def test_named_value_unknown_to_experiment():
    with pytest.raises(SpecError, match=r"--colour does not apply"):
        parameters(DEFAULTS, [], colour="red")


@pytest.mark.parametrize("item", ["layers=4,,2", "layers=4,10,", "layers=", "models=rate,,ann"])
def test_empty_list_element_is_refused(item):
    key = item.split("=")[0]
    defaults = {**DEFAULTS, "models": ("rate", "spiking")}
    with pytest.raises(SpecError, match=rf"^{key}=.*none empty"):
        parameters(defaults, [item])


@pytest.mark.parametrize("item, message", [
    ("n_train=0", "n_train=0: must be >= 1"), ("n_test=0", "n_test=0: must be >= 1"),
    ("neurons_per_unit=0", "neurons_per_unit=0: must be >= 1"), ("epochs=-1", "epochs=-1: must be >= 0"),
    ("seed=-1", "seed=-1: must be >= 0"), ("eta_hz=nan", "eta_hz=nan: must be finite"),
    ("eta_hz=-inf", "eta_hz=-inf: must be finite"), ("layers=4,-10,2", r"layers=\(4, -10, 2\): must be >= 0"),
    ("feedback= ", "feedback=' ': must not be empty"),
])
def test_values_that_cannot_be_meant_are_refused_by_name(item, message):
    with pytest.raises(SpecError, match=rf"^{message}"):
        parameters(DEFAULTS, [item])


@pytest.mark.parametrize("seed, message", [(-1, "must be >= 0"), (2.5, "expected a whole number"),
                                           ("abc", "expected a whole number"), (True, "expected a whole number")])
def test_bad_seed_from_python_is_refused(seed, message):
    with pytest.raises(SpecError, match=rf"^seed=.*{message}"):
        parameters(DEFAULTS, [], seed=seed)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_accepts_its_own_defaults(name):
    module = get(name)
    assert parameters(module.DEFAULTS) == module.DEFAULTS


@pytest.fixture
def no_simulation(monkeypatch, tmp_path):
    """Work in an empty folder; fail if teacher-student's simulation is ever started."""
    def simulate(params, out):
        raise AssertionError("the simulation started")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(teacher_student, "run", simulate)


@pytest.mark.parametrize("options, message", [
    (["--set", "n_train=0"], "n_train=0: must be >= 1"), (["--set", "n_test=0"], "n_test=0: must be >= 1"),
    (["--set", "epochs=-1"], "epochs=-1: must be >= 0"),
    (["--set", "epochs=2.5"], "epochs=2.5: expected a whole number"),
    (["--seed", "-1"], "seed=-1: must be >= 0"), (["--seed", "2.5"], "seed=2.5: expected a whole number"),
    (["--seed", "abc"], "seed=abc: expected a whole number"),
    (["--set", "layers=4,,2"], "layers=4,,2: expected comma-separated values, none empty, like 4,10,2"),
    (["--out", ""], "--out is empty"),
])
def test_bad_command_line_gives_one_error_line_a_hint_and_status_2(no_simulation, tmp_path, capsys, options, message):
    assert cli.main(["run", "teacher-student", *options]) == 2
    captured = capsys.readouterr()
    error, hint = captured.err.splitlines()
    assert error.startswith(f"error: {message}")
    assert hint.startswith("hint: `errorcircuits list -v`") and "--debug" in hint
    assert "Traceback" not in captured.err + captured.out
    assert list(tmp_path.iterdir()) == [], "something was written before the parameters were checked"


def test_debug_shows_the_traceback(no_simulation):
    with pytest.raises(SpecError, match="n_train=0"):
        cli.main(["run", "teacher-student", "--set", "n_train=0", "--debug"])


def test_table_error_during_a_run_gives_one_line_and_a_table_hint(tmp_path, monkeypatch, capsys):
    def run_with_bad_table(params, out):
        raise TableError("my.csv, line 3: row 2 ('V2') has 2 cells,\nthe header has 3")
    monkeypatch.setattr(teacher_student, "run", run_with_bad_table)
    assert cli.main(["run", "teacher-student", "--out", str(tmp_path)]) == 2
    error, hint = capsys.readouterr().err.splitlines()
    assert error == "error: my.csv, line 3: row 2 ('V2') has 2 cells, the header has 3"
    assert hint.startswith("hint: a table is a comma-separated UTF-8 file")


def test_experiment_script_reports_errors_like_the_cli(no_simulation, capsys):
    with pytest.raises(SystemExit) as stop:
        base.main("teacher-student", ["--set", "n_test=0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("error: n_test=0: must be >= 1")


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
