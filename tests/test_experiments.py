"""Every experiment runs end to end on a tiny setting and writes its outputs.

Spiking mode on Brian2's numpy target (no compile); a few presentations of 20 ms.
"""
import json
import math

import pytest

from brian_errorcircuits import ErrorCircuit
from brian_errorcircuits.cli import main
from brian_errorcircuits.experiments import EXPERIMENTS

COMMON = ["epochs=1", "n_train=3", "n_test=2", "n_probe=2", "duration_ms=20", "settle_ms=5",
          "neurons_per_unit=2", "raster_presentations=1"]
TINY = {
    "teacher-student": COMMON,
    "visual-cortex": COMMON,
    "predictions": ["epochs=1", "n_train=3", "n_probe=2", "duration_ms=20", "settle_ms=5", "neurons_per_unit=2",
                    "targeting_epochs=1", "targeting_n_train=3", "targeting_n_test=2",
                    "table_sizes=2,2,1,1,1,1,1", "targeting_neurons_per_unit=2", "gain_drive_scales=1,40"],
    "depth-scaling": ["depths=1,2", "seeds=1", "n_train=3", "n_test=2", "n_probe=2", "rate_epochs=1",
                      "spiking_epochs=1", "rate_duration_ms=20", "spiking_duration_ms=20", "neurons_per_unit=2",
                      "rate_target=numpy"],
    "cartpole": ["epochs=1", "n_train=3", "n_test=2", "duration_ms=20", "settle_ms=5", "neurons_per_unit=2",
                 "episodes=2", "max_steps=5"],
    "yinyang": ["epochs=1", "n_train=6", "n_train_eval=3", "n_val=3", "n_test=6", "duration_ms=20", "settle_ms=5",
                "neurons_per_unit=2", "error_neurons_per_unit=2", "layers=4,5,3", "ann_epochs=1", "raster_presentations=2",
                "test_duration_ms=40", "test_settle_ms=10"],
    "dms": ["epochs=1", "n_train=4", "n_test=4", "duration_ms=20", "settle_ms=5", "neurons_per_unit=2",
            "fixation=1", "delays=1", "tau_input_ms=30", "trace_dt_ms=1"],
    "mean-field": ["population_sizes=1,2", "n_presentations=2", "duration_ms=20", "settle_ms=5"],
    "spike-statistics": ["neurons_per_unit=2", "n_patterns=1", "duration_ms=60", "settle_ms=10", "raster_ms=50"],
    "populations": ["sizes_rep=4", "sizes_err=3", "spiking_sizes_rep=4", "spiking_sizes_err=3", "seeds=1", "n_train=2",
                    "rate_epochs=1", "spiking_epochs=1", "rate_duration_ms=60", "spiking_duration_ms=20",
                    "pixel_neurons=2", "dt_ms=0.5"],
    "heterogeneity": ["sigmas=0.5", "placements=rep", "seeds=1", "n_train=3", "spiking_n_train=3", "n_test=2",
                      "n_probe=2", "rate_epochs=1", "spiking_epochs=1", "rate_duration_ms=20", "spiking_duration_ms=20",
                      "neurons_per_unit=2", "dt_ms=0.5"],
}
REQUIRED = {
    "teacher-student": {"mode", "layers", "n_train", "initial_test_mse", "final_test_mse", "bp_cosine",
                        "simulated_time_s", "wall_time_s", "seed"},
    "visual-cortex": {"mode", "areas", "initial_test_mse", "final_test_mse", "bp_cosine", "simulated_time_s",
                      "wall_time_s", "seed"},
    "predictions": {"predictions", "wall_time_s", "seed"},
    "cartpole": {"mode", "failures_per_epoch", "controller_failures", "untrained_failures", "test_mse",
                 "wall_time_s", "seed"},
    "depth-scaling": {"depths", "models", "test_mse", "untrained_test_mse", "weight_update_angle_deg",
                      "wall_time_s", "seed"},
    "yinyang": {"train_accuracy", "validation_accuracy", "test_accuracy", "final_test_accuracy", "wall_time_s",
                "seed", "mode", "layers", "ann_test_accuracy", "frozen_hidden_ann_test_accuracy",
                "input_noise_ann_test_accuracy"},
    "dms": {"test_mse", "test_accuracy", "final_test_mse", "final_test_accuracy", "wall_time_s", "seed", "mode"},
    "mean-field": {"layers", "sizes", "rate_twin_hidden_error_cosine_with_backprop", "wall_time_s", "seed"},
    "spike-statistics": {"parameters", "versions", "heterogeneity_off", "heterogeneity_on", "wall_time_s", "seed"},
    "populations": {"modes", "seeds", "cells", "runs", "median", "sweep", "wall_time_s", "seed"},
    "heterogeneity": {"modes", "placements", "sigmas", "seeds", "runs", "median", "sweep", "wall_time_s", "seed"},
}
#: experiments that keep their trained circuit as circuit.npz
SAVES_CIRCUIT = {"teacher-student", "visual-cortex", "yinyang", "cartpole", "dms"}
FIGURES = {
    "teacher-student": ("learning_curve.png", "raster_start.png", "raster_end.png"),
    "visual-cortex": ("learning_curve.png", "raster_start.png", "raster_end.png", "bp_alignment.png"),
    "depth-scaling": ("test_error_vs_depth.png", "weight_update_angles.png"),
    "predictions": ("report.md", "predictions.png", "gain_gating.png", "projection_targeting.png"),
    "yinyang": ("accuracy.png", "test_predictions.png", "raster.png"),
    "cartpole": ("failures.png", "trajectories.png", "raster_control.png"),
    "dms": ("learning_curve.png", "rate_traces.png", "raster.png"),
    "mean-field": ("mean_field.png",),
    "spike-statistics": ("spike_statistics.png",),
    "populations": ("populations.png",),
    "heterogeneity": ("heterogeneity.png",),
}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_experiment_smoke(name, tmp_path):
    """Tiny settings on Brian2's numpy target (no compile)."""
    out = tmp_path / name
    args = ["run", name, "--out", str(out), "--target", "numpy", "--seed", "3"]
    for item in TINY[name]:
        args += ["--set", item]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert REQUIRED[name] <= set(summary)
    assert summary["seed"] == 3
    for figure in FIGURES[name]:
        assert (out / figure).stat().st_size > 1000, figure
    assert json.loads((out / "params.json").read_text())["seed"] == 3
    if name in SAVES_CIRCUIT:
        saved = ErrorCircuit.load(out / "circuit.npz")
        assert saved.spec.target == "numpy" and saved.spec.seed == 3 and saved.runs >= 1
    if name == "predictions":  # neuron level by default: 2 neurons per unit, read per neuron and per unit
        assert summary["mode"] == "spiking" and summary["neurons_per_unit"] == 2
        assert all(p["verdict"] in ("pass", "fail") for p in summary["predictions"].values())
        assert summary["verdicts"] == {name: p["verdict"] for name, p in summary["predictions"].items()}
        code = summary["predictions"]["population code of single error neurons"]["value"]
        assert set(code) == {"area1", "area2"} and all(-1 <= r["population_cosine"] <= 1 for r in code.values())
        apical = summary["predictions"]["apical carries error, basal carries prediction"]["value"]["area1"]
        assert "per_neuron" in apical and "basal_vs_prediction_from_spikes" in apical
        return
    if name == "cartpole":  # 2 episodes of 5 steps (0.1 s): from seed 3's starts nobody fails yet
        assert summary["failures_per_epoch"] == [0, 0] and summary["controller_failures"] == 0
        assert summary["steps_per_epoch"] == [[5, 5], [5, 5]]
        assert summary["mean_field_failures"] == 0 and summary["mean_field_steps"] == [5, 5]
        assert len(summary["test_mse"]) == 2 and all(0 < v < 4 for v in summary["test_mse"])
        return
    if name == "yinyang":  # accuracies are fractions of 3 (train subset, validation) or 6 (test) samples
        for key, n in (("train_accuracy", 3), ("validation_accuracy", 3), ("test_accuracy", 6),
                       ("ann_test_accuracy", 6), ("frozen_hidden_ann_test_accuracy", 6)):
            assert len(summary[key]) == 2 and all(abs(v * n - round(v * n)) < 1e-9 for v in summary[key]), key
        assert abs(summary["final_test_accuracy"] * 6 - round(summary["final_test_accuracy"] * 6)) < 1e-9
        assert summary["mode"] == "sampled" and summary["layers"] == [4, 5, 3]
        return
    if name == "dms":  # 4 test trials before and after 1 epoch; 12 trials of 4 presentations of 20 ms
        assert len(summary["test_mse"]) == len(summary["test_accuracy"]) == 2
        assert all(0 <= v <= 4 for v in summary["test_mse"]) and summary["final_test_mse"] == summary["test_mse"][-1]
        assert all(abs(v * 4 - round(v * 4)) < 1e-9 for v in summary["test_accuracy"])
        assert summary["mode"] == "sampled" and abs(summary["simulated_time_s"] - 0.96) < 1e-9
        return
    if name == "mean-field":  # relative errors are finite and positive (spike noise), one row per size
        assert [row["neurons_per_unit"] for row in summary["sizes"]] == [1, 2]
        assert all(0 < row["relative_error_output"] < 10 for row in summary["sizes"])
        assert summary["sizes"][1]["plastic_synapses"] == 4 * summary["sizes"][0]["plastic_synapses"]
        return
    if name == "spike-statistics":  # every population in both conditions; 4 input units x 2 neurons x 1 pattern
        assert abs(summary["window_s"] - 0.05) < 1e-12
        for condition in ("heterogeneity_off", "heterogeneity_on"):
            populations = summary[condition]["populations"]
            assert {"input", "area1 representation", "area2 error +"} <= set(populations)
            assert populations["input"]["rate_hz"]["count"] == 8
        return
    if name == "populations":  # one run per mode, seed 3; rate (60 ms, error somata settled): the paper's lateral
        # noise keeps the cosine high
        for mode, cell in (("rate", "4x3"), ("spiking", "4x3")):
            (entry,) = summary["runs"][mode][cell]
            assert entry["seed"] == 3 and len(entry["curve"]) == 2 and entry["final"] == entry["curve"][-1]
            assert all(-1 <= entry[key] <= 1 for key in ("cosine_start", "cosine_end"))
        assert summary["runs"]["rate"]["4x3"][0]["cosine_start"] > 0.9
        return
    if name == "heterogeneity":  # sigma 0.5 in the representation neurons, one seed per mode
        for mode in ("rate", "spiking"):
            (entry,) = summary["runs"][mode]["rep"]["0.5"]
            assert entry["seed"] == 3 and len(entry["curve"]) == 2
            assert set(entry["cosine_start"]) == {"area1"} and -1 <= entry["cosine_start"]["area1"] <= 1
        return
    if name == "depth-scaling":
        for by_depth in summary["test_mse"].values():
            assert all(math.isfinite(v) for runs in by_depth.values() for v in runs)
        return
    if name == "visual-cortex":
        assert_wired_from_the_table(summary)
    assert summary["mode"] == "spiking"  # teacher-student and visual-cortex default to the neuron-level mode
    assert math.isfinite(summary["initial_test_mse"]) and math.isfinite(summary["final_test_mse"])
    assert summary["simulated_time_s"] > 0
    for when in ("start", "end"):
        assert all(v is None or -1 <= v <= 1 for v in summary["bp_cosine"][when].values())


def assert_wired_from_the_table(summary):
    """Neuron-level visual cortex, 2 neurons per unit: each projection's synapse count in summary.json is
    its density times its neuron pairs within 4 binomial standard deviations (exact at density 1)."""
    assert summary["mode"] == "spiking" and summary["connectivity"] == "density"
    neurons = dict(zip(["input", *summary["areas"]], [2 * n for n in [4, *summary["sizes"]]]))
    counts = summary["synapses_per_projection"]
    assert len(counts) == len(summary["projections"])
    for source, target, density in summary["projections"]:
        pairs = neurons[source] * neurons[target]
        sd = math.sqrt(pairs * density * (1 - density))
        assert abs(counts[f"{source}->{target}"] - density * pairs) <= 4 * sd, (source, target)
    assert counts["input->V1"] == 8 * 16 and counts["V1->V4"] < 16 * 12


def test_seeds_option_runs_each_seed_as_its_own_run_and_compares_their_numbers(tmp_path):
    """``--seeds 2`` (serially here): seed S's folder holds the same numbers as a plain ``--seed S`` run,
    summary.json each seed's numbers with their median, and a rerun reuses both seeds."""
    tiny = [arg for item in TINY["teacher-student"] for arg in ("--set", item)]
    common = ["run", "teacher-student", "--target", "numpy", *tiny]
    assert main([*common, "--out", str(tmp_path / "seeds"), "--seed", "3", "--seeds", "2", "--workers", "0"]) == 0
    assert main([*common, "--out", str(tmp_path / "single"), "--seed", "4"]) == 0
    summary = json.loads((tmp_path / "seeds" / "summary.json").read_text())
    single = json.loads((tmp_path / "single" / "summary.json").read_text())
    assert summary["seeds"] == [3, 4] and summary["sweep"]["computed"] == 2
    assert summary["per_seed"]["4"]["final_test_mse"] == single["final_test_mse"]
    assert json.loads((tmp_path / "seeds" / "seed-4" / "summary.json").read_text())["final_test_mse"] == \
        single["final_test_mse"]
    final = summary["over_seeds"]["final_test_mse"]
    assert final["values"] == [summary["per_seed"][s]["final_test_mse"] for s in ("3", "4")]
    assert final["min"] <= final["median"] <= final["max"] and "wall_time_s" not in summary["over_seeds"]
    assert (tmp_path / "seeds" / "seeds.png").stat().st_size > 1000
    assert main([*common, "--out", str(tmp_path / "seeds"), "--seed", "3", "--seeds", "2", "--workers", "0"]) == 0
    rerun = json.loads((tmp_path / "seeds" / "summary.json").read_text())
    assert rerun["sweep"]["reused"] == 2 and rerun["per_seed"] == summary["per_seed"]


@pytest.mark.parametrize("options, message", [
    (["depth-scaling", "--seeds", "2"], "--set seeds=2"),
    (["teacher-student", "--seeds", "0"], "whole number >= 1"),
])
def test_seeds_option_refuses_what_cannot_be_meant(tmp_path, capsys, options, message):
    assert main(["run", *options, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err


def test_hidden_learning_rate_is_set_apart_from_the_output_one():
    """``hidden_eta_factor`` scales every hidden area's learning rate and leaves the output's (Yin-Yang's
    spiking frozen-hidden twin is factor 0); a negative factor is refused before anything builds."""
    import brian2 as b2

    from brian_errorcircuits.experiments import teacher_student, yinyang
    from brian_errorcircuits.spec import SpecError

    params = {**yinyang.DEFAULTS, "layers": (4, 6, 5, 3), "target": "numpy", "hidden_eta_factor": 0.25}
    eta_hz = [float(eta / b2.Hz) for eta in teacher_student.make_spec(params).eta]
    assert eta_hz == [0.25 * params["eta_hz"]] * 2 + [params["eta_hz"]]
    frozen = teacher_student.make_spec({**params, "hidden_eta_factor": 0.0}).eta
    assert frozen == teacher_student.make_spec(params, frozen_hidden=True).eta
    with pytest.raises(SpecError, match="must not be negative"):
        teacher_student.make_spec({**params, "hidden_eta_factor": -1.0}).validate()
