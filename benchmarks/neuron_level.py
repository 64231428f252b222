"""Cost of the neuron-level spiking mode per plastic synapse and time step, in ``cpp_standalone``.

Run as ``python benchmarks/neuron_level.py [--sizes 41,130] [--seconds 1.0] [--repeats 3] [--out DIR]``.

The circuit is the teacher-student student (4-10-2 units, tanh) with ``m`` neurons per unit
(:func:`~brian_errorcircuits.populations.neuron_level`): 60 m^2 plastic synapses, so m = 41
gives 1.0e5 and m = 130 1.0e6.  Plasticity and targets are on for the whole run; inputs and
targets are random.  Each size is built once and its binary run ``--repeats`` times
(Brian2's ``profile=True``); every figure is the minimum and median over the repeats.

Reported per size: the loop's time per plastic synapse and step, and per code object class:

* ``plasticity``: the Euler step of every plastic weight (forward synapses);
* ``transmission``: basal input, summed over synapses every step (from tanh areas) or
  delivered by spikes (``on_pre``, from the input), and its ns per synaptic event;
* ``backprop_feedback``: errors sent down through the forward weights (summed on the
  presynaptic side every step);
* ``spike_generation``: firing conditions and own-trace resets of every neuron;
* ``neurons``: membranes, traces, phi' and the plasticity factor (per neuron);
* ``laterals``: WIP / BPI between partners;
* ``other``: monitors and the rest.

Writes ``neuron_level.json`` into ``--out`` (default ``results/benchmarks/``).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import brian2 as b2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import machine, spread, standalone_profile, timed  # noqa: E402

from brian_errorcircuits import CircuitSpec, __version__  # noqa: E402
from brian_errorcircuits.circuit import brian_session  # noqa: E402
from brian_errorcircuits.network import build_network  # noqa: E402
from brian_errorcircuits.populations import neuron_level  # noqa: E402
from brian_errorcircuits.schedule import Schedule  # noqa: E402

UNITS = (4, 10, 2)
CLASSES = ("plasticity", "transmission", "backprop_feedback", "spike_generation", "neurons", "laterals", "other")


def code_object_class(name: str, projections: set) -> str:
    """Which part of the loop a Brian2 code object belongs to (see the module docstring)."""
    owner = name.split("_summed_variable_")[0].split("_pre_")[0].replace("_stateupdater_codeobject", "")
    if owner in projections:
        if "_summed_variable_v_back" in name:
            return "backprop_feedback"
        if "_summed_variable_v_bas" in name or "_pre_" in name:
            return "transmission"
        return "plasticity"
    if "_WIP" in name or "_BPI" in name:
        return "laterals"
    if "thresholder" in name or "resetter" in name:
        return "spike_generation"
    if name.startswith(("states_", "sums_", "spikes_", "input_spikes")):
        return "other"
    return "neurons"


def measure(m: int, seconds: float, repeats: int, out: Path) -> dict:
    """Build the circuit with ``m`` neurons per unit once and time its binary ``repeats`` times."""
    spec, arrays = neuron_level(CircuitSpec(layers=UNITS, eta=(5 * b2.Hz,) * 2, seed=0, dt=0.25 * b2.ms,
                                            target="cpp_standalone"), m, mode="spiking")
    rng = np.random.default_rng(0)
    presentations = max(1, round(seconds / 0.2))
    schedule = Schedule.block(rng.uniform(0, 1, (presentations, UNITS[0])),
                              rng.uniform(-0.5, 0.5, (presentations, UNITS[-1])), n_outputs=UNITS[-1],
                              learning=True, duration=200 * b2.ms, settle=50 * b2.ms)
    build_dir = out / f"build_m{m}"
    record = {"neurons_per_unit": m, "simulated_s": float(schedule.total_time / b2.second)}
    with brian_session(spec, 0, str(build_dir)):
        built = build_network(spec, arrays, schedule)
        input_spikes = b2.SpikeMonitor(built.areas[0], name="input_spikes")
        built.network.add(input_spikes)
        built.network.run(schedule.total_time, namespace={}, profile=True)
        with timed(record, "first_build_and_run"):
            b2.device.build(directory=str(build_dir), compile=True, run=True, with_output=False)
        runs = [standalone_profile(build_dir)]
        for _ in range(repeats - 1):
            with timed(record, "rerun"):
                b2.device.run(directory=str(build_dir), with_output=False)
            runs.append(standalone_profile(build_dir))
        events = int(input_spikes.num_spikes) * spec.layers[1]  # every input neuron reaches all of area 1
        synapses = int(sum(len(syn) for syn in built.projections))
    steps = round(float(schedule.total_time / spec.dt))
    names = {syn.name for syn in built.projections}
    per_class = {name: [] for name in CLASSES}
    for _, profile in runs:
        totals = dict.fromkeys(CLASSES, 0.0)
        for code_object, seconds_spent in profile.items():
            totals[code_object_class(code_object, names)] += seconds_spent
        for name in CLASSES:
            per_class[name].append(totals[name] / (steps * synapses) * 1e9)
    event_seconds = [sum(s for name, s in profile.items() if name.startswith("input_to_") and "_pre_" in name)
                     for _, profile in runs]
    record.update({
        "plastic_synapses": synapses, "neurons": int(sum(g.N for g in built.areas) + sum(g.N for g in built.error_groups[1:])),
        "steps": steps, "synaptic_events_from_input": events,
        "loop_ns_per_plastic_synapse_step": spread(loop / (steps * synapses) * 1e9 for loop, _ in runs),
        "ns_per_plastic_synapse_step_by_class": {name: spread(values) for name, values in per_class.items()},
        "ns_per_synaptic_event": spread(s / max(events, 1) * 1e9 for s in event_seconds),
        "loop_s": spread(loop for loop, _ in runs),
    })
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="41,130", help="neurons per unit, comma-separated")
    parser.add_argument("--seconds", type=float, default=1.0, help="simulated seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "neuron_level", "package_version": __version__, "brian2_version": b2.__version__,
              "numpy_version": np.__version__, "python": platform.python_version(), **machine(), "sizes": []}
    for m in (int(text) for text in args.sizes.split(",")):
        record = measure(m, args.seconds, args.repeats, args.out)
        report["sizes"].append(record)
        loop = record["loop_ns_per_plastic_synapse_step"]
        print(f"m={m}: {record['plastic_synapses']:,} plastic synapses, {record['neurons']:,} neurons, "
              f"{record['steps']} steps; loop {loop['min']:.2f} ns per plastic synapse-step "
              f"(median {loop['median']:.2f}); first build+run {record['first_build_and_run_wall_s']:.0f} s wall, "
              f"{record['first_build_and_run_cpu_s']:.0f} s CPU", flush=True)
        for name, values in record["ns_per_plastic_synapse_step_by_class"].items():
            print(f"    {name:18s} {values['min']:.3f} ns per plastic synapse-step", flush=True)
        print(f"    {record['ns_per_synaptic_event']['min']:.2f} ns per synaptic event "
              f"({record['synaptic_events_from_input']:,} events from the input)", flush=True)
    (args.out / "neuron_level.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
