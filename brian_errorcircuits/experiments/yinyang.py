"""Yin-Yang: can a spiking error-neuron circuit learn a nonlinear 3-class task?

Reference: Kriener, Goeltz & Petrovici 2022 (the data set, see
:mod:`brian_errorcircuits.tasks.yinyang`); Max et al. 2026 use the same
group's benchmarks.  Published test accuracies: linear classifier 63.8 %,
frozen random hidden layer 85.5 %, 4-30-3 ANN with backprop 97.6 %.  The
reference line here is the backprop ANN of the circuit's shape (no biases,
tanh, squared loss on the same targets), trained on the same data, and its
frozen-hidden twin (see "What the task tests here": with this network the
86 % mark does not show that the hidden area learned).

The data are the published splits (train 5000, validation 1000, test 1000).
On them, seed 0 with these defaults: 92.5 % (spike counts); the spiking
frozen-hidden twin (``hidden_eta_factor`` = 0) 90.6 %; with error rates from
the error somata (``prospective_errors`` false) 86.8 % and 84.1 %; the ANN
96.2 %, its frozen-hidden twin 93.2 % (README, Results).  Every other
accuracy quoted below was measured before the generator followed the
published one (other random draws, dots at (0.5, 0.25) and (0.5, 0.75)).

Protocol: one simulation trains online, one presentation per sample
(``duration_ms``, the first ``settle_ms`` not averaged), targets one-hot
mapped into tanh's range: ``target_high`` for the true class, ``target_low``
for the others (defaults 0.8 / -0.8, i.e. 90 Hz / 10 Hz).  Before training
and after every epoch, blocks without target or plasticity present a fixed
subset of the training set (``n_train_eval`` samples), the validation set and
the test set.  Class = argmax over output units.  Per epoch it is read from
the decoded output rates (the output representation populations' filtered
spike trains, averaged after settling).  After training, a run of its own
presents the test set again for ``test_duration_ms`` each (500 ms, the first
100 not counted) and reads the class from the output populations' spike
counts: ``final_test_accuracy``.  Longer windows average out spike noise:
weights trained in rate mode (91.0 % in rate mode) scored 85.4 % in spiking
inference with 100 ms presentations, 88.7 % with 100 neurons per unit, and
91.2 % with 400 ms presentations.  Spikes are kept for that run's output
populations and a few presentations for the raster.

Choices: hidden weights start in U(-s, s) with s = ``hidden_init_scale``
(10), because a network without biases needs steep hidden units for the
curved class borders (in a numpy check of the 4-60-3 ANN, s = 10 reached
94 % test accuracy after 5 epochs, the default s = 0.5 stayed near 82 %
after 10); output weights start in U(-1, 1) / sqrt(fan-in).  Time step
0.5 ms (twice the library's default); 4 epochs (with fewer neurons the test
accuracy was flat from the first epoch on over 8).

What the task tests here: with these 60 steep random hidden units the
hidden area hardly has to learn.  The summary's frozen-hidden ANN (only the
output weights learn, same training) reaches 95.2 % on seed 0 without
annealing, as much as full backprop (95.4 %), and 92.5 +- 2.7 % against
95.9 +- 0.8 % with the default annealing (seeds 0-2); a least-squares
readout of the untrained hidden area reaches 97.6 %.  So on this
configuration Yin-Yang measures how well the circuit learns a readout from
spiking inputs, not credit assignment (the teacher-student and
depth-scaling experiments test that).

Population sizes and synapses: 2000 spiking neurons per input unit, 100 per
representation unit, 30 per error unit and sign, synaptic filter
``tau_syn_ms`` = 5 ms.  The input populations' spike noise is what limited
the circuit most: the decoded input trace fluctuates around x with variance
x / (2 n rate_max tau), and the prospective hidden area follows it without
lag, so a presentation sees its input blurred (10 neurons per unit blur the
point by about a dot radius: 70.7 % after epoch 1).  The backprop ANN fed
that noise (``input_noise_ann`` in the summary, the noise-swap control)
reaches 92.7 % with 200 neurons per input unit and 96.0 % with 2000, against
96.2 % without it (seed 0, its usual 8 epochs); the circuit went from 92.5 %
(200) to 93.8 % (2000).
Every figure below this paragraph was measured with 200.

Measured with these defaults (4 epochs, seeds 0-2, spike counts): 88.1 +-
0.9 % (88.1, 87.2, 89.0); the ANN with the same schedule 95.9 +- 0.8 %, its
frozen-hidden twin 92.5 +- 2.7 %.  Without annealing 86.9 +- 5.2 % (89.7,
80.9, 90.0; seed 1 fell from 85.2 % to 80.4 % decoded test accuracy in its
last epoch).  One run took 32 minutes with three runs sharing the 2 cores.

What limits the spiking circuit is its readout.  Seed 0, one epoch: its
weights score 82.6 % in the rate forward pass against the rate circuit's
91.0 %, while their hidden area is as good (least-squares readout 96.6 %
against 97.7 %).  At the initial weights the spiking update summed over 500
presentations points where backprop's does (cosine 0.99 hidden, 0.98
output).  Near a solution the output's drive is the sum of 60 noisy hidden
spike trains through large output weights (row norms 5-9): even with 100
neurons per unit firing up to 1000 Hz and no target, the output's
prospective potential wandered by about +-0.3 within a presentation.  Tried
on seed 0:

* test accuracy of the weights in the rate forward pass after epochs 1 / 2
  ("annealed": lr_decay = 1): 30 neurons per unit, tau 10 ms, annealed
  82.6 / 83.9; rates up to 400 Hz, annealed 83.8 / 83.6; learning rate
  1 Hz 84.2 / 86.0 (over 8 epochs, seeds 0-2: 82.4 +- 0.3 %, as with
  3 Hz); nudging g_tgt = 0.015 84.6 / 86.1; plasticity only after settling
  +2 to +3 points after epoch 1 (not kept: it is a phase); 100 neurons per
  unit and tau 5 ms, annealed 86.7 / 88.2 (kept);
* decoded test accuracy after epochs 1 / 2 with the defaults (85.3 / 87.4)
  and one change: 30 neurons per representation unit 82.5 / 83.7, 300
  85.3 / 89.0; 100 error neurons per unit and sign 84.3 / 87.2, an
  ``error_rate_hz`` of 1600 84.9 / 86.2 (error-neuron noise is not the
  limit); nudging g_tgt 0.03 or 0.015 with rate_err raised 2 or 4 times
  85.2 / 87.5 and 85.0 / 87.1 (nor is the error loop's gain; their weights
  score 89.0 % in the rate forward pass);
* full runs with 300 neurons per unit (46 minutes each, two sharing the 2
  cores): seed 0 89.4 %, seed 1 86.7 % (100 neurons: 88.1 and 87.2 %), no
  reliable gain;
* 30 hidden units (4-30-3, 4 epochs), where the frozen-hidden ANN falls
  behind (86.8 % against the ANN's 93.8 %): the spiking circuit reached
  87.0 %, the readout ceiling again, no gain visible from its hidden area;
* milder hidden inits make the hidden area matter but leave even the ANN
  short of 95 % in 8 epochs (numpy, seeds 0 / 1, 60 hidden units: s = 4
  89.7 / 85.7 %, s = 6 93.6 / 90.7 %; frozen twins 80.9 / 76.0 and
  88.2 / 84.0 %).

Rate mode at dt = 0.5 ms: the trained network alternates between two states
from one step to the next, at 0.25 ms it is steady; rate-mode Yin-Yang
figures are measured in that regime.
"""
from __future__ import annotations

import dataclasses
import functools
import operator
import time

import brian2 as b2
import numpy as np

from .. import ErrorCircuit, Recording
from ..analysis import decoded_rates
from ..baselines.ann import BackpropANN, InputNoiseANN
from ..plotting import circuit_rasters, learning_curves, pyplot, save_figure
from ..progress import bar
from ..tasks.yinyang import CLASS_NAMES, YinYangData, yinyang_sets
from .base import FULL_MODEL, SAVING, SPIKING_TRAINING, lr_factor, presentation_timing, save_trained
from .teacher_student import make_spec

QUESTION = "Can a spiking error-neuron circuit learn Yin-Yang classification (3 classes) with local plasticity?"

DEFAULTS = {
    **SPIKING_TRAINING,
    **FULL_MODEL,
    **SAVING,
    "eta_hz": 3.0,
    "duration_ms": 100.0,
    "settle_ms": 25.0,
    "dt_ms": 0.5,
    "layers": (4, 60, 3),
    "mode": "sampled",
    "target": "cpp_standalone",
    "seed": 0,
    "epochs": 4,
    "lr_decay": 1.0,  # learning rate of epoch e: eta_hz / (1 + lr_decay (e - 1)); the ANNs' too
    "n_train": 5000,
    "n_train_eval": 300,
    "n_val": 1000,
    "n_test": 1000,
    "neurons_per_unit": 100,  # spiking neurons per representation unit
    "error_neurons_per_unit": 30,  # per error unit and sign
    "input_neurons_per_unit": 2000,  # spiking neurons per input unit (their spike noise blurs the input)
    "tau_syn_ms": 5.0,
    "hidden_init_scale": 10.0,
    "hidden_eta_factor": 1.0,  # hidden area's learning rate / the output's (0: the circuit's frozen-hidden twin)
    "feedback": "backprop",
    "target_high": 0.8,
    "target_low": -0.8,
    "ann_lr": 0.05,
    "ann_epochs": 8,
    "raster_presentations": 3,
    "test_duration_ms": 500.0,  # presentations of the final test run (read out from spike counts)
    "test_settle_ms": 100.0,
}


def one_hot_targets(labels, params) -> np.ndarray:
    """Targets in phi's range: ``target_high`` for the true class, ``target_low`` elsewhere."""
    targets = np.full((len(labels), len(CLASS_NAMES)), params["target_low"])
    targets[np.arange(len(labels)), labels] = params["target_high"]
    return targets


def accuracy(outputs, labels) -> float:
    """Fraction of samples whose largest output is the true class."""
    return float(np.mean(np.argmax(outputs, axis=1) == labels))


def training_schedule(circuit, params, data, rng):
    """All epochs in one schedule: evaluation blocks (train subset, validation, test) before
    training and after every epoch, and a few target-on presentations for the raster at the end."""
    timing = presentation_timing(params)
    evaluation = (("train-eval", data.x_train[: params["n_train_eval"]]), ("val", data.x_val), ("test", data.x_test))
    targets = one_hot_targets(data.y_train, params)
    blocks = []
    for epoch in range(params["epochs"] + 1):
        if epoch > 0:
            order = rng.permutation(len(data.x_train))
            blocks.append(circuit.block(data.x_train[order], targets[order], learning=lr_factor(params, epoch),
                                        label=f"train-{epoch}", **timing))
        blocks += [circuit.block(inputs, label=f"{name}-{epoch}", **timing) for name, inputs in evaluation]
    shown = params["raster_presentations"]
    blocks.append(circuit.block(data.x_test[:shown], one_hot_targets(data.y_test[:shown], params),
                                label="raster", **timing))
    return functools.reduce(operator.add, blocks)


def output_spike_counts(result, label: str) -> np.ndarray:
    """Output spike counts per unit in each presentation of ``label`` after settling, as Hz per neuron."""
    schedule = result.schedule
    duration, settle = float(schedule.duration / b2.second), float(schedule.settle / b2.second)
    onsets = schedule.indices(label) * duration
    edges = np.ravel(np.column_stack([onsets + settle, onsets + duration]))  # averaged windows at even bins
    entry = result.spikes[(result.spec.n_areas, "P")]
    return decoded_rates(entry, result.spec.layers[-1], edges)[::2]


def final_test(circuit, params, data, spiking: bool) -> np.ndarray:
    """Outputs of the trained circuit on the test set in a run of its own, with presentations of
    ``test_duration_ms`` (longer windows average out more spike noise): spike counts in spiking mode."""
    block = circuit.block(data.x_test, label="final-test", **presentation_timing(params, prefix="test_"))
    result = circuit.run(block, recording=Recording(spikes=spiking, spike_areas=(circuit.spec.n_areas,)))
    return output_spike_counts(result, "final-test") if spiking else result.select("final-test")[0]


def reference_anns(params, spec, weights) -> dict:
    """The backprop ANNs of the circuit's shape and initial weights, by name: plain, with a frozen
    hidden area (only its output weights learn), and fed the input spike noise of the circuit's
    input populations (:class:`~brian_errorcircuits.baselines.ann.InputNoiseANN`: training and
    test presentations as long as the circuit's)."""
    tau = spec.neuron.tau_syn if spec.neuron.tau_input is None else spec.neuron.tau_input
    tau_ms = float(tau / b2.ms)
    return {
        "ann": BackpropANN(spec, weights, params["ann_lr"]),
        "frozen_hidden_ann": BackpropANN(spec, weights, params["ann_lr"], frozen_hidden=True),
        "input_noise_ann": InputNoiseANN(
            spec, weights, params["ann_lr"], n_input=spec.neuron.n_input, rate_max=spec.neuron.rate_max, tau=tau,
            draws_train=max(1, round(params["duration_ms"] / (2 * tau_ms))),
            draws_test=max(1, round((params["test_duration_ms"] - params["test_settle_ms"]) / (2 * tau_ms))),
            seed=params["seed"]),
    }


def train_ann(params, ann, data, name: str) -> list:
    """Test accuracy of ``ann`` (same targets and learning-rate schedule as the circuit) before
    and after each epoch."""
    y_train, y_test = one_hot_targets(data.y_train, params), one_hot_targets(data.y_test, params)
    curve = [accuracy(ann.predict(data.x_test), data.y_test)]
    for epoch in bar(range(params["ann_epochs"]), desc=name, unit="epoch", leave=False):
        ann.lr = params["ann_lr"] * lr_factor(params, epoch + 1)
        ann.train(data.x_train, y_train, data.x_test, y_test, 1, seed=params["seed"] * 1000 + epoch)
        curve.append(accuracy(ann.predict(data.x_test), data.y_test))
    return curve


def subsets(params):
    """The published splits, cut to ``n_train`` / ``n_val`` / ``n_test`` samples."""
    data = yinyang_sets()
    return YinYangData(data.x_train[: params["n_train"]], data.y_train[: params["n_train"]],
                      data.x_val[: params["n_val"]], data.y_val[: params["n_val"]],
                      data.x_test[: params["n_test"]], data.y_test[: params["n_test"]])


def run(params: dict, out_dir) -> dict:
    start = time.perf_counter()
    data = subsets(params)
    spec = make_spec(params)
    spec = spec.replace(init_scale=(params["hidden_init_scale"],) * (spec.n_areas - 1) + spec.init_scale[-1:],
                        neuron=dataclasses.replace(spec.neuron, n_input=params["input_neurons_per_unit"],
                                                   n_err=params["error_neurons_per_unit"],
                                                   tau_syn=params["tau_syn_ms"] * b2.ms))
    standalone = params["target"] == "cpp_standalone"
    circuit = ErrorCircuit(spec, build_dir=str(out_dir / "build") if standalone else None)
    initial_weights = [W.copy() for W in circuit.weights]
    schedule = training_schedule(circuit, params, data, np.random.default_rng(params["seed"] + 1))
    spiking = params["mode"] == "sampled"
    recording = Recording(spikes=spiking, spike_segments=("raster",))
    print(f"  {len(schedule)} presentations, {float(schedule.total_time / b2.second):.0f} s simulated", flush=True)
    result = circuit.run(schedule, recording=recording, report=True)
    sets = {"train": data.y_train[: params["n_train_eval"]], "validation": data.y_val, "test": data.y_test}
    labels = {"train": "train-eval", "validation": "val", "test": "test"}
    curves = {name: [accuracy(result.select(f"{labels[name]}-{epoch}")[0], y) for epoch in range(params["epochs"] + 1)]
              for name, y in sets.items()}
    final_outputs = final_test(circuit, params, data, spiking)
    save_trained(out_dir, params, circuit, result)
    final = accuracy(final_outputs, data.y_test)
    print("  training the backprop ANN, its frozen-hidden twin and its twin fed input spike noise", flush=True)
    ann_curves = {name: train_ann(params, ann, data, name)
                  for name, ann in reference_anns(params, spec, initial_weights).items()}
    ann_curve, frozen_curve = ann_curves["ann"], ann_curves["frozen_hidden_ann"]
    summary = {
        "mode": params["mode"],
        "layers": list(params["layers"]),
        "hidden_eta_factor": params["hidden_eta_factor"],
        "seed": params["seed"],
        "epochs": params["epochs"],
        "n_train": len(data.x_train),
        "n_train_eval": len(sets["train"]),
        **{f"{name}_accuracy": curve for name, curve in curves.items()},
        "final_test_accuracy": final,
        "final_test_accuracy_decoded": curves["test"][-1],
        "final_test_readout": "output spike counts" if spiking else "output rates",
        "best_validation_epoch": int(np.argmax(curves["validation"])),
        "ann_test_accuracy": ann_curve,
        "ann_final_test_accuracy": ann_curve[-1],
        "frozen_hidden_ann_test_accuracy": frozen_curve,
        "frozen_hidden_ann_final_test_accuracy": frozen_curve[-1],
        "input_noise_ann_test_accuracy": ann_curves["input_noise_ann"],
        "input_noise_ann_final_test_accuracy": ann_curves["input_noise_ann"][-1],
        "simulated_time_s": float(schedule.total_time / b2.second),
        "simulation_wall_time_s": result.wall_time,
        "target": params["target"],
    }
    summary["wall_time_s"] = time.perf_counter() - start
    figures(params, result, data, np.argmax(final_outputs, axis=1), curves,
            {"ANN backprop, test": ann_curve, "ANN, frozen hidden, test": frozen_curve,
             "ANN fed input spike noise, test": ann_curves["input_noise_ann"]}, out_dir)
    print(f"  test accuracy {curves['test'][0]:.3f} -> {final:.3f} ({summary['final_test_readout']}); "
          f"ANN {ann_curve[-1]:.3f}, frozen hidden {frozen_curve[-1]:.3f}, "
          f"input spike noise {ann_curves['input_noise_ann'][-1]:.3f}; {summary['simulated_time_s']:.0f} s simulated in "
          f"{summary['wall_time_s']:.0f} s wall", flush=True)
    return summary


def figures(params, result, data, predicted, curves, references, out_dir):
    """Accuracy per epoch, the test set coloured by predicted class, rasters of a few presentations."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    frozen = ", hidden frozen" if params["hidden_eta_factor"] == 0 else ""
    circuit = {f"{params['mode']} circuit{frozen}, {'train subset' if name == 'train' else name}": curve
               for name, curve in curves.items()}
    # the circuit and the ANNs train for different numbers of epochs over the same n_train samples:
    # points at the training presentations each had seen, on one axis
    seen = {name: len(data.x_train) * np.arange(len(curve)) for name, curve in (circuit | references).items()}
    learning_curves(circuit | references, ax=ax, ylabel="accuracy", x=seen,
                    xlabel=f"training presentations seen ({len(data.x_train)} per epoch)")
    for line, style in zip(ax.lines[len(circuit):], (("--", "s"), (":", "^"), ("-.", "v"))):  # the ANNs apart, also when equal
        line.set_linestyle(style[0])
        line.set_marker(style[1])
        line.set_fillstyle("none")
    ax.set_yscale("linear")
    ax.legend(fontsize=7)
    ax.set_title(f"Yin-Yang {'-'.join(map(str, params['layers']))}: circuit {params['epochs']} epochs, "
                 f"ANNs {params['ann_epochs']}", fontsize=9)
    save_figure(fig, out_dir / "accuracy.png")

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for label, name in enumerate(CLASS_NAMES):
        keep = predicted == label
        ax.scatter(data.x_test[keep, 0], data.x_test[keep, 1], s=6, label=f"predicted {name}")
    wrong = predicted != data.y_test
    ax.scatter(data.x_test[wrong, 0], data.x_test[wrong, 1], s=30, facecolors="none", edgecolors="k",
               linewidths=0.6, label="misclassified")
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"test set after {params['epochs']} epochs")
    save_figure(fig, out_dir / "test_predictions.png")

    if not result.spikes:
        return
    duration = float(result.schedule.duration / b2.second)
    first = result.schedule.indices("raster")[0]
    shown = np.arange(first, first + params["raster_presentations"] + 1) * duration
    fig = circuit_rasters(result.spikes, result.spec.area_names, window=(shown[0], shown[-1]), onsets=shown[:-1],
                          title="trained network, test samples with targets on (plasticity off)")
    save_figure(fig, out_dir / "raster.png")
