"""The model's predictions as in-silico experiments, read from spikes.

Reference: Max et al. 2026 (predictions of the error-neuron theory).  Each
prediction states its hypothesis, its control (a condition under which theory
says the verdict must change) and a pass criterion fixed before the run; the
number is read from spikes (error-population spike counts, signed by
population) or from recorded dendritic potentials.  Circuit: a 3-area spiking
network (two hidden areas) learning a tanh teacher of the same shape;
projection targeting uses the 7-area visual network of the projection table.
"""
from __future__ import annotations

import time

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, NeuronParams, Recording, cosine
from ..analysis import decoded_rates, rank_correlation
from ..connectome import load_table
from ..files import write_text
from ..markdown import markdown
from ..plotting import pyplot, save_figure
from ..reference import backprop_deltas, forward
from ..tasks.teacher_student import make_teacher_student
from .base import SPIKING_TRAINING, presentation_timing

QUESTION = "Do the error-neuron theory's predictions hold at the level of spikes?"

DEFAULTS = {
    **SPIKING_TRAINING,
    "layers": (4, 8, 6, 2),
    "mode": "sampled",
    "target": "cython",
    "seed": 0,
    "epochs": 4,
    "n_train": 60,
    "n_probe": 20,
    "neurons_per_unit": 40,
    "gain_drive_scales": (1.0, 3.0, 10.0, 40.0),
    "table": "macaque_visual_7areas",
    "table_sizes": (8, 8, 6, 6, 6, 4, 2),
    "targeting_epochs": 3,
    "targeting_n_train": 30,
    "targeting_n_test": 10,
    "targeting_neurons_per_unit": 10,
}


class Setup:
    """Data, timing and fresh circuits with identical initial weights for every condition."""

    def __init__(self, params: dict):
        self.params = params
        self.data = make_teacher_student(params["layers"], params["n_train"], params["n_probe"], 1,
                                         seed=params["seed"])
        self.timing = presentation_timing(params)
        self.probe = (self.data.x_val, self.data.y_val)

    def common(self, n_areas: int, neurons_per_unit: int) -> dict:
        """Spec fields every condition shares: mode, target, seed, learning rates, timing, neurons."""
        p = self.params
        return dict(mode=p["mode"], target=p["target"], seed=p["seed"],
                    eta=(p["eta_hz"] * b2.Hz,) * n_areas, dt=p["dt_ms"] * b2.ms,
                    neuron=NeuronParams(n_rep=neurons_per_unit, n_err=neurons_per_unit,
                                        rate_err=p["error_rate_hz"] * b2.Hz))

    def circuit(self, **spec_changes) -> ErrorCircuit:
        p = self.params
        spec = CircuitSpec(layers=tuple(p["layers"]),
                           **self.common(len(p["layers"]) - 1, p["neurons_per_unit"]))
        return ErrorCircuit(spec.replace(**spec_changes))

    def table_spec(self) -> CircuitSpec:
        """The multi-area circuit of the projection table (input size = the layered circuit's)."""
        p = self.params
        return CircuitSpec.from_table(load_table(p["table"]), p["table_sizes"], p["layers"][0],
                                      **self.common(len(p["table_sizes"]), p["targeting_neurons_per_unit"]))

    def training(self, circuit: ErrorCircuit):
        """Probe (targets, no plasticity), epochs of training, probe again."""
        schedule = circuit.block(*self.probe, label="probe-start", **self.timing)
        for epoch in range(self.params["epochs"]):
            schedule = schedule + circuit.block(self.data.x_train, self.data.y_train, learning=True,
                                                label=f"train-{epoch}", **self.timing)
        return schedule + circuit.block(*self.probe, label="probe-end", **self.timing)


def error_from_spikes(result, area, label: str) -> np.ndarray:
    """Signed error of ``area`` (a name or an index) per presentation of segment ``label``, from spike counts.

    Counts of the (+) minus the (-) population after settling, divided by
    rate_err: (presentations, units).  In rate mode (no spikes) the error
    neurons' presentation-averaged rates.
    """
    k = result.spec.area_index(area, first=1)
    schedule, p = result.schedule, result.spec.neuron
    if result.spec.mode == "rate":
        return result.err_avg[k][schedule.indices(label)]
    T, settle = float(schedule.duration), float(schedule.settle)
    starts = schedule.indices(label) * T
    edges = np.ravel(np.column_stack([starts + settle, starts + T]))
    return decoded_rates(result.spikes[(k, "E")], result.spec.layers[k], edges)[::2] / float(p.rate_err)


def error_firing_hz(result, area, label: str) -> float:
    """Mean firing rate (Hz per neuron) of the error neurons of ``area`` (a name or an index), both signs,
    after settling.

    In rate mode: rate_err times the mean absolute error, the rate the two
    populations would fire at together.
    """
    k = result.spec.area_index(area, first=1)
    schedule = result.schedule
    if result.spec.mode == "rate":
        return float(np.abs(error_from_spikes(result, k, label)).mean() * result.spec.neuron.rate_err / 2)
    T, settle = float(schedule.duration), float(schedule.settle)
    entry = result.spikes[(k, "E")]
    spikes = sum(np.count_nonzero((entry["t"] >= s * T + settle) & (entry["t"] < (s + 1) * T))
                 for s in schedule.indices(label))
    return spikes / (entry["n_neurons"] * len(schedule.indices(label)) * (T - settle))


def verdict(passed: bool) -> str:
    return "pass" if passed else "fail"


def backprop_signal(setup: Setup) -> dict:
    """Error neurons fire in proportion to their area's backprop error."""
    values = {}
    for feedback in ("backprop", "feedback_alignment"):
        circuit = setup.circuit(feedback=feedback)
        result = circuit.run(circuit.block(*setup.probe, label="probe", **setup.timing), Recording(spikes=True))
        deltas = backprop_deltas(circuit.spec, circuit.weights, *setup.probe, circuit.arrays.neurons)
        values[feedback] = {k: cosine(error_from_spikes(result, k, "probe"), deltas[k])
                            for k in range(1, circuit.spec.n_areas)}
    hidden = values["backprop"]
    return {
        "hypothesis": "signed error-population firing (spike counts) points along exact backprop deltas",
        "control": "random fixed feedback (feedback alignment) on the same untrained weights",
        "criterion": "cosine >= 0.9 in every hidden area with W^T feedback",
        "value": {f"area{k}": v for k, v in hidden.items()},
        "control_value": {f"area{k}": v for k, v in values["feedback_alignment"].items()},
        "verdict": verdict(min(hidden.values()) >= 0.9),
        "control_verdict": verdict(min(values["feedback_alignment"].values()) >= 0.9),
    }


def mismatch_fading(setup: Setup) -> dict:
    """Mismatch responses (error firing under a target) fade as the task is learned."""
    ratios = {}
    for name, eta in (("learning", setup.params["eta_hz"]), ("no plasticity", 0.0)):
        circuit = setup.circuit(eta=(eta * b2.Hz,) * (len(setup.params["layers"]) - 1))
        result = circuit.run(setup.training(circuit), Recording(spikes=True, spike_segments=("probe-start", "probe-end")))
        L = circuit.spec.n_areas
        ratios[name] = {f"area{k}": error_firing_hz(result, k, "probe-end") / error_firing_hz(result, k, "probe-start")
                        for k in range(1, L + 1)}
    output = f"area{len(setup.params['layers']) - 1}"
    return {
        "hypothesis": "error neurons' firing evoked by the target mismatch falls as the task is learned",
        "control": "the same presentations with plasticity off (eta = 0)",
        "criterion": "output-area error firing after training <= 50 % of before",
        "value": ratios["learning"],
        "control_value": ratios["no plasticity"],
        "verdict": verdict(ratios["learning"][output] <= 0.5),
        "control_verdict": verdict(ratios["no plasticity"][output] <= 0.5),
    }


def silencing(setup: Setup) -> dict:
    """Silencing an area's error neurons stops learning there and below, not inference."""
    top_hidden = len(setup.params["layers"]) - 2
    runs = {}
    for name, silenced in (("silenced", (top_hidden,)), ("control", ())):
        circuit = setup.circuit()
        schedule = (circuit.block(setup.data.x_val, label="inference", **setup.timing)
                    + circuit.block(setup.data.x_train[:20], setup.data.y_train[:20], learning=True,
                                    label="train", **setup.timing))
        runs[name] = circuit.run(schedule, silenced=silenced)
    change = {name: [np.linalg.norm(a - b) for a, b in zip(r.weights_after, r.weights_before)]
              for name, r in runs.items()}
    below = range(top_hidden)  # projections into areas 1..top_hidden
    drop = [1 - change["silenced"][k] / change["control"][k] for k in below]
    outputs = {name: r.select("inference")[0] for name, r in runs.items()}
    inference_change = float(np.linalg.norm(outputs["silenced"] - outputs["control"])
                             / np.linalg.norm(outputs["control"]))
    return {
        "hypothesis": f"clamping area{top_hidden}'s error neurons silent stops weight change in it and the "
                      "areas below, while the output for fixed inputs (no target, no plasticity) is unchanged",
        "control": "the same training with nothing silenced (its weight change is the 100 % reference)",
        "criterion": "weight change drops by >= 95 % in every area at or below the silenced one; "
                     "inference output changes by < 5 %",
        "value": {"weight_change_drop": {f"into area{k + 1}": d for k, d in enumerate(drop)},
                  "inference_relative_change": inference_change,
                  "output_area_weight_change_ratio": change["silenced"][-1] / change["control"][-1]},
        "verdict": verdict(min(drop) >= 0.95 and inference_change < 0.05),
    }


def gain_gating(setup: Setup) -> dict:
    """An error neuron's response to top-down error is gated by its partner's gain."""
    rows = []
    for scale in setup.params["gain_drive_scales"]:
        circuit = setup.circuit()
        circuit.weights[0] = circuit.weights[0] * scale  # drive area 1 toward saturation
        result = circuit.run(circuit.block(*setup.probe, label="probe", **setup.timing),
                             Recording(spikes=True, variables=("gain", "v_td"), dt=1 * b2.ms))
        states = result.states[1]
        firing = np.abs(error_from_spikes(result, 1, "probe")).mean()
        rows.append({"input_scale": scale, "mean_gain": float(states["gain"].mean()),
                     "mean_topdown_drive": float(np.abs(states["v_td"]).mean()),
                     "error_per_drive": float(firing / np.abs(states["v_td"]).mean())})
    response = np.array([r["error_per_drive"] for r in rows])
    gains = np.array([r["mean_gain"] for r in rows])
    correlation = float(np.corrcoef(gains, response)[0, 1])
    return {
        "hypothesis": "area1's error response per unit of top-down error scales with its partners' gain "
                      "phi' and vanishes as they saturate",
        "control": "unsaturated partners (input drive x1) give the reference response",
        "criterion": "response per drive at the strongest drive <= 20 % of the reference, and "
                     "correlation with the partners' mean gain >= 0.9",
        "value": {"conditions": rows, "correlation": correlation,
                  "saturated_over_reference": float(response[-1] / response[0])},
        "verdict": verdict(response[-1] <= 0.2 * response[0] and correlation >= 0.9),
    }


def apical_basal(setup: Setup) -> dict:
    """Representation neurons' apical input carries the error, their basal input the prediction."""
    circuit = setup.circuit()
    result = circuit.run(circuit.block(*setup.probe, label="probe", **setup.timing),
                         Recording(variables=("v_api", "v_bas"), dt=1 * b2.ms))
    deltas = backprop_deltas(circuit.spec, circuit.weights, *setup.probe, circuit.arrays.neurons)
    _, rates = forward(circuit.spec, circuit.weights, setup.probe[0], circuit.arrays.neurons)
    T, settle = float(setup.timing["duration"]), float(setup.timing["settle"])
    times = result.states["t"]
    values = {}
    for k in range(1, circuit.spec.n_areas):
        means = {var: np.array([result.states[k][var][:, (times >= p * T + settle) & (times < (p + 1) * T)].mean(1)
                                for p in range(len(setup.probe[0]))]) for var in ("v_api", "v_bas")}
        prediction = rates[k - 1] @ circuit.weights[k - 1].T
        values[f"area{k}"] = {
            "apical_vs_backprop": cosine(means["v_api"], deltas[k]),
            "basal_vs_backprop": cosine(means["v_bas"], deltas[k]),
            "basal_vs_prediction": cosine(means["v_bas"], prediction),
        }
    passed = all(v["apical_vs_backprop"] >= 0.9 and abs(v["basal_vs_backprop"]) < 0.5
                 and v["basal_vs_prediction"] >= 0.95 for v in values.values())
    return {
        "hypothesis": "apical potentials follow the backprop error, basal potentials the bottom-up prediction",
        "control": "the same potentials compared the other way round (basal vs backprop error)",
        "criterion": "cos(apical, delta) >= 0.9, |cos(basal, delta)| < 0.5, cos(basal, W r_below) >= 0.95",
        "value": values,
        "verdict": verdict(passed),
    }


def projection_targeting(setup: Setup) -> dict:
    """Top-down errors follow the table's projections; cutting denser routes hurts learning more.

    Routes are cut cumulatively by density (the sparsest first, then everything
    up to the next density class, ..., finally all), on circuits with identical
    initial weights and random streams.  Read from spikes: each area's error
    firing on the untrained circuit relative to the intact one (which areas
    the cut routes reach).  Learning deficit: the share of the intact
    circuit's test-error reduction lost, (final_cut - final_intact) /
    (initial - final_intact).  Control: the same procedure on the routes that
    leave areas without an error pathway of their own (TEpd in the 7-area
    table projects to no higher area), which carry no error whatever their
    density.
    """
    p = setup.params
    base = setup.table_spec()
    wiring = [(pr.source, pr.target, pr.density) for pr in base.projections]
    data = make_teacher_student(base.layers, p["targeting_n_train"], p["targeting_n_test"], p["targeting_n_test"],
                                seed=p["seed"], projections=wiring)
    routes = base.error_routes()
    receiving = {into for _, into, _ in routes} | {base.n_areas}
    silent = tuple(r for r in routes if r[0] not in receiving)
    runs = {}

    def cut_series(candidates) -> dict:
        """Deficits of cumulative cuts of ``candidates`` by density, and the verdict on them."""
        cuts = {f"routes of density <= {d:g}": tuple(r[:2] for r in candidates if r[2] <= d)
                for d in sorted({density for *_, density in candidates})}
        for name, cut in {"intact": (), **cuts}.items():
            if cut not in runs:
                print(f"    {name} cut ({len(cut)} routes)", flush=True)
                runs[cut] = _trained_after_cut(setup, base, data, cut)
        intact = runs[()]
        gain = intact["test_mse"][0] - intact["test_mse"][-1]
        removed = {name: sum(r[2] for r in routes if r[:2] in cut) for name, cut in cuts.items()}
        deficits = {name: (runs[cut]["test_mse"][-1] - intact["test_mse"][-1]) / gain for name, cut in cuts.items()}
        correlation = rank_correlation(list(removed.values()), list(deficits.values()))
        largest = max(deficits.values(), default=0.0)
        firing = {name: {area: (hz / intact["error_firing_hz"][area] if intact["error_firing_hz"][area] else None)
                         for area, hz in runs[cut]["error_firing_hz"].items()} for name, cut in cuts.items()}
        return {"density_removed": removed, "learning_deficit": deficits, "rank_correlation": correlation,
                "largest_deficit": largest, "error_firing_vs_intact": firing,
                "test_mse_per_epoch": {"intact": intact["test_mse"],
                                       **{name: runs[cut]["test_mse"] for name, cut in cuts.items()}},
                "verdict": verdict(correlation is not None and correlation >= 0.8 and largest >= 0.2)}

    learning, control = cut_series(routes), cut_series(silent)
    label = base.area_names
    return {
        "hypothesis": "top-down errors reach error neurons along the table's projections (skip projections "
                      "included), and cutting routes hurts learning in proportion to the density removed",
        "control": "the same cuts of the routes leaving areas without an error pathway ("
                   + (", ".join(f"{label[s - 1]}->{label[t - 1]}" for s, t, _ in silent) or "none in this table")
                   + "): as dense, but they carry no error",
        "criterion": "rank correlation between total density cut and learning deficit >= 0.8, and the "
                     "largest deficit >= 20 % of the intact circuit's error reduction",
        "value": learning,
        "control_value": control,
        "verdict": learning["verdict"],
        "control_verdict": control["verdict"],
    }


def _trained_after_cut(setup: Setup, base: CircuitSpec, data, cut: tuple) -> dict:
    """Test MSE per epoch and error firing (probe before training) with the error routes ``cut``."""
    circuit = ErrorCircuit(base.replace(lesioned_feedback=cut))
    training = circuit.train(data.x_train, data.y_train, data.x_test, data.y_test,
                             setup.params["targeting_epochs"], probe=(data.x_val, data.y_val), report=False,
                             recording=Recording(spikes=True, spike_segments=("probe-start",)), **setup.timing)
    return {"test_mse": training.test_mse,
            "error_firing_hz": {base.area_names[k - 1]: error_firing_hz(training.run, k, "probe-start")
                                for k in range(1, base.n_areas + 1)}}


PREDICTIONS = {
    "error neurons signal backprop errors": backprop_signal,
    "mismatch responses fade with learning": mismatch_fading,
    "silencing error neurons": silencing,
    "gain gating": gain_gating,
    "apical carries error, basal carries prediction": apical_basal,
    "projection targeting": projection_targeting,
}


def run(params: dict, out_dir) -> dict:
    start = time.perf_counter()
    setup = Setup(params)
    results = {}
    for name, experiment in PREDICTIONS.items():
        print(f"  {name}", flush=True)
        results[name] = experiment(setup)
        print(f"    verdict: {results[name]['verdict']}", flush=True)
    _report(results, out_dir)
    return {"seed": params["seed"], "mode": params["mode"], "layers": list(params["layers"]),
            "predictions": results, "wall_time_s": time.perf_counter() - start}


def _report(results: dict, out_dir) -> None:
    lines = ["# Predictions of the error-neuron theory, tested in a spiking circuit", ""]
    for name, r in results.items():
        lines += [f"## {name}: {r['verdict']}", "", f"- hypothesis: {r['hypothesis']}",
                  f"- control: {r['control']}", f"- criterion (fixed before the run): {r['criterion']}",
                  "", "**Measured**", *markdown(r["value"])]
        if "control_value" in r:
            lines += ["", f"**Control measured** (verdict by the same criterion: {r['control_verdict']})",
                      *markdown(r["control_value"])]
        lines.append("")
    write_text(out_dir / "report.md", "\n".join(lines))
    gating = results["gain gating"]["value"]["conditions"]
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.plot([c["mean_gain"] for c in gating], [c["error_per_drive"] for c in gating], "o-")
    ax.set_xlabel("partners' mean gain phi'")
    ax.set_ylabel("error response per top-down drive")
    ax.set_title("gain gating (area 1)")
    save_figure(fig, out_dir / "gain_gating.png")
    targeting = results["projection targeting"]
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for key, label in (("value", "all top-down routes"), ("control_value", "routes that carry no error (control)")):
        series = targeting[key]
        cuts = list(series["density_removed"])
        ax.plot([series["density_removed"][c] for c in cuts], [series["learning_deficit"][c] for c in cuts],
                "o-", label=label)
    ax.set_xlabel("total density of the cut top-down routes")
    ax.set_ylabel("learning deficit (share of error reduction lost)")
    ax.set_title("projection targeting (7-area table)")
    ax.legend(fontsize=8)
    save_figure(fig, out_dir / "projection_targeting.png")

