"""The model's predictions as in-silico experiments, read from spikes.

Reference: Max et al. 2026 (predictions of the error-neuron theory).  Each
prediction states its hypothesis, its control (a condition under which theory
says the verdict must change) and a pass criterion fixed before the run; the
number is read from spikes (error neurons' spike counts, signed by the sign of
each spike) or from recorded dendritic potentials.  Circuit: a 3-area network
(two hidden areas) learning a tanh teacher of the same shape; projection
targeting uses the 7-area visual network of the projection table.

Default mode: neuron-level ``spiking`` (``neurons_per_unit`` neurons per unit,
each with its own compartments, every synapse its own plastic weight; built by
:func:`~brian_errorcircuits.experiments.base.neuron_level_circuit`).  Errors
are read per neuron and averaged over each unit's neurons where a prediction
is about the unit's error (the population code); potentials are compared per
neuron.  ``--mode sampled`` (population-sampled, ``neurons_per_unit``
generators per neuron) and ``--mode rate`` run the same predictions.  Under
``cpp_standalone`` every circuit shape compiles once for all its conditions: the
layered circuits share a build folder per feedback and kind of run (probes,
which record potentials; training runs, which record spikes of chosen segments,
their schedules padded to one length) and the 7-area circuits another
(``<out>/build/``).  Conditions differ only in values set before the run
(weights, learning rates, silenced areas, cut error routes), so a later
condition recompiles ``main.cpp`` alone.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import brian2 as b2
import numpy as np

from .. import CircuitSpec, NeuronParams, Recording, SpecError, cosine
from ..analysis import decoded_rates, rank_correlation
from ..connectome import load_table
from ..equations import ACTIVATIONS
from ..files import write_text
from ..markdown import markdown
from ..plotting import pyplot, save_figure
from ..populations import unit_means
from ..spec import DeadEndWarning
from ..reference import backprop_deltas, forward
from ..tasks.teacher_student import make_teacher_student
from .base import SPIKING_TRAINING, neuron_level_circuit, neurons_per_unit, presentation_timing

QUESTION = "Do the error-neuron theory's predictions hold at the level of spikes?"

DEFAULTS = {
    **SPIKING_TRAINING,
    "layers": (4, 8, 6, 2),
    "mode": "spiking",
    "target": "cpp_standalone",
    "seed": 0,
    "epochs": 4,
    "n_train": 60,
    "n_probe": 20,
    "neurons_per_unit": 20,  # neuron level: neurons per unit; sampled mode: generators per neuron
    "connectivity": "dense",  # neuron-level wiring of every projection: 'dense' or 'density' (table densities)
    "gain_drive_scales": (1.0, 3.0, 10.0, 40.0),
    "table": "macaque_visual_7areas",
    "table_sizes": (8, 8, 6, 6, 6, 4, 2),
    "targeting_epochs": 3,
    "targeting_n_train": 30,
    "targeting_n_test": 10,
    "targeting_neurons_per_unit": 10,
}

#: Slack for criteria that a rational statistic can meet exactly (a Spearman correlation of 0.8 comes
#: out of scipy as 0.7999999999999999): rounding, not a loosened threshold.
ROUNDING = 1e-9

#: Presentations of the silencing experiment's training block (at most n_train).
SILENCING_TRAIN = 20

#: State variables recorded on every probe of the untrained circuit (every 1 ms).
PROBE_VARIABLES = ("gain", "v_td", "v_api", "v_bas")

#: What every probe of the untrained circuit records (one build serves them all).
PROBE_RECORDING = Recording(spikes=True, variables=PROBE_VARIABLES, dt=1 * b2.ms)


def training_recording(*segments: str) -> Recording:
    """What every training run of the layered circuit records: spikes of the schedule's ``segments``.
    The segments are chosen before the run, so every training run has the same monitors and code."""
    return Recording(spikes=True, spike_segments=segments)


def check(params: dict) -> None:
    """SpecError for parameters that cannot run, before anything is built or compiled."""
    layers = params["layers"]
    if len(layers) < 3:
        raise SpecError(f"layers={tuple(layers)}: predictions need at least one hidden area (3 or more sizes)")
    if params["settle_ms"] >= params["duration_ms"]:
        raise SpecError(f"settle_ms={params['settle_ms']} must be shorter than duration_ms={params['duration_ms']}: "
                        "errors are read after settling")
    for key in ("duration_ms", "settle_ms"):
        steps = params[key] / params["dt_ms"] if params["dt_ms"] > 0 else float("nan")
        if not abs(steps - round(steps)) < 1e-6:
            raise SpecError(f"{key}={params[key]} must be a whole number of time steps dt_ms={params['dt_ms']}")
    scales = params["gain_drive_scales"]
    if len(scales) < 2 or min(scales) <= 0:
        raise SpecError(f"gain_drive_scales={tuple(scales)}: at least two positive scales (the first is the "
                        "reference)")
    if params["connectivity"] not in ("dense", "density"):
        raise SpecError(f"connectivity={params['connectivity']!r}: 'dense' or 'density'")
    setup = Setup(params, data=False)
    setup.layered_spec().validate()
    setup.table_spec().validate()


class Setup:
    """Data, timing and fresh circuits with identical initial weights for every condition.

    ``out_dir``: where ``cpp_standalone`` builds go (``build/layered-<feedback>-<kind>``,
    ``build/table``; without it every circuit builds in a temporary folder of its own).  ``simulations``
    lists every run: its label, wall time and, under ``cpp_standalone``, its parts
    (``RunResult.timing``: code generation, compiling, the binary) and the run time of the
    binary's last ``run()`` call (Brian2's ``results/last_run_info.txt``).
    """

    def __init__(self, params: dict, out_dir=None, data: bool = True):
        self.params = params
        self.m = neurons_per_unit(params)
        self.table_m = neurons_per_unit(params, "targeting_neurons_per_unit")
        self.timing = presentation_timing(params)
        standalone = out_dir is not None and params["target"] == "cpp_standalone"
        self.build_root = Path(out_dir) / "build" if standalone else None
        self.simulations = []
        self._probes = {}
        #: presentations of the longest layered training schedule (:meth:`training`, silencing's)
        self.training_rows = (2 * params["n_probe"] + params["epochs"] * params["n_train"]
                              + min(SILENCING_TRAIN, params["n_train"]))
        if data:
            self.data = make_teacher_student(params["layers"], params["n_train"], params["n_probe"], 1,
                                             seed=params["seed"])
            self.probe = (self.data.x_val, self.data.y_val)

    def common(self, n_areas: int, generators: int) -> dict:
        """Spec fields every condition shares: mode, target, seed, learning rates, timing, neurons."""
        p = self.params
        return dict(mode=p["mode"], target=p["target"], seed=p["seed"],
                    eta=(p["eta_hz"] * b2.Hz,) * n_areas, dt=p["dt_ms"] * b2.ms,
                    neuron=NeuronParams(n_rep=generators, n_err=generators,
                                        rate_err=p["error_rate_hz"] * b2.Hz))

    def layered_spec(self, **spec_changes) -> CircuitSpec:
        """The unit-level layered circuit, with ``spec_changes``."""
        p = self.params
        spec = CircuitSpec(layers=tuple(p["layers"]), **self.common(len(p["layers"]) - 1, p["neurons_per_unit"]))
        return spec.replace(**spec_changes)

    def circuit(self, kind: str, **spec_changes):
        """A fresh layered circuit (neuron level in ``spiking`` mode) for runs of ``kind``: ``'probe'``
        (recording :data:`PROBE_RECORDING`) or ``'training'`` (:func:`training_recording`, schedules
        padded to :attr:`training_rows`).  Circuits of one feedback and kind share a build folder:
        their code is the same (feedback alignment adds code objects, and each kind has its monitors)."""
        spec = self.layered_spec(**spec_changes)
        circuit = neuron_level_circuit(spec, self.m, self._build(f"layered-{spec.feedback}-{kind}"),
                                       self.params["connectivity"])
        if kind == "training":
            circuit.schedule_rows = self.training_rows
        return circuit

    def table_spec(self) -> CircuitSpec:
        """The unit-level multi-area circuit of the projection table (input size = the layered circuit's)."""
        p = self.params
        return CircuitSpec.from_table(load_table(p["table"]), p["table_sizes"], p["layers"][0],
                                      **self.common(len(p["table_sizes"]), p["targeting_neurons_per_unit"]))

    def table_circuit(self, base: CircuitSpec, cut: tuple):
        """A fresh 7-area circuit with the error routes ``cut``; all share one build folder."""
        with warnings.catch_warnings():  # TEpd's dead end is known (check() warned); the control relies on it
            warnings.simplefilter("ignore", DeadEndWarning)
            return neuron_level_circuit(base.replace(lesioned_feedback=cut), self.table_m, self._build("table"),
                                        self.params["connectivity"])

    def _build(self, name: str):
        if self.build_root is None:
            return None
        (self.build_root / name).mkdir(parents=True, exist_ok=True)
        return str(self.build_root / name)

    def run(self, label: str, circuit, schedule, recording: Recording = Recording(), silenced=()):
        """``circuit.run``, timed into :attr:`simulations`."""
        result = self._timed(label, circuit, lambda: circuit.run(schedule, recording, silenced=silenced))
        self.simulations[-1].update(result.timing)
        return result

    def train(self, label: str, circuit, *args, **kwargs):
        """``circuit.train``, timed into :attr:`simulations`."""
        training = self._timed(label, circuit, lambda: circuit.train(*args, **kwargs))
        self.simulations[-1].update(training.run.timing)
        return training

    def _timed(self, label: str, circuit, call):
        start = time.perf_counter()
        result = call()
        entry = {"label": label, "wall_s": time.perf_counter() - start}
        info = Path(circuit.build_dir or "") / "results" / "last_run_info.txt"
        if self.params["target"] == "cpp_standalone" and circuit.build_dir and info.exists():
            # Brian2 writes the time of the binary's last run() call only: with spike_segments a schedule
            # runs in several calls, so this undercounts those runs (the build share is still an upper bound)
            entry["binary_last_run_s"] = float(info.read_text().split()[0])
        self.simulations.append(entry)
        return result

    def training(self, circuit):
        """Probe (targets, no plasticity), epochs of training, probe again."""
        schedule = circuit.block(*self.probe, label="probe-start", **self.timing)
        for epoch in range(self.params["epochs"]):
            schedule = schedule + circuit.block(self.data.x_train, self.data.y_train, learning=True,
                                                label=f"train-{epoch}", **self.timing)
        return schedule + circuit.block(*self.probe, label="probe-end", **self.timing)

    def untrained_probe(self, feedback: str = "backprop", scale: float = 1.0) -> dict:
        """The probe set presented to the untrained circuit (targets on, no plasticity), once per
        (``feedback``, input-weight ``scale``): spikes and :data:`PROBE_VARIABLES` every 1 ms.

        Returns ``circuit``, ``result``, ``deltas`` (exact backprop deltas per neuron, for the weights
        the probe ran with) and ``unit_deltas`` (their means over each unit's neurons).
        Several predictions read the same run (backprop signal, population code, apical/basal,
        gain gating's reference condition).
        """
        key = (feedback, float(scale))
        if key not in self._probes:
            circuit = self.circuit("probe", feedback=feedback)
            circuit.weights[0] = circuit.weights[0] * scale  # scale > 1 drives area 1 toward saturation
            result = self.run(f"probe {feedback} x{scale:g}", circuit,
                              circuit.block(*self.probe, label="probe", **self.timing), PROBE_RECORDING)
            deltas = backprop_deltas(circuit.spec, result.weights_before, *self.probe, circuit.arrays.neurons)
            self._probes[key] = {"circuit": circuit, "result": result, "deltas": deltas,
                                 "unit_deltas": [None] + [unit_means(d, self.m) for d in deltas[1:]]}
        return self._probes[key]


def neuron_errors(result, area, label: str) -> np.ndarray:
    """Signed error of every error neuron of ``area`` (a name or an index) per presentation of segment
    ``label``, from spike counts: (presentations, neurons).

    Per neuron: its positive- minus its negative-error spikes after settling,
    divided by rate_err and the window (in the population-sampled mode: per
    neuron of the description, from its (+) and (-) generators).  In rate mode
    (no spikes) the error neurons' presentation-averaged rates.
    """
    k = result.spec.area_index(area, first=1)
    schedule, p = result.schedule, result.spec.neuron
    if result.spec.mode == "rate":
        return result.err_avg[k][schedule.indices(label)]
    T, settle = float(schedule.duration), float(schedule.settle)
    starts = schedule.indices(label) * T
    edges = np.ravel(np.column_stack([starts + settle, starts + T]))
    return decoded_rates(result.spikes[(k, "E")], result.spec.error_sizes[k - 1], edges)[::2] / float(p.rate_err)


def error_from_spikes(result, area, label: str, neurons_per_unit: int = 1) -> np.ndarray:
    """Signed error of ``area`` per presentation of segment ``label`` and per unit: the means of
    :func:`neuron_errors` over each unit's ``neurons_per_unit`` neurons, (presentations, units)."""
    return unit_means(neuron_errors(result, area, label), neurons_per_unit)


def error_firing_hz(result, area, label: str) -> float:
    """Mean firing rate (Hz per spiking cell) of the error neurons of ``area`` (a name or an index),
    both signs, after settling.

    In rate mode: rate_err times the mean absolute error, the rate the two
    populations would fire at together.
    """
    k = result.spec.area_index(area, first=1)
    schedule = result.schedule
    if result.spec.mode == "rate":
        return float(np.abs(neuron_errors(result, k, label)).mean() * result.spec.neuron.rate_err / 2)
    T, settle = float(schedule.duration), float(schedule.settle)
    entry = result.spikes[(k, "E")]
    spikes = sum(np.count_nonzero((entry["t"] >= s * T + settle) & (entry["t"] < (s + 1) * T))
                 for s in schedule.indices(label))
    return spikes / (entry["n_neurons"] * len(schedule.indices(label)) * (T - settle))


def window_means(result, area: int, variable: str) -> np.ndarray:
    """Mean of recorded ``variable`` of ``area`` over each presentation after settling: (presentations, neurons)."""
    schedule, times = result.schedule, result.states["t"]
    T, settle = float(schedule.duration), float(schedule.settle)
    values = result.states[area][variable]
    return np.array([values[:, (times >= p * T + settle) & (times < (p + 1) * T)].mean(1)
                     for p in range(len(schedule))])


def verdict(passed: bool) -> str:
    return "pass" if passed else "fail"


def at_least(value, bound: float) -> bool:
    """``value >= bound`` up to floating-point rounding (:data:`ROUNDING`); False for None."""
    return value is not None and value >= bound - ROUNDING


def backprop_signal(setup: Setup) -> dict:
    """Error neurons fire in proportion to their area's backprop error."""
    values = {}
    for feedback in ("backprop", "feedback_alignment"):
        probe = setup.untrained_probe(feedback)
        values[feedback] = {k: cosine(error_from_spikes(probe["result"], k, "probe", setup.m), probe["unit_deltas"][k])
                            for k in range(1, probe["circuit"].spec.n_areas)}
    hidden = values["backprop"]
    return {
        "hypothesis": "signed error firing (spike counts, averaged over each unit's error neurons) points along "
                      "exact backprop deltas",
        "control": "random fixed feedback (feedback alignment) on the same untrained weights",
        "criterion": "cosine >= 0.9 in every hidden area with W^T feedback",
        "value": {f"area{k}": v for k, v in hidden.items()},
        "control_value": {f"area{k}": v for k, v in values["feedback_alignment"].items()},
        "verdict": verdict(min(hidden.values()) >= 0.9),
        "control_verdict": verdict(min(values["feedback_alignment"].values()) >= 0.9),
    }


def population_code(setup: Setup) -> dict:
    """The error is a population code: a unit's neurons together follow backprop, single ones do not.

    Read from the same untrained probes as :func:`backprop_signal`.  Per error
    neuron and probe presentation: its signed spike count (positive- minus
    negative-error spikes after settling); a response has the wrong sign when
    it is nonzero and opposite to its unit's backprop delta.  Needs the
    neuron-level ``spiking`` mode (several error neurons per unit); in
    ``rate`` and ``sampled`` mode the verdict is 'not applicable'.
    """
    values = {}
    for feedback in ("backprop", "feedback_alignment"):
        probe = setup.untrained_probe(feedback)
        rows = {}
        for k in range(1, probe["circuit"].spec.n_areas):
            single = neuron_errors(probe["result"], k, "probe")
            delta = probe["unit_deltas"][k]
            partner = np.repeat(delta, setup.m, axis=1)  # each neuron's unit delta
            cosines = [cosine(single[:, j], partner[:, j]) for j in range(single.shape[1]) if single[:, j].any()]
            answered = (single != 0) & (partner != 0)
            rows[f"area{k}"] = {
                "population_cosine": cosine(unit_means(single, setup.m), delta),
                "single_neuron_cosine_median": float(np.median(cosines)) if cosines else None,
                "single_neuron_cosine_quartiles": ([float(q) for q in np.percentile(cosines, (25, 75))]
                                                   if cosines else None),
                "wrong_sign_fraction": (float(np.mean(np.sign(single[answered]) != np.sign(partner[answered])))
                                        if answered.any() else None),
                "silent_fraction": float(np.mean(single == 0)),
            }
        values[feedback] = rows

    def passed(rows: dict) -> bool:
        return all(r["population_cosine"] >= 0.9 and at_least(r["wrong_sign_fraction"], 0.1) for r in rows.values())

    applicable = setup.params["mode"] == "spiking" and setup.m > 1
    return {
        "hypothesis": "each unit's error is carried by its population of error neurons: their mean follows the "
                      "backprop delta while single neurons, each with its own dendrite and spikes, are noisy "
                      "readouts of it",
        "control": "random fixed feedback (feedback alignment) on the same untrained weights: the population "
                   "mean no longer follows backprop",
        "criterion": "in every hidden area: cosine of the unit means with backprop >= 0.9, and >= 10 % of the "
                     "single neurons' nonzero responses (per probe presentation) have the wrong sign",
        "value": values["backprop"],
        "control_value": values["feedback_alignment"],
        "verdict": verdict(passed(values["backprop"])) if applicable else "not applicable",
        "control_verdict": verdict(passed(values["feedback_alignment"])) if applicable else "not applicable",
        "neurons_per_unit": setup.m,
    }


def mismatch_fading(setup: Setup) -> dict:
    """Mismatch responses (error firing under a target) fade as the task is learned.

    Control: the same probes before and after, plasticity off; the training
    presentations between them are left out, since without plasticity nothing
    carries over from one presentation to the next (weights and laterals fixed).
    """
    recording = training_recording("probe-start", "probe-end")
    L = len(setup.params["layers"]) - 1
    learning = setup.circuit("training")
    runs = {"learning": setup.run("mismatch learning", learning, setup.training(learning), recording)}
    frozen = setup.circuit("training", eta=(0 * b2.Hz,) * L)
    probes = (frozen.block(*setup.probe, label="probe-start", **setup.timing)
              + frozen.block(*setup.probe, label="probe-end", **setup.timing))
    runs["no plasticity"] = setup.run("mismatch control", frozen, probes, recording)
    ratios = {name: {f"area{k}": error_firing_hz(r, k, "probe-end") / error_firing_hz(r, k, "probe-start")
                     for k in range(1, L + 1)} for name, r in runs.items()}
    output = f"area{L}"
    return {
        "hypothesis": "error neurons' firing evoked by the target mismatch falls as the task is learned",
        "control": "the same probes before and after with plasticity off (eta = 0; the training presentations "
                   "in between change nothing without plasticity and are left out)",
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
        circuit = setup.circuit("training")
        schedule = (circuit.block(setup.data.x_val, label="inference", **setup.timing)
                    + circuit.block(setup.data.x_train[:SILENCING_TRAIN], setup.data.y_train[:SILENCING_TRAIN],
                                    learning=True, label="train", **setup.timing))
        runs[name] = setup.run(f"silencing {name}", circuit, schedule, training_recording("inference"),
                               silenced=silenced)
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
        probe = setup.untrained_probe("backprop", scale)
        result = probe["result"]
        gain, drive = window_means(result, 1, "gain"), np.abs(window_means(result, 1, "v_td"))
        firing = np.abs(error_from_spikes(result, 1, "probe", setup.m)).mean()
        rows.append({"input_scale": scale, "mean_gain": float(gain.mean()),
                     "mean_topdown_drive": float(drive.mean()),
                     "error_per_drive": float(firing / drive.mean())})
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
    """Representation neurons' apical input carries the error, their basal input the prediction.

    Read from the mean potentials after settling on every probe presentation,
    judged per unit (the means over each unit's neurons, the unit-level neuron
    of the theory: in the sampled mode each neuron's apical input averaged
    ``n_err`` generators, here each neuron's apical input is its own error
    partner's spikes); the same cosines per single neuron are reported beside
    them (``per_neuron``: the noise the population code averages out).
    Diagnostic, not part of the verdict: the basal potential against the
    prediction from the spikes the area below actually fired in the same windows.
    """
    probe = setup.untrained_probe("backprop")
    circuit, result, deltas = probe["circuit"], probe["result"], probe["deltas"]
    weights, m = result.weights_before, setup.m
    _, rates = forward(circuit.spec, weights, setup.probe[0], circuit.arrays.neurons)
    values = {}
    for k in range(1, circuit.spec.n_areas):
        api, bas = window_means(result, k, "v_api"), window_means(result, k, "v_bas")
        prediction = rates[k - 1] @ weights[k - 1].T
        comparisons = {"apical_vs_backprop": (api, deltas[k]), "basal_vs_backprop": (bas, deltas[k]),
                       "basal_vs_prediction": (bas, prediction)}
        if result.spikes:  # the prediction from the presynaptic spikes of the same windows
            schedule = result.schedule
            T, settle = float(schedule.duration), float(schedule.settle)
            edges = np.ravel([(p * T + settle, (p + 1) * T) for p in range(len(schedule))])
            fired = decoded_rates(result.spikes[(k - 1, "P")], circuit.spec.layers[k - 1], edges)[::2]
            fired = fired / float(circuit.spec.neuron.rate_max)  # firing as a fraction of rate_max
            if k > 1:  # a hidden area fires (r - rate_low) / rate_span of rate_max
                act = ACTIVATIONS[circuit.spec.neuron.activation]
                fired = act.rate_low + act.rate_span * fired
            comparisons["basal_vs_prediction_from_spikes"] = (bas, fired @ weights[k - 1].T)
        values[f"area{k}"] = {name: cosine(unit_means(x, m), unit_means(y, m)) for name, (x, y) in comparisons.items()}
        if m > 1:
            values[f"area{k}"]["per_neuron"] = {name: cosine(x, y) for name, (x, y) in comparisons.items()}
    passed = all(v["apical_vs_backprop"] >= 0.9 and abs(v["basal_vs_backprop"]) < 0.5
                 and v["basal_vs_prediction"] >= 0.95 for v in values.values())
    return {
        "hypothesis": "apical potentials follow the backprop error, basal potentials the bottom-up prediction",
        "control": "the same potentials compared the other way round (basal vs backprop error)",
        "criterion": "per unit (means over its neurons): cos(apical, delta) >= 0.9, |cos(basal, delta)| < 0.5, "
                     "cos(basal, W r_below) >= 0.95 (r_below: the rate model's steady state)",
        "value": values,
        "verdict": verdict(passed),
        "neurons_per_unit": m,
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
                "verdict": verdict(at_least(correlation, 0.8) and at_least(largest, 0.2))}

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
        "neurons_per_unit": setup.table_m,
    }


def _trained_after_cut(setup: Setup, base: CircuitSpec, data, cut: tuple) -> dict:
    """Test MSE per epoch and error firing (probe before training) with the error routes ``cut``."""
    circuit = setup.table_circuit(base, cut)
    training = setup.train(f"targeting, {len(cut)} routes cut", circuit, data.x_train, data.y_train, data.x_test,
                           data.y_test, setup.params["targeting_epochs"], probe=(data.x_val, data.y_val),
                           report=False, neurons_per_unit=setup.table_m,
                           recording=Recording(spikes=True, spike_segments=("probe-start",)), **setup.timing)
    return {"test_mse": training.test_mse,
            "error_firing_hz": {base.area_names[k - 1]: error_firing_hz(training.run, k, "probe-start")
                                for k in range(1, base.n_areas + 1)}}


PREDICTIONS = {
    "error neurons signal backprop errors": backprop_signal,
    "population code of single error neurons": population_code,
    "mismatch responses fade with learning": mismatch_fading,
    "silencing error neurons": silencing,
    "gain gating": gain_gating,
    "apical carries error, basal carries prediction": apical_basal,
    "projection targeting": projection_targeting,
}


def run(params: dict, out_dir) -> dict:
    start = time.perf_counter()
    setup = Setup(params, out_dir)
    results, seconds = {}, {}
    for name, experiment in PREDICTIONS.items():
        print(f"  {name}", flush=True)
        begin = time.perf_counter()
        results[name] = experiment(setup)
        seconds[name] = time.perf_counter() - begin
        print(f"    verdict: {results[name]['verdict']} ({seconds[name]:.0f} s)", flush=True)
    _report(results, out_dir)
    simulations = setup.simulations
    timing = {"per_prediction_s": seconds, "simulations": simulations,
              "simulations_wall_s": sum(s["wall_s"] for s in simulations)}
    if params["target"] == "cpp_standalone":
        binary = sum(s.get("binary_last_run_s", 0.0) for s in simulations)
        timing.update(binary_last_run_s=binary, build_and_overhead_s_at_most=timing["simulations_wall_s"] - binary)
        timing.update({part: sum(s.get(part, 0.0) for s in simulations)
                       for part in ("code_generation_s", "compile_s", "binary_s")})
    return {"seed": params["seed"], "mode": params["mode"], "layers": list(params["layers"]),
            "target": params["target"], "neurons_per_unit": params["neurons_per_unit"],
            "targeting_neurons_per_unit": params["targeting_neurons_per_unit"],
            "verdicts": {name: r["verdict"] for name, r in results.items()},
            "predictions": results, "timing": timing, "wall_time_s": time.perf_counter() - start}


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
    figures(results, out_dir)


def figures(results: dict, out_dir) -> None:
    """``predictions.png``: one panel per prediction (its headline measure per area, the control's,
    the pass line and the verdict); ``gain_gating.png`` and ``projection_targeting.png`` enlarge two."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(15, 7), layout="constrained")
    for ax, (name, draw) in zip(axes.flat, PANELS.items()):
        r = results[name]
        draw(ax, r)
        control = f"; control {r['control_verdict']}" if r.get("control_verdict") else ""
        ax.set_title(f"{name}\n{r['verdict']}{control}", fontsize=9,
                     color={"pass": "tab:green", "fail": "tab:red"}.get(r["verdict"], "k"))
    axes.flat[-1].axis("off")
    axes.flat[-1].text(0, 0.5, "dashed: the pass line fixed before the run\n(criteria in report.md)",
                       fontsize=9, va="center")
    save_figure(fig, out_dir / "predictions.png")
    for name, file in (("gain gating", "gain_gating.png"), ("projection targeting", "projection_targeting.png")):
        fig, ax = plt.subplots(figsize=(4.5, 3.5))
        PANELS[name](ax, results[name])
        ax.set_title(name)
        save_figure(fig, out_dir / file)


def _bars(ax, series: dict, ylabel: str, lines=()) -> None:
    """Grouped bars: ``series`` maps a label to {area: value} (None: not measured); ``lines`` holds
    (value, label) pass lines."""
    areas = list(next(iter(series.values())))
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        heights = [np.nan if values.get(a) is None else values[a] for a in areas]
        ax.bar(np.arange(len(areas)) + (i - (len(series) - 1) / 2) * width, heights, width, label=label)
    for value, label in lines:
        ax.axhline(value, color="k", ls="--", lw=0.8)
        ax.annotate(label, (1, value), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(np.arange(len(areas)), areas, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    if len(series) > 1:
        ax.legend(fontsize=7)


def _backprop_panel(ax, r):
    _bars(ax, {"W^T feedback": r["value"], "feedback alignment (control)": r["control_value"]},
          "cosine with backprop (unit means)", [(0.9, ">= 0.9")])


def _population_panel(ax, r):
    if r["verdict"] == "not applicable":
        ax.text(0.5, 0.5, "not applicable\n(needs several error neurons per unit)", ha="center",
                transform=ax.transAxes)
        return
    _bars(ax, {label: {a: v["wrong_sign_fraction"] for a, v in r[key].items()}
               for key, label in (("value", "W^T feedback"), ("control_value", "feedback alignment (control)"))},
          "single neurons' wrong-sign share", [(0.1, ">= 0.1 (and unit cosine >= 0.9)")])


def _mismatch_panel(ax, r):
    _bars(ax, {"learning": r["value"], "no plasticity (control)": r["control_value"]},
          "error firing after / before training", [(0.5, "output <= 0.5")])


def _silencing_panel(ax, r):
    _bars(ax, {"error neurons silenced": r["value"]["weight_change_drop"]},
          "drop of weight change, error neurons silenced", [(0.95, ">= 0.95")])


def _gain_gating_panel(ax, r):
    gating = r["value"]["conditions"]
    ax.plot([c["mean_gain"] for c in gating], [c["error_per_drive"] for c in gating], "o-")
    ax.axhline(0.2 * gating[0]["error_per_drive"], color="k", ls="--", lw=0.8)
    ax.annotate(f"input x{gating[-1]['input_scale']:g}: <= 0.2 x input x{gating[0]['input_scale']:g}",
                (1, 0.2 * gating[0]["error_per_drive"]),
                xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7)
    ax.text(0.03, 0.97, f"correlation with gain {r['value']['correlation']:.3f} (>= 0.9)",
            transform=ax.transAxes, va="top", fontsize=7)
    ax.set_xlabel("partners' mean gain phi' (area 1)", fontsize=8)
    ax.set_ylabel("error response per top-down drive", fontsize=8)


def _apical_basal_panel(ax, r):
    measures = {"cos(apical, backprop)": "apical_vs_backprop", "|cos(basal, backprop)|": "basal_vs_backprop",
                "cos(basal, prediction)": "basal_vs_prediction"}
    _bars(ax, {label: {a: abs(v[key]) for a, v in r["value"].items()} for label, key in measures.items()},
          "cosine (unit means)", [(0.9, "apical >= 0.9"), (0.5, "|basal| < 0.5"), (0.95, "prediction >= 0.95")])


def _targeting_panel(ax, r):
    for key, label in (("value", "all top-down routes"), ("control_value", "routes that carry no error (control)")):
        series = r[key]
        cuts = list(series["density_removed"])
        ax.plot([series["density_removed"][c] for c in cuts], [series["learning_deficit"][c] for c in cuts],
                "o-", label=label)
    ax.set_xlabel("total density of the cut top-down routes", fontsize=8)
    ax.set_ylabel("learning deficit (share of error reduction lost)", fontsize=8)
    correlation = r["value"]["rank_correlation"]
    ax.text(0.03, 0.97, "rank correlation " + ("n/a" if correlation is None else f"{correlation:.2f}") + " (>= 0.8)",
            transform=ax.transAxes, va="top", fontsize=7)
    ax.legend(fontsize=7, loc="lower right")


#: the panel of each prediction in :func:`figures`, in the order they run
PANELS = {
    "error neurons signal backprop errors": _backprop_panel,
    "population code of single error neurons": _population_panel,
    "mismatch responses fade with learning": _mismatch_panel,
    "silencing error neurons": _silencing_panel,
    "gain gating": _gain_gating_panel,
    "apical carries error, basal carries prediction": _apical_basal_panel,
    "projection targeting": _targeting_panel,
}
