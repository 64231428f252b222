"""Cost per plastic synapse-step and per neuron-step of every mode, split by Brian2 code object.

Run as ``python benchmarks/code_objects.py [--modes rate,sampled,spiking] [--sizes 41]
[--seconds 0.4] [--repeats 3] [--threads 1,2] [--out DIR]``.

Every network is built once in ``cpp_standalone`` with Brian2's ``profile=True``
(first build and run timed), then its binary is run again ``--repeats`` times,
interleaved with the other networks' binaries (cached: no compiler).  Networks:

* ``rate``: layers (200, 400, 200) (160 000 plastic synapses) and (200, 2, 598)
  (1 596), with the same input and area unit counts, so that the difference of
  their loop times per step over the difference of synapse counts is the
  marginal cost of a plastic synapse;
* ``sampled``: the 4-10-2 network with n_rep = n_err = 50 Poisson neurons per unit;
* ``spiking``: the neuron-level teacher-student student (4-10-2 units, ``m``
  neurons per unit, 60 m^2 plastic synapses; m = 41 gives 1.0e5).

Plasticity and targets are on for the whole run; inputs and targets are random.
Each code object's time is divided by the steps and by the size of the object
that owns it (synapses of a ``Synapses``, neurons of a group): ns per
synapse-step or per neuron-step.  Code objects are also grouped into classes
(plasticity, transmission, errors sent down, spike generation, neurons,
laterals, other) per plastic synapse-step.  Writes ``code_objects.json``.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import brian2 as b2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import (DEFAULT_OUT, core_share, interleaved, load_text, spread, standalone_profile, timed,  # noqa: E402
                    use_threads, write_report)

from brian_errorcircuits import CircuitSpec, NeuronParams  # noqa: E402
from brian_errorcircuits.arrays import CircuitArrays  # noqa: E402
from brian_errorcircuits.circuit import brian_session  # noqa: E402
from brian_errorcircuits.network import build_network  # noqa: E402
from brian_errorcircuits.populations import neuron_level  # noqa: E402
from brian_errorcircuits.schedule import Schedule  # noqa: E402

DT = 0.25 * b2.ms
PRESENTATION, SETTLE = 200 * b2.ms, 50 * b2.ms
UNITS = (4, 10, 2)
CLASSES = ("plasticity", "transmission", "backprop_feedback", "spike_generation", "neurons", "laterals", "other")
#: functions whose calls inside a synapse loop show a value recomputed per synapse (issue 14, item 1)
CALLS = ("tanh", "exp", "log", "input_rates", "target_rates", "learning_on", "target_on")


def networks(modes, sizes) -> list:
    """(name, spec, arrays) of every network measured for ``modes``."""
    found = []
    for mode in modes:
        if mode == "rate":
            for layers in ((200, 400, 200), (200, 2, 598)):
                spec = CircuitSpec(layers=layers, mode="rate", eta=(1 * b2.Hz,) * 2, dt=DT, seed=0,
                                   target="cpp_standalone")
                found.append((f"rate {layers}", spec, CircuitArrays.draw(spec)))
        elif mode == "sampled":
            spec = CircuitSpec(layers=UNITS, mode="sampled", eta=(5 * b2.Hz,) * 2, dt=DT, seed=0,
                               neuron=NeuronParams(n_rep=50, n_err=50), target="cpp_standalone")
            found.append((f"sampled {UNITS} n_rep=n_err=50", spec, CircuitArrays.draw(spec)))
        elif mode == "spiking":
            for m in sizes:
                spec, arrays = spiking_network(m)
                found.append((f"spiking {UNITS} m={m}", spec, arrays))
        else:
            raise SystemExit(f"unknown mode {mode!r}: rate, sampled or spiking")
    return found


def spiking_network(m: int) -> tuple:
    """(spec, arrays) of the neuron-level teacher-student student with ``m`` neurons per unit."""
    return neuron_level(CircuitSpec(layers=UNITS, eta=(5 * b2.Hz,) * 2, seed=0, dt=DT, target="cpp_standalone"),
                        m, mode="spiking")


def random_schedule(spec: CircuitSpec, seconds: float) -> Schedule:
    """Random inputs in [0, 1] and targets in (-0.5, 0.5), 200 ms presentations, learning on."""
    rng = np.random.default_rng(0)
    presentations = max(1, round(seconds / float(PRESENTATION / b2.second)))
    return Schedule.block(rng.uniform(0, 1, (presentations, spec.input_units)),
                          rng.uniform(-0.5, 0.5, (presentations, spec.output_units)), n_outputs=spec.output_units,
                          learning=True, duration=PRESENTATION, settle=SETTLE)


def code_object_class(name: str, projections: set) -> str:
    """Which part of the loop a Brian2 code object belongs to (see the module docstring)."""
    name = re.sub(r"_\d+$", "", name)  # Brian2 numbers the code objects of a later build in the same process
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
    if name.startswith(("states_", "sums_", "spikes_", "source_spikes_")):
        return "other"
    return "neurons"


def calls_in_loop(build_dir: Path, code_object: str) -> list:
    """Functions of :data:`CALLS` called inside the per-element loop of a generated code object."""
    path = build_dir / "code_objects" / f"{code_object}.cpp"
    code = path.read_text() if path.exists() else ""
    start = code.find("// vector code")
    if start < 0:
        return []
    end = code.find("\n    }", start)
    loop = code[start:end if end > 0 else None]
    return [call for call in CALLS if re.search(rf"\b{call}\(", loop)]


def build(name: str, spec: CircuitSpec, arrays, seconds: float, build_dir: Path) -> dict:
    """Build and run one of the project's networks once (profiled); see :func:`compile_profiled`."""
    schedule = random_schedule(spec, seconds)
    record = {"network": name, "simulated_s": float(schedule.total_time / b2.second),
              "steps": int(round(float(schedule.total_time / spec.dt)))}
    with brian_session(spec, 0, str(build_dir)):
        built = build_network(spec, arrays, schedule)
        sources = {("input", *spec.area_names)[p.source]: built.areas[p.source] for p in spec.projections}
        compile_profiled(record, built.network, built.projections, sources, schedule.total_time, build_dir)
    return record


def compile_profiled(record: dict, network: b2.Network, projections: list, sources: dict, duration,
                     build_dir: Path) -> None:
    """Run ``network`` for ``duration`` in the active standalone session: first build and run, timed.

    ``projections``: the plastic ``Synapses``; ``sources``: {name: group} whose
    spike rates are recorded (groups that do not spike are left out).  Adds
    to ``record`` the first build's wall and CPU time, plastic synapse and
    neuron counts, source rates, every code object's owner size and the
    first run's profile.
    """
    monitors = {name: b2.SpikeMonitor(group, name=f"source_spikes_{name}")
                for name, group in sources.items() if "spike" in group.events}
    network.add(*monitors.values())
    network.run(duration, namespace={}, profile=True)
    with timed(record, "first_build_and_run"):
        b2.device.build(directory=str(build_dir), compile=True, run=True, with_output=False)
    groups = (b2.NeuronGroup, b2.PoissonGroup)
    sizes = {}
    for code in b2.device.code_objects.values():
        if isinstance(code.owner, b2.Synapses):
            sizes[code.name] = (len(code.owner), "synapse")
        elif isinstance(code.owner, groups):
            sizes[code.name] = (code.owner.N, "neuron")
    seconds = float(duration / b2.second)
    spikes = {sources[name]: monitor.num_spikes for name, monitor in monitors.items()}
    record.update(
        # spikes delivered on_pre: spikes of the source times the synapses each of its neurons has
        synaptic_events=int(sum(spikes[syn.source] * len(syn) / syn.source.N for syn in projections
                                if syn.source in spikes and hasattr(syn, "pre"))),
        build_dir=str(build_dir), sizes=sizes, projections=sorted(syn.name for syn in projections),
        plastic_synapses=int(sum(len(syn) for syn in projections)),
        neurons=int(sum(g.N for g in network.objects if isinstance(g, groups))),
        source_rates_hz={name: monitor.num_spikes / (sources[name].N * seconds) for name, monitor in monitors.items()},
        profiles=[standalone_profile(build_dir)],
    )
    record["calls_in_synapse_loops"] = {code: calls for code in record["profiles"][0][1]
                                        if sizes.get(code, (0, ""))[1] == "synapse"
                                        and (calls := calls_in_loop(build_dir, code))}


def rerun(record: dict) -> dict:
    """Run a built binary again (no compiler); add its loop time and profile to ``record``."""
    timing = {}
    with timed(timing, "rerun"):
        subprocess.run(["./main"], cwd=record["build_dir"], check=True, capture_output=True)
    record["profiles"].append(standalone_profile(record["build_dir"]))
    return timing


def summary(record: dict, reruns: list) -> dict:
    """Per-step figures of one network over all its runs (the first build's run included)."""
    steps, synapses, neurons = record["steps"], record["plastic_synapses"], record["neurons"]
    runs = record.pop("profiles")
    projections = set(record["projections"])
    per_object = {}
    for code in runs[0][1]:
        size, kind = record["sizes"].get(code, (None, None))
        entry = {"owner_size": size, "per": kind or "step",
                 "ns": spread(profile[code] / (steps * (size or 1)) * 1e9 for _, profile in runs),
                 "share_of_loop": spread(profile[code] / loop for loop, profile in runs)}
        per_object[code] = entry
    classes = {name: spread(sum(s for code, s in profile.items() if code_object_class(code, projections) == name)
                            / (steps * synapses) * 1e9 for _, profile in runs) for name in CLASSES}
    record.pop("sizes")
    on_pre = [sum(s for code, s in profile.items() if "_pre_" in code and code.split("_pre_")[0] in projections)
              for _, profile in runs]
    record.update(
        ns_per_synaptic_event=spread(s / max(record["synaptic_events"], 1) * 1e9 for s in on_pre),
        loop_s=spread(loop for loop, _ in runs),
        loop_ns_per_plastic_synapse_step=spread(loop / (steps * synapses) * 1e9 for loop, _ in runs),
        loop_ns_per_neuron_step=spread(loop / (steps * neurons) * 1e9 for loop, _ in runs),
        ns_per_plastic_synapse_step_by_class=classes,
        code_objects=per_object,
        rerun_wall_s=spread(r["rerun_wall_s"] for r in reruns), rerun_cpu_s=spread(r["rerun_cpu_s"] for r in reruns),
        rerun_cpu_share=spread(core_share(r["rerun_cpu_s"], r["rerun_wall_s"]) for r in reruns),
    )
    return record


def measure(named_networks: list, seconds: float, repeats: int, out: Path, threads=(1,)) -> list:
    """Build every network for every thread count, then rerun the binaries in interleaved rounds."""
    records = []
    for count in threads:
        use_threads(count)
        for name, spec, arrays in named_networks:
            label = f"{name}, {count} thread{'s' if count > 1 else ''}"
            folder = out / f"build_{re.sub(r'[^0-9a-z]+', '_', name.lower()).strip('_')}_t{count}"
            records.append(build(label, spec, arrays, seconds, folder))
            records[-1]["threads"] = count
            print(f"  built {label}: first build and run {records[-1]['first_build_and_run_wall_s']:.0f} s wall, "
                  f"{records[-1]['first_build_and_run_cpu_s']:.0f} s CPU ({load_text()})", flush=True)
    reruns = interleaved({r["network"]: (lambda r=r: rerun(r)) for r in records}, repeats)
    return [summary(r, reruns[r["network"]]) for r in records]


def marginal_synapse_ns(records: list) -> float | None:
    """Loop time per step difference over plastic synapse difference of the two rate networks (ns)."""
    rate = [r for r in records if r["network"].startswith("rate ") and r["threads"] == 1]
    if len(rate) != 2:
        return None
    big, small = sorted(rate, key=lambda r: -r["plastic_synapses"])
    per_step = [r["loop_s"]["min"] / r["steps"] for r in (big, small)]
    return (per_step[0] - per_step[1]) / (big["plastic_synapses"] - small["plastic_synapses"]) * 1e9


def print_record(record: dict) -> None:
    loop = record["loop_ns_per_plastic_synapse_step"]
    print(f"{record['network']}: {record['plastic_synapses']:,} plastic synapses, {record['neurons']:,} neurons, "
          f"{record['steps']} steps; loop {loop['min']:.2f} ns per plastic synapse-step (median {loop['median']:.2f}), "
          f"{record['loop_ns_per_neuron_step']['min']:.2f} ns per neuron-step; rerun "
          f"{record['rerun_wall_s']['min']:.2f} s wall, {record['rerun_cpu_s']['min']:.2f} s CPU (CPU share of a core "
          f"{record['rerun_cpu_share']['median']:.2f}: loop times are wall times)", flush=True)
    for name, values in record["ns_per_plastic_synapse_step_by_class"].items():
        print(f"    {name:18s} {values['min']:.3f} ns per plastic synapse-step", flush=True)
    if record["synaptic_events"]:
        print(f"    {record['ns_per_synaptic_event']['min']:.2f} ns per synaptic event "
              f"({record['synaptic_events']:,} events delivered on_pre)", flush=True)
    for code, entry in sorted(record["code_objects"].items(), key=lambda item: -item[1]["share_of_loop"]["min"]):
        if entry["share_of_loop"]["min"] >= 0.02:
            print(f"      {code:60s} {entry['ns']['min']:8.2f} ns per {entry['per']}-step "
                  f"({entry['share_of_loop']['min']:.0%} of the loop)", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="rate,sampled,spiking")
    parser.add_argument("--sizes", default="41", help="neurons per unit of the spiking mode, comma-separated")
    parser.add_argument("--seconds", type=float, default=0.4, help="simulated seconds per run")
    parser.add_argument("--repeats", type=int, default=3, help="cached reruns of every binary, interleaved")
    parser.add_argument("--threads", default="1", help="threads of the standalone binaries, comma-separated "
                        "(above 1: OpenMP); every network is built for each")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT / "code_objects")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"code objects, {load_text()}", flush=True)
    chosen = networks(args.modes.split(","), [int(m) for m in args.sizes.split(",")])
    threads = [int(count) for count in args.threads.split(",")]
    records = measure(chosen, args.seconds, args.repeats, args.out, threads)
    for record in records:
        print_record(record)
    marginal = marginal_synapse_ns(records)
    if marginal is not None:
        print(f"rate mode, marginal cost of a plastic synapse (loop difference of the two rate networks): "
              f"{marginal:.2f} ns per synapse-step", flush=True)
    print(f"done, {load_text()}")
    path = write_report(args.out, "code_objects", {"threads": threads, "seconds": args.seconds,
                                                   "repeats": args.repeats, "networks": records,
                                                   "rate_marginal_ns_per_synapse_step": marginal})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
