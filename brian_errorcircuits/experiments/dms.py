"""Delayed match-to-sample: can a spiking error-neuron circuit learn a task that needs memory?

Reference: Max et al. 2026 (PLoS Comput Biol), Fig. 2b: a 1-2-1 circuit;
fixation, a first stimulus (+1 or -1), a random delay, a second stimulus;
the answer is +1 on a match and -1 on a non-match.  Expected: test MSE well
below 1 (an always-zero output scores 1) and accuracy far above 50 %.

Protocol (:mod:`brian_errorcircuits.tasks.dms`): every part of a trial is one
presentation (``duration_ms``, 200 ms in spiking mode); a trial is
``fixation`` (3) empty presentations, the first stimulus, a delay of 1-3
empty presentations (``delays``), and the second stimulus, the *response*
presentation.  Only there is the target on and plasticity on, and only
there is the output scored (its average over the last ``duration - settle``
ms).  The stimulus reaches the circuit on two input channels, one per sign
(rates are non-negative, and an offset code would leave the circuit's
response odd in the stimulus, while match / non-match is even); a third
channel, the fixation point, is on throughout (``fixation_rate``) and gives
the bias-free circuit a constant input.  Each epoch trains on ``n_train``
fresh random trials (block-randomised: each of the four kinds once per four
trials, since runs of one answer swing an online learner's output), then a
fixed test set runs without target and plasticity.  The hidden area has
``hidden`` (8) units: the original's 1-2-1 shape widened, for three input
channels and a sharper threshold on the fading memory.

Where the memory lives.  The original turns off the look-ahead of its
representation neurons so that their membranes (tau = 1/g_tot ~ 5 ms) keep a
trace of the first stimulus; with delays of hundreds of ms (needed by spike
counts) that trace is gone, and a non-prospective soma also spoils the
dendritic-prediction rule, whose postsynaptic factor then holds the membrane
lag besides the error.  Here the representation neurons stay prospective
(so learning stays the local approximation of backprop) and the memory sits
in the synapses from the input area: slow, NMDA-like synapses
(``NeuronParams.tau_input``, ``tau_input_ms`` = 500 ms) low-pass filter the
input spike trains (in rate mode the input rates).  At the response the
hidden area sees the second stimulus plus a fading copy of the first: for a
match one stimulus channel only, for a non-match both, whatever the signs.
Telling these apart (is the weaker channel above the residue of the
previous trial?) is XOR-like and no single layer does it, so the hidden
area must learn.  The time constants set the protocol: 500 ms keeps 0.08 -
0.17 (of rate 1) of the first stimulus after 1-3 delay presentations, and 3
fixation presentations leave at most ~0.03 of the previous trial.  The filtered
stimuli are small (0.05 - 0.4), so the hidden weights start larger
(``hidden_init_scale``) and learn faster (``hidden_eta_hz``; scaling inputs
by c is equivalent to scaling those weights by c and their rate by c^2);
the fixation point is dimmer (0.3) so that it does not saturate the hidden
units from the start.
``tau_input_ms=0`` removes the memory (a control: chance level expected).

Reported MSE: mean over test trials of (output - answer)^2 at the response.

Measured with the defaults (30 epochs, ``errorcircuits run dms --seed S``,
11-15 minutes each): seeds 0, 2, 3, 4 reach 97 / 100 / 100 / 100 % test
accuracy and test MSE 0.37 / 0.21 / 0.33 / 0.39.  Seed 1 stays on the
plateau of an output near zero (accuracy 44 %, MSE 1.02).  Its rate-mode
twin sits on the same plateau for 15 epochs and then leaves it (100 %, 0.15
after 30); the spiking circuit did not leave it in 60 epochs (66 %, 0.92)
nor with 100 neurons per unit (53 %, 1.00), so a smaller spike noise alone
does not free it.
"""
from __future__ import annotations

import time

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, NeuronParams, Recording
from ..plotting import (NEGATIVE_COLOR, POSITIVE_COLOR, circuit_rasters, learning_curves, pyplot, rate_trace,
                        save_figure)
from ..reference import mse
from ..schedule import Schedule
from ..tasks.dms import make_dms_trials
from .base import SAVING, SPIKING_TRAINING, presentation_timing, save_trained

QUESTION = "Can a spiking error-neuron circuit learn delayed match-to-sample, a task that needs memory?"

DEFAULTS = {
    **SPIKING_TRAINING,
    **SAVING,
    "eta_hz": 1.0,
    "hidden": 8,
    "mode": "sampled",
    "target": "cpp_standalone",
    "seed": 0,
    "epochs": 30,
    "n_train": 64,
    "n_test": 32,
    "fixation": 3,
    "fixation_rate": 0.3,
    "delays": (1, 2, 3),
    "tau_input_ms": 500.0,
    "hidden_eta_hz": 15.0,
    "hidden_init_scale": 6.0,
    "output_init_scale": 1.0,
    "neurons_per_unit": 50,
    "trace_dt_ms": 5.0,
}


def make_spec(params: dict) -> CircuitSpec:
    """The (3 input channels)-hidden-1 circuit with slow input synapses."""
    n = params["neurons_per_unit"]
    tau_input = params["tau_input_ms"] * b2.ms if params["tau_input_ms"] > 0 else None
    return CircuitSpec(
        layers=(3, params["hidden"], 1), area_names=("hidden", "output"), mode=params["mode"],
        eta=(params["hidden_eta_hz"] * b2.Hz, params["eta_hz"] * b2.Hz),
        init_scale=(params["hidden_init_scale"], params["output_init_scale"]), dt=params["dt_ms"] * b2.ms, seed=params["seed"],
        target=params["target"],
        neuron=NeuronParams(n_rep=n, n_err=n, rate_err=params["error_rate_hz"] * b2.Hz, tau_input=tau_input),
    )


def trial_block(trials, label: str, learning: bool, timing: dict) -> Schedule:
    """The trials as one block: with ``learning`` the target and plasticity are on at each response."""
    if learning:
        return Schedule.block(trials.inputs, trials.targets, target_on=trials.response, learning=trials.response,
                              label=label, **timing)
    return Schedule.block(trials.inputs, n_outputs=1, label=label, **timing)


def scores(outputs: np.ndarray, trials) -> tuple:
    """(MSE, accuracy) of the response outputs against the answers."""
    answers = trials.answer[:, None]
    responses = outputs[trials.response]
    return mse(responses, answers), float(np.mean(np.sign(responses) == answers))


def run(params: dict, out_dir) -> dict:
    start = time.perf_counter()
    timing = presentation_timing(params)
    layout = dict(fixation=params["fixation"], delays=tuple(params["delays"]), fixation_rate=params["fixation_rate"])
    test = make_dms_trials(params["n_test"], seed=params["seed"] + 10_000, **layout)
    schedule = trial_block(test, "test-0", False, timing)
    for epoch in range(1, params["epochs"] + 1):
        train = make_dms_trials(params["n_train"], seed=params["seed"] + epoch, **layout)
        schedule = schedule + trial_block(train, f"train-{epoch}", True, timing)
        schedule = schedule + trial_block(test, f"test-{epoch}", False, timing)
    spec = make_spec(params)
    standalone = params["target"] == "cpp_standalone"
    circuit = ErrorCircuit(spec, build_dir=str(out_dir / "build") if standalone else None)
    last_test = f"test-{params['epochs']}"
    recording = Recording(spikes=spec.mode == "sampled", spike_segments=(last_test,), variables=("r_P",),
                          dt=params["trace_dt_ms"] * b2.ms)
    print(f"  {params['epochs']} epochs of {params['n_train']} trials, {len(schedule)} presentations "
          f"({float(schedule.total_time / b2.second):.0f} s simulated)", flush=True)
    result = circuit.run(schedule, recording, report=True)
    per_epoch = [scores(result.outputs[schedule.indices(f"test-{e}")], test) for e in range(params["epochs"] + 1)]
    test_mse, test_accuracy = (list(values) for values in zip(*per_epoch))
    summary = {
        "mode": params["mode"],
        "layers": list(spec.layers),
        "tau_input_ms": params["tau_input_ms"],
        "n_train_per_epoch": params["n_train"],
        "n_test": params["n_test"],
        "epochs": params["epochs"],
        "test_mse": test_mse,
        "test_accuracy": test_accuracy,
        "final_test_mse": test_mse[-1],
        "final_test_accuracy": test_accuracy[-1],
        "zero_output_test_mse": 1.0,
        "simulated_time_s": float(schedule.total_time / b2.second),
        "seed": params["seed"],
        "target": params["target"],
    }
    summary["wall_time_s"] = time.perf_counter() - start
    save_trained(out_dir, params, circuit, result)
    figures(result, test, last_test, summary, out_dir)
    print(f"  test MSE {test_mse[0]:.3f} -> {test_mse[-1]:.3f}, accuracy {100 * test_accuracy[0]:.0f} % -> "
          f"{100 * test_accuracy[-1]:.0f} %; simulated {summary['simulated_time_s']:.0f} s in "
          f"{summary['wall_time_s']:.0f} s wall")
    return summary


def example_trials(test, first_row: int) -> dict:
    """{'match'|'non-match': (start, stop) presentation rows} of two consecutive test trials, one of each."""
    n = int(np.flatnonzero(test.answer[:-1] != test.answer[1:])[0])
    examples = {}
    for trial in sorted((n, n + 1), key=lambda m: -test.answer[m]):
        rows = np.flatnonzero(test.trial == trial)
        examples["match" if test.answer[trial] > 0 else "non-match"] = (first_row + rows[0], first_row + rows[-1] + 1)
    return examples


def figures(result, test, last_test: str, summary: dict, out_dir) -> None:
    """Learning curves, rate traces of a match and a non-match trial, raster of both."""
    plt = pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, (ax_mse, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    xlabel = "epoch (0: untrained)"
    learning_curves({summary["mode"]: summary["test_mse"], "zero output": [1.0] * len(summary["test_mse"])},
                    ax=ax_mse, xlabel=xlabel)
    learning_curves({summary["mode"]: summary["test_accuracy"]}, ax=ax_acc, ylabel="test accuracy (sign of the answer)",
                    xlabel=xlabel)
    for ax in (ax_mse, ax_acc):  # values between 0 and about 1: a linear axis reads better than log
        ax.set_yscale("linear")
        ax.set_ylim(bottom=0)
    ax_acc.set_ylim(top=1.05)
    ax_acc.axhline(0.5, color="grey", linestyle=":", label="chance")
    ax_acc.legend(loc="lower right")
    fig.suptitle(f"delayed match-to-sample: {summary['n_test']} test trials after each epoch "
                 f"of {summary['n_train_per_epoch']} training trials")
    save_figure(fig, out_dir / "learning_curve.png")

    schedule = result.schedule
    duration = float(schedule.duration / b2.second)
    examples = example_trials(test, schedule.indices(last_test)[0])
    t = result.states["t"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 5), sharex="col", sharey="row", layout="constrained")
    for column, (name, (first, stop)) in enumerate(examples.items()):
        window = (t >= first * duration) & (t < stop * duration)
        for row, (k, area) in enumerate(((2, "output"), (1, "hidden"))):
            ax = axes[row, column]
            for unit, values in enumerate(result.states[k]["r_P"]):
                rate_trace(t[window] - first * duration, values[window], ax=ax, label=f"{area} {unit}")
            for p in range(first, stop):  # shade the stimuli
                stimulus = schedule.inputs[p, 0] - schedule.inputs[p, 1]
                if stimulus:
                    ax.axvspan((p - first) * duration, (p - first + 1) * duration, alpha=0.15,
                               color=POSITIVE_COLOR if stimulus > 0 else NEGATIVE_COLOR)
            ax.set_ylabel(f"{area} rate phi(u)")
            ax.set_xlabel("time in trial (s)" if row else "")
        axes[0, column].axhline(1 if name == "match" else -1, color="black", linestyle="--", linewidth=0.8)
        axes[0, column].set_title(f"{name} trial (after training)")
    axes[1, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes[0, -1].legend(handles=[Patch(color=POSITIVE_COLOR, alpha=0.3, label="stimulus +1"),
                                Patch(color=NEGATIVE_COLOR, alpha=0.3, label="stimulus -1"),
                                Line2D([], [], color="black", linestyle="--", linewidth=0.8,
                                       label="answer (target at the\nsecond stimulus)")],
                       fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    save_figure(fig, out_dir / "rate_traces.png")

    if result.spikes:
        first, stop = min(s for s, _ in examples.values()), max(e for _, e in examples.values())
        fig = circuit_rasters(result.spikes, result.spec.area_names, window=(first * duration, stop * duration),
                              onsets=np.arange(first, stop) * duration,
                              title="test trials after training (no target, no plasticity)")
        save_figure(fig, out_dir / "raster.png")
