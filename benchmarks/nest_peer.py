"""The neuron-level spiking mode against NEST's Urbanczik-Senn synapse and a bare Brian2 one, on one thread.

Run as ``python benchmarks/nest_peer.py [--size 41] [--seconds 1.0] [--repeats 3] [--out DIR]``.
NEST is an optional dependency (``pip install -e .[bench]``); without it the NEST
part is skipped with a message and the rest still runs.

Three simulations of the same work, every one on one thread, interleaved over the repeats:

* ours: the neuron-level teacher-student student, 4-10-2 units with ``m`` neurons per
  unit (:func:`code_objects.spiking_network`; 60 m^2 plastic synapses, 4m input and
  12m plastic representation neurons, plus error neurons), ``cpp_standalone``, profiled;
* NEST 3.x: ``pp_cond_exp_mc_urbanczik`` neurons, as many as our representation
  neurons with plastic inputs (10m, 2m), each receiving ``urbanczik_synapse``
  connections from every neuron of its source (all to all, 40 m^2 + 20 m^2), from
  ``parrot_neuron`` relays of Poisson trains at the rates our sources fired at
  (measured in our first run), at our dt (NEST resolution) and simulated time.  Run
  three times per repeat: without connections, with ``static_synapse`` and with
  ``urbanczik_synapse``, so that the differences are NEST's cost of transmission and
  of plasticity;
* bare Brian2: the same layout with :data:`BARE_NEURON` / :data:`BARE_SYNAPSE` (two-
  compartment Urbanczik-Senn neuron, Poisson spikes, clock-driven plastic synapse with
  a low-passed weight change as NEST's ``tau_Delta``), ``cpp_standalone``, Poisson
  sources at the same rates.

Reported: each one's time per plastic synapse-step (loop time / (steps x plastic
synapses)), split where it can be, and the ratios ours / NEST and ours / bare Brian2.
What is matched and what is not is written into ``nest_peer.json`` (``matching``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import brian2 as b2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from code_objects import build, compile_profiled, rerun, spiking_network, summary  # noqa: E402
from timing import DEFAULT_OUT, cpu_seconds, interleaved, load_text, spread, use_threads, write_report  # noqa: E402

from brian_errorcircuits.circuit import brian_session  # noqa: E402

#: Urbanczik & Senn (2014), unitless potentials: soma U, dendritic prediction V* = g_D / (g_L + g_D) V.
#: The plasticity factor ``error`` is a state variable, set once per neuron and step (:data:`BARE_ERROR`),
#: so that synapses read it instead of recomputing two exponentials each.
BARE_NEURON = """
dU/dt = -g_L * U + g_D * (V - U) : 1
V : 1
rate = phi_max / (1 + k_rate * exp(beta * (theta - U))) : Hz
dS/dt = -S / tau_s : 1
error : Hz
"""
BARE_ERROR = """
V_star = g_D / (g_L + g_D) * V
error = (S / tau_s - phi_max / (1 + k_rate * exp(beta * (theta - V_star)))) * beta / (1 + exp(-beta * (theta - V_star)) / k_rate)
"""
#: per synapse: PSP trace, low-passed weight change (NEST's tau_Delta), weight, dendritic sum
BARE_SYNAPSE = """
dpsp/dt = -psp / tau_s : 1 (clock-driven)
ddelta/dt = (error_post * psp - delta) / tau_delta : Hz (clock-driven)
dw/dt = eta * delta : 1 (clock-driven)
V_post = w * psp : 1 (summed)
"""
BARE_VALUES = {"g_L": 0.1 / b2.ms, "g_D": 2.0 / b2.ms, "phi_max": 150 * b2.Hz, "k_rate": 0.5, "beta": 5.0,
               "theta": 1.0, "tau_s": 10 * b2.ms, "tau_delta": 100 * b2.ms, "eta": 1e-3}

#: NEST's own example parameters of pp_cond_exp_mc_urbanczik (pynest urbanczik_synapse_example.py)
NEST_NEURON = {"t_ref": 3.0, "g_sp": 600.0, "phi_max": 0.15, "rate_slope": 0.5, "beta": 1.0 / 3.0, "theta": -55.0,
               "soma": {"V_m": -70.0, "C_m": 300.0, "E_L": -70.0, "g_L": 30.0, "E_ex": 0.0, "E_in": -75.0,
                        "tau_syn_ex": 3.0, "tau_syn_in": 3.0},
               "dendritic": {"V_m": -70.0, "C_m": 300.0, "E_L": -70.0, "g_L": 30.0,
                             "tau_syn_ex": 3.0, "tau_syn_in": 3.0}}
NEST_SYNAPSE = {"tau_Delta": 100.0, "eta": 0.17, "weight": 0.3 * 300.0, "Wmax": 4.5 * 300.0}

#: our code object classes that run per plastic synapse (see code_objects.py)
SYNAPSE_CLASSES = ("plasticity", "transmission", "backprop_feedback")
MATCHING = {
    "equal": ["plastic synapses (all to all per projection)", "neurons with plastic inputs per projection",
              "presynaptic spikes per projection (NEST and bare Brian2 sources fire Poisson trains at the rates "
              "our sources fired at in our first run)", "dt (NEST resolution)", "simulated time",
              "plasticity on throughout", "one thread"],
    "not equal": ["our loop also runs error neurons, laterals, errors sent down (backprop feedback), targets and "
                  "spike generation of every neuron; NEST and bare Brian2 run only the plastic neurons and sources",
                  "NEST's area-2 neurons hear parrot relays, not the area-1 Urbanczik neurons (so that the "
                  "presynaptic rate is ours); their own firing differs from ours",
                  "NEST integrates its conductance-based two-compartment neuron with an adaptive GSL solver; its "
                  "plasticity is event-driven (per presynaptic spike, reading the archived postsynaptic history); "
                  "ours and bare Brian2's is clock-driven (every synapse, every step)",
                  "NEST's timing is nest.Simulate in this process (Python-side start-up included); ours and bare "
                  "Brian2's loop is the standalone binary's own loop time"],
}


def layout(spec) -> list:
    """(source name, source neurons, target neurons) per plastic projection of a neuron-level spec."""
    names = ("input", *spec.area_names)
    return [(names[p.source], spec.layers[p.source], spec.layers[p.target]) for p in spec.projections]


def bare_brian2(spec, projections: list, rates: dict, seconds: float, build_dir: Path) -> dict:
    """Build and run the bare Urbanczik-Senn network once in standalone (profiled), with our session's settings."""
    record = {"network": "bare Brian2 Urbanczik-Senn", "simulated_s": seconds,
              "steps": int(round(seconds * b2.second / spec.dt))}
    with brian_session(spec, 0, str(build_dir)):
        network, plastic, sources = b2.Network(), [], {}
        for source, n_source, n_target in projections:
            group = b2.PoissonGroup(n_source, rates=rates[source] * b2.Hz, name=f"bare_{source}")
            neurons = b2.NeuronGroup(n_target, BARE_NEURON, threshold="rand() < rate * dt", reset="S += 1",
                                     method="euler", namespace=BARE_VALUES, name=f"bare_from_{source}")
            neurons.run_regularly(BARE_ERROR, when="before_synapses", name=f"bare_from_{source}_error")
            synapses = b2.Synapses(group, neurons, BARE_SYNAPSE, on_pre="psp += 1", method="euler",
                                   namespace=BARE_VALUES, name=f"bare_{source}_plastic")
            synapses.connect()
            synapses.w = "0.1 * rand()"
            network.add(group, neurons, synapses)
            plastic.append(synapses)
            sources[source] = group
        compile_profiled(record, network, plastic, sources, seconds * b2.second, build_dir)
    return record


def nest_available() -> bool:
    try:
        import nest  # noqa: F401
    except ImportError:
        return False
    return True


def nest_run(variant: str, projections: list, rates: dict, seconds: float, dt_ms: float) -> dict:
    """Build a fresh NEST kernel (one thread) and simulate ``seconds``; wall and CPU time of both.

    ``variant``: ``'neurons'`` (no plastic connections), ``'static'`` (``static_synapse``)
    or ``'plastic'`` (``urbanczik_synapse``).
    """
    import nest

    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": dt_ms, "local_num_threads": 1, "rng_seed": 1})
    record = {"variant": variant}
    wall, cpu = time.perf_counter(), cpu_seconds()
    dendritic = nest.GetDefaults("pp_cond_exp_mc_urbanczik")["receptor_types"]["dendritic_exc"]
    for source, n_source, n_target in projections:
        generator = nest.Create("poisson_generator", params={"rate": rates[source]})
        relays = nest.Create("parrot_neuron", n_source)
        nest.Connect(generator, relays)  # every relay gets its own Poisson train
        neurons = nest.Create("pp_cond_exp_mc_urbanczik", n_target, params=NEST_NEURON)
        if variant != "neurons":
            model = "urbanczik_synapse" if variant == "plastic" else "static_synapse"
            extra = NEST_SYNAPSE if variant == "plastic" else {"weight": NEST_SYNAPSE["weight"]}
            nest.Connect(relays, neurons, "all_to_all",
                         {"synapse_model": model, "receptor_type": dendritic, "delay": dt_ms, **extra})
    record["build_wall_s"], record["build_cpu_s"] = time.perf_counter() - wall, cpu_seconds() - cpu
    wall, cpu = time.perf_counter(), cpu_seconds()
    nest.Simulate(seconds * 1000.0)
    record["simulate_wall_s"], record["simulate_cpu_s"] = time.perf_counter() - wall, cpu_seconds() - cpu
    record["connections"] = int(nest.GetKernelStatus("num_connections"))
    return record


def nest_summary(runs: dict, steps: int, synapses: int) -> dict:
    """NEST's time per plastic synapse-step: whole simulation, and transmission / plasticity by difference."""
    per = steps * synapses / 1e9
    cpu = {variant: [r["simulate_cpu_s"] for r in records] for variant, records in runs.items()}
    return {
        "runs": runs,
        "simulate_wall_s": {v: spread(r["simulate_wall_s"] for r in records) for v, records in runs.items()},
        "simulate_cpu_s": {v: spread(values) for v, values in cpu.items()},
        "ns_per_plastic_synapse_step": spread(c / per for c in cpu["plastic"]),
        "transmission_ns_per_synapse_step": spread((s - n) / per for s, n in zip(cpu["static"], cpu["neurons"])),
        "plasticity_ns_per_synapse_step": spread((p - s) / per for p, s in zip(cpu["plastic"], cpu["static"])),
        "timing": "CPU time of nest.Simulate (one thread; differences per repeat, minimum and median over repeats)",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=41, help="neurons per unit of our circuit (60 m^2 synapses)")
    parser.add_argument("--seconds", type=float, default=1.0, help="simulated seconds per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT / "nest_peer")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"NEST peer, m = {args.size}, {load_text()}", flush=True)
    use_threads(1)
    spec, arrays = spiking_network(args.size)
    ours = build(f"ours, spiking m={args.size}", spec, arrays, args.seconds, args.out / f"build_ours_m{args.size}")
    projections, rates = layout(spec), ours["source_rates_hz"]
    print(f"ours: {ours['plastic_synapses']:,} plastic synapses, first build and run "
          f"{ours['first_build_and_run_wall_s']:.0f} s wall, {ours['first_build_and_run_cpu_s']:.0f} s CPU; source rates "
          + ", ".join(f"{name} {rate:.1f} Hz" for name, rate in rates.items()), flush=True)
    bare = bare_brian2(spec, projections, rates, ours["simulated_s"], args.out / "build_bare")
    if bare["plastic_synapses"] != ours["plastic_synapses"]:
        raise SystemExit(f"bare Brian2 has {bare['plastic_synapses']} plastic synapses, ours "
                         f"{ours['plastic_synapses']}: the layout does not match")
    cases = {"ours": lambda: rerun(ours), "bare": lambda: rerun(bare)}
    if nest_available():
        for variant in ("neurons", "static", "plastic"):
            cases[f"nest {variant}"] = (lambda v=variant: nest_run(v, projections, rates, args.seconds,
                                                                   float(spec.dt / b2.ms)))
    else:
        print("NEST is not installed (pip install nest-simulator, or .[bench]): NEST part skipped", flush=True)
    rounds = interleaved(cases, args.repeats)
    ours, bare = summary(ours, rounds.pop("ours")), summary(bare, rounds.pop("bare"))
    report = {"size": args.size, "seconds": args.seconds, "repeats": args.repeats, "matching": MATCHING,
              "ours": ours, "bare_brian2": bare, "nest": None}
    ours_loop = ours["loop_ns_per_plastic_synapse_step"]["min"]
    ours_classes = {name: v["min"] for name, v in ours["ns_per_plastic_synapse_step_by_class"].items()}
    bare_loop = bare["loop_ns_per_plastic_synapse_step"]["min"]
    print(f"ours: loop {ours_loop:.2f} ns per plastic synapse-step; plasticity {ours_classes['plasticity']:.2f}, "
          f"transmission {ours_classes['transmission']:.2f}, errors sent down {ours_classes['backprop_feedback']:.2f}",
          flush=True)
    print(f"bare Brian2 Urbanczik-Senn: loop {bare_loop:.2f} ns per plastic synapse-step "
          f"(median {bare['loop_ns_per_plastic_synapse_step']['median']:.2f}); ours / bare = "
          f"{ours_loop / bare_loop:.2f} (target <= 2); loop times are wall times, CPU share of a core in the reruns: "
          f"ours {ours['rerun_cpu_share']['median']:.2f}, bare {bare['rerun_cpu_share']['median']:.2f}", flush=True)
    report["ours_over_bare_loop"] = ours_loop / bare_loop
    if nest_available():
        import nest

        nest_part = nest_summary({v: rounds[f"nest {v}"] for v in ("neurons", "static", "plastic")},
                                 ours["steps"], ours["plastic_synapses"])
        nest_part["version"] = nest.__version__
        whole = nest_part["ns_per_plastic_synapse_step"]["min"]
        plasticity = nest_part["plasticity_ns_per_synapse_step"]["min"]
        transmission = nest_part["transmission_ns_per_synapse_step"]["min"]
        # NEST's figures are CPU times; ours are the loop's wall time, which a busy machine inflates (against us)
        report["nest"] = nest_part
        report["ratios"] = {
            "ours_loop_over_nest_simulation": ours_loop / whole,
            "ours_loop_cpu_estimate_over_nest_simulation": ours_loop * ours["rerun_cpu_share"]["median"] / whole,
            "ours_plasticity_over_nest_plasticity": ours_classes["plasticity"] / plasticity,
            "ours_synapse_code_over_nest_synapse_cost": sum(ours_classes[name] for name in SYNAPSE_CLASSES)
                                                        / (plasticity + transmission),
        }
        print(f"NEST {nest.__version__}: {whole:.2f} ns per plastic synapse-step (whole simulation, CPU; median "
              f"{nest_part['ns_per_plastic_synapse_step']['median']:.2f}), of which plasticity {plasticity:.2f} "
              f"and transmission {transmission:.2f}", flush=True)
        for name, ratio in report["ratios"].items():
            print(f"  {name}: {ratio:.3f} (target <= 0.1)", flush=True)
    print(f"done, {load_text()}")
    print(f"wrote {write_report(args.out, 'nest_peer', report)}")


if __name__ == "__main__":
    main()
