"""Result files: written atomically, strict JSON; nothing is simulated (corrupt sweep results: test_sweep.py)."""
import json
import math
import os
import re
import subprocess
from argparse import Namespace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from brian_errorcircuits import DivergenceError, SpecError, cli
from brian_errorcircuits.experiments import base, depth_scaling
from brian_errorcircuits.files import git_commit, read_json, write_json
from brian_errorcircuits.plotting import pyplot, save_figure
from brian_errorcircuits.sweep import run_key, run_sweep


def strict_json(path):
    """The JSON document at ``path``; fails on the bare NaN / Infinity that Python's json accepts."""
    def refuse(constant):
        raise AssertionError(f"{path.name} holds a bare {constant}")
    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture
def replacements(monkeypatch):
    """Every os.replace(source, target) call, as (source, target) paths."""
    calls, replace = [], os.replace

    def spy(source, target):
        calls.append((Path(source), Path(target)))
        replace(source, target)
    monkeypatch.setattr(os, "replace", spy)
    return calls


def assert_replaced_atomically(calls, target):
    sources = [source for source, replaced in calls if replaced == target]
    assert sources, f"{target.name} was not written through os.replace"
    assert all(source.parent == target.parent and source != target for source in sources)
    assert target.exists() and not any(source.exists() for source in sources)


FAKE_EXPERIMENT = SimpleNamespace(QUESTION="a question", DEFAULTS={"seed": 0, "scale": 1.0},
                                  run=lambda params, out: {"value": float("nan"), "seed": params["seed"]})


def run_fake_experiment(out, experiment=FAKE_EXPERIMENT):
    args = Namespace(out=str(out), seed=None, mode=None, target=None, overrides=[], debug=False)
    return base.run("fake", experiment, args)


def failing_experiment(error):
    """FAKE_EXPERIMENT whose run writes a figure, then raises ``error``."""
    def run(params, out):
        (out / "partial.png").write_bytes(b"new")
        raise error
    return SimpleNamespace(QUESTION="a question", DEFAULTS=FAKE_EXPERIMENT.DEFAULTS, run=run)


def previous_results(out):
    """An output folder as a finished earlier run left it, plus a figure only that run made."""
    run_fake_experiment(out)
    (out / "old_only.png").write_bytes(b"old")
    (out / "runs").mkdir()
    (out / "runs" / "kept.json").write_text("{}")


def fake_train_one(calls):
    def train_one(run, scratch):
        calls.append((run["depth"], run["model"], run["seed"]))
        return {"initial": 1.0, "final": 0.5, "curve": [1.0, 0.5], "angles_deg": [10.0, float("nan")],
                "angles_by_epoch_deg": [[10.0, float("nan")]]}
    return train_one


def test_every_result_writer_replaces_its_file_from_a_temporary_one(tmp_path, replacements, monkeypatch):
    run_fake_experiment(tmp_path)
    fig, _ = pyplot().subplots()
    save_figure(fig, tmp_path / "figure.png")
    train_one = fake_train_one([])
    run = depth_scaling.run_parameters(dict(depth_scaling.DEFAULTS), 1, "rate", 0)
    run_sweep(train_one, [run], tmp_path / "runs", workers=0, report=False)
    for name in ("params.json", "summary.json", "figure.png", f"runs/{run_key(train_one, run)}.json",
                 "runs/sweep.json"):
        assert_replaced_atomically(replacements, tmp_path / name)
    assert (tmp_path / "figure.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "params.json", "runs", "summary.json"]


def test_a_write_that_fails_half_way_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    write_json(path, {"test_mse": [0.5]})
    write_text = Path.write_text

    def disk_full(self, text, *args, **kwargs):
        write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError("No space left on device")
    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_json(path, {"test_mse": [0.5, 0.25, 0.125]})
    assert strict_json(path) == {"test_mse": [0.5]}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_non_finite_numbers_are_written_as_null_and_recorded(tmp_path):
    path = tmp_path / "summary.json"
    write_json(path, {"mse": float("nan"), "curve": np.array([1.0, np.inf]), "angles": {"a/b": np.float32("-inf")},
                      "fine": 2.0})
    document = strict_json(path)
    assert document["mse"] is None and document["curve"] == [1.0, None] and document["angles"] == {"a/b": None}
    assert document["non_finite"] == {"/mse": "nan", "/curve/1": "inf", "/angles/a~1b": "-inf"}
    restored = read_json(path)
    assert math.isnan(restored["mse"]) and restored["curve"] == [1.0, math.inf]
    assert restored["angles"] == {"a/b": -math.inf} and restored["fine"] == 2.0 and "non_finite" not in restored


def test_summary_and_params_of_an_experiment_are_strict_json(tmp_path):
    run_fake_experiment(tmp_path)
    assert strict_json(tmp_path / "summary.json")["non_finite"] == {"/value": "nan"}
    assert strict_json(tmp_path / "params.json")["scale"] == 1.0


# ------------------------------------------------------------ provenance
def test_params_json_records_versions_and_commit_next_to_the_parameters(tmp_path, monkeypatch):
    import brian2

    from brian_errorcircuits.circuit import THREADS_ENV

    monkeypatch.delenv(THREADS_ENV, raising=False)
    import brian_errorcircuits

    run_fake_experiment(tmp_path)
    params = strict_json(tmp_path / "params.json")
    checkout = Path(brian_errorcircuits.__file__).parent
    head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert params == {"seed": 0, "scale": 1.0, "package_version": brian_errorcircuits.__version__,
                      "brian2_version": brian2.__version__, "numpy_version": np.__version__,
                      "git_commit": head.stdout.strip() if head.returncode == 0 else None, "standalone_threads": 1}


def test_git_commit_is_none_outside_a_checkout_and_for_untracked_folders(tmp_path):
    assert git_commit(tmp_path) is None
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "site-packages").mkdir()
    (tmp_path / "site-packages" / "module.py").write_text("")
    assert git_commit(tmp_path / "site-packages") is None


# ------------------------------------------------------------ output folders
def test_a_finished_run_leaves_no_incomplete_marker_and_no_stale_figure(tmp_path):
    previous_results(tmp_path)
    run_fake_experiment(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json", "runs", "summary.json"]
    assert (tmp_path / "runs" / "kept.json").exists(), "saved runs (depth-scaling resumes from them) stay"


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("compiler died")])
def test_an_interrupted_rerun_leaves_the_folder_marked_incomplete_without_the_old_summary(tmp_path, error):
    """params.json of the new run never sits next to the summary of the old one."""
    previous_results(tmp_path)
    with pytest.raises(type(error)):
        run_fake_experiment(tmp_path, failing_experiment(error))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["INCOMPLETE", "params.json", "partial.png", "runs"]
    assert f"pid {os.getpid()}" in (tmp_path / "INCOMPLETE").read_text()
    run_fake_experiment(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json", "runs", "summary.json"]


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path):
    """Two runs into one --out would share params.json, summary.json and the cpp_standalone build folder."""
    def nested_run(params, out):
        with pytest.raises(SpecError, match=rf"^--out {re.escape(str(out))}: another run writes into this folder "
                                            rf"\(run in progress or interrupted: pid {os.getpid()}, started .*\); "
                                            "wait for it or choose another --out"):
            run_fake_experiment(out)
        return {"value": 1.0}
    run_fake_experiment(tmp_path, SimpleNamespace(QUESTION="q", DEFAULTS=FAKE_EXPERIMENT.DEFAULTS, run=nested_run))
    assert not (tmp_path / "INCOMPLETE").exists()


def test_cli_reports_ctrl_c_and_divergence_in_one_line(tmp_path, monkeypatch, capsys):
    for error, status, first_line in (
            (KeyboardInterrupt(), 130, "interrupted: the output folder stays marked incomplete (file INCOMPLETE)"),
            (DivergenceError("the run diverged: area 'area1' ...", "area1", "train-1", 4), 2,
             "error: the run diverged: area 'area1' ...\nhint: lower the learning rates")):
        monkeypatch.setattr(cli, "get", lambda name: failing_experiment(error))
        assert cli.main(["run", "teacher-student", "--out", str(tmp_path)]) == status
        assert capsys.readouterr().err.startswith(first_line)
        assert (tmp_path / "INCOMPLETE").exists()


# ------------------------------------------------------------ depth-scaling parameters
@pytest.mark.parametrize("overrides, message", [
    (["depths=1,9"], r"^depths=1,9: 9 is not possible; choose from 1\.\.7 \(the table 'macaque_visual_7areas' "
                     r"has 7 areas\)"),
    (["models=rate,banana"], r"^models=rate,banana: 'banana' is not possible; choose from rate, spiking, ann, "
                             r"sacramento2018, dendritic_hpc"),
    (["depths=0"], r"^depths=0: 0 is not possible"),
    (["depths=2,2"], r"^depths=2,2: give each value once"),
    (["seeds=0"], r"^seeds=0: a series needs at least 1 seed"),
    (["depths=1,2", "target=banana"], r"^target='banana' is unknown"),
])
def test_depth_scaling_refuses_a_series_it_cannot_finish_before_its_first_run(tmp_path, monkeypatch, overrides,
                                                                               message):
    """Before, depths=1,9 trained every depth-1 model for minutes and then failed on depth 9."""
    calls = []
    monkeypatch.setattr(depth_scaling, "train_one", fake_train_one(calls))
    with pytest.raises(SpecError, match=message):
        depth_scaling.run(base.parameters(depth_scaling.DEFAULTS, overrides), tmp_path)
    assert calls == [] and list(tmp_path.iterdir()) == []


def test_figures_saved_inside_footnote_carry_it_and_others_do_not(tmp_path):
    """Experiments stamp every figure with the mode that produced it (``plotting.footnote``)."""
    from brian_errorcircuits.plotting import footnote, pyplot, save_figure

    plt = pyplot()
    stamped, plain = plt.figure(), plt.figure()
    with footnote("teacher-student, spiking, 20 neurons per unit, seed 0"):
        save_figure(stamped, tmp_path / "stamped.png")
    save_figure(plain, tmp_path / "plain.png")
    assert [text.get_text() for text in stamped.texts] == ["teacher-student, spiking, 20 neurons per unit, seed 0"]
    assert plain.texts == [] and (tmp_path / "stamped.png").stat().st_size > 0


@pytest.mark.parametrize("params, seeds, text", [
    ({"seed": 3}, None, "seed 3"),
    ({"seed": 0, "seeds": 3}, None, "seeds 0, 1, 2"),  # a sweep over its own seeds (depth-scaling, populations)
    ({"seed": 5}, 2, "seeds 5, 6"),  # --seeds 2
    ({}, None, "seed -"),
])
def test_figure_footnotes_name_every_seed_a_run_covers(params, seeds, text):
    from brian_errorcircuits.experiments.base import seeds_description

    assert seeds_description(params, seeds) == text


def test_raster_of_a_late_window_labels_absolute_times_without_an_offset():
    """A window late in a long run reads 3150.1 on its axis, not 0.1 plus an offset of 3.15e3."""
    from brian_errorcircuits.plotting import circuit_rasters, pyplot

    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(3150.0, 3150.3, 200))
    spikes = {(1, "P"): {"t": t, "i": rng.integers(0, 5, 200), "n_neurons": 5},
              (1, "E"): {"t": t, "i": rng.integers(0, 5, 200), "sign": rng.choice([-1, 1], 200), "n_neurons": 5},
              (0, "P"): {"t": t, "i": rng.integers(0, 5, 200), "n_neurons": 5}}
    fig = circuit_rasters(spikes, ["hidden"], window=(3150.0, 3150.3), onsets=[3150.0, 3150.1, 3150.2])
    bottom = fig.axes[len(spikes) - 1]
    fig.canvas.draw()
    assert bottom.xaxis.get_major_formatter().get_offset() == ""
    assert all(3150.0 <= float(label.get_text()) <= 3150.3 for label in bottom.get_xticklabels() if label.get_text())
    pyplot().close(fig)
