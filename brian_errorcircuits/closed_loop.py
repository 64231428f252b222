"""Closed-loop runs: the circuit drives a plant (e.g. a cart-pole) while it is simulated.

A whole :class:`~brian_errorcircuits.schedule.Schedule` is fixed before a run;
in closed loop the next input depends on the circuit's last output, so a
Brian2 ``network_operation`` steps the plant every control step, inside one
``run`` call per episode.  It calls Python, so closed loop needs a runtime
target (``cython`` or ``numpy``), never ``cpp_standalone``.

Per control step of length ``step`` (simulated time):

1. the output is the mean over the step of the output area's ``out_P`` (its
   decoded synaptic trace in spiking mode, its rate in rate mode), read from
   the presentation integrator ``sum_P`` (the averaging gate is always open);
2. ``plant.step(output)`` advances the plant and returns the next input rates
   (in [0, 1]) and whether the episode ends;
3. the input group's ``r_P`` is set to them until the next control step.

Plasticity and targets are off.  Before each episode the circuit sees the
start state for ``settle_steps`` control steps with the plant frozen, so it
enters the episode settled on the start rather than on the previous episode's
end.  (Brian2's ``store``/``restore`` would reset it exactly, but after a
restore these spike monitors recorded every spike as neuron 0.)
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Protocol

import brian2 as b2
import numpy as np

from .circuit import brian_session
from .network import Recording, build_network
from .spec import SPIKING_MODES, SpecError


class Plant(Protocol):
    """What the circuit controls: inputs in [0, 1] out, circuit outputs in."""

    def reset(self, start) -> np.ndarray:
        """Put the plant in state ``start``; return the circuit's first input rates."""

    def step(self, outputs: np.ndarray) -> tuple:
        """Apply the circuit's outputs for one control step: (next input rates, episode over)."""


@dataclass
class ClosedLoopEpisode:
    """One episode: the circuit's output per control step, steps run, and spikes if recorded."""

    outputs: np.ndarray  # (steps, n_output)
    ended_early: bool  # the plant ended the episode before max_steps
    spikes: dict = field(default_factory=dict)  # RunResult.spikes layout, times from the episode's start

    @property
    def steps(self) -> int:
        return len(self.outputs)


def closed_loop(circuit, plant: Plant, starts, step=20 * b2.ms, max_steps: int = 2000,
                spike_episodes=(), settle_steps: int = 3) -> list:
    """Let ``circuit`` (an :class:`ErrorCircuit`, weights unchanged) drive ``plant`` from each of ``starts``.

    ``step`` is the simulated time per control step (a whole number of
    ``spec.dt``); an episode lasts at most ``max_steps`` steps.  Spikes are
    recorded in the episodes whose indices are in ``spike_episodes``; the circuit
    sees each start for ``settle_steps`` steps before the plant moves.
    Returns one :class:`ClosedLoopEpisode` per start.
    """
    spec = circuit.spec
    if spec.target == "cpp_standalone":
        raise SpecError("closed loop calls Python every control step: use target 'cython' or 'numpy'")
    if max_steps < 1:
        raise SpecError(f"max_steps={max_steps!r} must be at least 1")
    # an empty block only sets the switches: no target, no plasticity, averaging always on
    schedule = circuit.block(np.zeros((1, spec.layers[0])), duration=step, settle=0 * b2.ms)
    circuit._check_schedule(schedule)
    gc.collect()  # see ErrorCircuit.run: stale objects would force a recompile
    with brian_session(spec, circuit.runs):  # Brian2's global state restored afterwards
        built = build_network(spec, circuit.arrays, schedule,
                              Recording(spikes=bool(spike_episodes) and spec.mode in SPIKING_MODES),
                              external_input=True)
        inputs, output = built.areas[0], built.areas[-1]
        loop = {"outputs": [], "last_sum": None, "ended": False, "active": False}

        @b2.network_operation(dt=step, when="start", name="control")
        def control(t):
            if not loop["active"]:  # settling on the start state: the plant waits
                return
            total = np.asarray(output.sum_P[:] / b2.second)
            if loop["last_sum"] is not None:
                mean = (total - loop["last_sum"]) / float(step / b2.second)
                loop["outputs"].append(mean)
                rates, ended = plant.step(mean)
                _set_rates(inputs, rates)
                if ended or len(loop["outputs"]) >= max_steps:
                    loop["ended"] = ended
                    built.network.stop()
            loop["last_sum"] = total

        built.network.add(control)
        episodes = []
        for index, start in enumerate(starts):
            _set_rates(inputs, plant.reset(start))
            loop["active"] = False
            for monitor in built.spike_monitors.values():
                monitor.active = False
            built.network.run(settle_steps * step, namespace={})
            for monitor in built.spike_monitors.values():
                monitor.active = index in spike_episodes
            loop.update(outputs=[], last_sum=None, ended=False, active=True)
            onset = float(built.network.t / b2.second)
            built.network.run((max_steps + 1) * step, namespace={})
            spikes = _since(built.spike_trains(), onset) if index in spike_episodes else {}
            episodes.append(ClosedLoopEpisode(np.array(loop["outputs"]), loop["ended"], spikes))
    circuit.runs += 1
    return episodes


def _since(spikes: dict, onset: float) -> dict:
    """Spikes at or after ``onset`` (s), timed from it (monitors run on across episodes)."""
    per_spike = ("i", "t", "unit", "sign")
    kept = {}
    for key, entry in spikes.items():
        keep = entry["t"] >= onset
        kept[key] = {name: (value[keep] if name in per_spike else value) for name, value in entry.items()}
        kept[key]["t"] = kept[key]["t"] - onset
    return kept


def _set_rates(group, rates):
    rates = np.asarray(rates, float)
    if rates.shape != (group.N,) or rates.min() < 0 or rates.max() > 1 or not np.isfinite(rates).all():
        raise SpecError(f"the plant returned input rates {rates!r}: need {group.N} values in [0, 1]")
    group.r_P = rates
