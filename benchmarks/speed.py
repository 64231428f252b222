"""Speed benchmark of brian_errorcircuits: simulation speed and cost per plastic synapse.

Run as ``python benchmarks/speed.py [--quick] [--out DIR] [--cold-cython]``.
Prints a table and writes ``speed.json`` into ``--out`` (default
``results/benchmarks/``); standalone build folders go to ``<out>/build/``.

Part 1, the default spiking network (layers (4, 10, 2), n_rep = n_err = 50,
dt 0.25 ms, 200 ms presentations, learning on), under Cython runtime and under
``cpp_standalone``.  Every call of :meth:`ErrorCircuit.run` builds (and in
standalone compiles) a fresh program, so per target:

* one warm-up run (same length as the short run): its wall time is reported
  as "first run incl. compile" (a fresh standalone build folder; for Cython
  the compile depends on what the Cython cache already holds, so the number
  of extension modules it compiled is reported with it);
* a long and a short timed run: speed = 1 / slope and per-run overhead =
  intercept of wall time against simulated time.  The simulation loop's own
  time (Brian2's ``_last_run_time`` in Cython, ``results/last_run_info.txt``
  in standalone) is recorded as a cross-check of the slope.

A Cython run whose code was not in the Cython cache yet (a new schedule length
changes the generated code, since TimedArray sizes are compiled in) is run a
second time, so that both timed runs see the same (cached) overhead.

Standalone uses one fixed build folder, so ``make`` can reuse objects of an
identical program (``ErrorCircuit.run`` collects the previous run's objects
first, so Brian2's generated names, and hence the sources, stay the same).

Part 2, the cost per plastic synapse and time step in ``cpp_standalone``:
rate mode networks (200, 400, 200) (160 000 plastic synapses) and
(200, 2, 598) (1 596 synapses), which have the same number of input units
(200) and area units (600), so they differ in plastic synapse count only (and
in how the 600 area units divide between hidden and output areas).  Cost =
difference of the loop time per step over the difference of synapse counts.
The runs are profiled (Brian2 ``profile=True``) to also time the synapse code
directly.  Full mode repeats this in spiking mode (the same layer sizes give
the same number of Poisson neurons in both networks, 100 000).
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import glob
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import brian2 as b2
import numpy as np

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "results" / "benchmarks"

DT = 0.25 * b2.ms
PRESENTATION = 200 * b2.ms
SETTLE = 50 * b2.ms
ETA = (5 * b2.Hz, 5 * b2.Hz)
SPIKING_LAYERS = (4, 10, 2)
N_REP = N_ERR = 50
BIG_LAYERS = (200, 400, 200)
SMALL_LAYERS = (200, 2, 598)
#: Context only, not measured here: the figure the benchmark brief gives for
#: Brian2's own two-compartment plastic (Urbanczik-Senn) example in cpp_standalone.
REFERENCE_NS_PER_SYNAPSE_STEP = 2.0

#: simulated seconds of each run (the warm-up has the short run's length)
SETTINGS = {
    "full": {
        "cython": {"short": 2.0, "long": 20.0},
        "cpp_standalone": {"short": 2.0, "long": 200.0},
        "synapse_s": {"rate": 1.0, "sampled": 0.4},
    },
    "quick": {
        "cython": {"short": 0.8, "long": 4.0},
        "cpp_standalone": {"short": 2.0, "long": 40.0},
        "synapse_s": {"rate": 0.4},
    },
}


# --------------------------------------------------------------------------- helpers
def spiking_spec(target: str) -> CircuitSpec:
    return CircuitSpec(layers=SPIKING_LAYERS, mode="sampled", eta=ETA, dt=DT, seed=0,
                       neuron=NeuronParams(n_rep=N_REP, n_err=N_ERR), target=target)


def presentations(seconds: float) -> int:
    return max(1, int(round(seconds / float(PRESENTATION / b2.second))))


def make_schedule(circuit: ErrorCircuit, seconds: float, rng: np.random.Generator):
    """Random inputs in [0, 1] and targets in (-0.8, 0.8), learning on."""
    n = presentations(seconds)
    n_in, n_out = circuit.spec.layers[0], circuit.spec.layers[-1]
    return circuit.block(rng.uniform(0, 1, (n, n_in)), rng.uniform(-0.8, 0.8, (n, n_out)),
                         learning=True, duration=PRESENTATION, settle=SETTLE)


def plastic_synapses(layers) -> int:
    return int(sum(a * b for a, b in zip(layers[:-1], layers[1:])))


def poisson_neurons(layers) -> int:
    return int(layers[0] * N_REP + sum(layers[1:]) * (N_REP + 2 * N_ERR))


def cython_cache_dir() -> str:
    from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir
    return get_cython_cache_dir()


@contextlib.contextmanager
def cython_probe():
    """Count and time the Cython extension modules this process compiles (not found in the cache).

    Wraps Brian2's CythonExtensionManager._load_module for the duration of the
    block; modules that other processes add to a shared cache are not counted.
    """
    from brian2.codegen.runtime.cython_rt.extension_manager import CythonExtensionManager as Manager

    original = Manager._load_module
    counts = {"compiled": 0, "compile_s": 0.0}

    @functools.wraps(original)
    def load_module(self, module_path, *args, **kwargs):
        if os.path.isfile(module_path):
            return original(self, module_path, *args, **kwargs)
        start = time.perf_counter()
        try:
            return original(self, module_path, *args, **kwargs)
        finally:
            counts["compiled"] += 1
            counts["compile_s"] += time.perf_counter() - start

    Manager._load_module = load_module
    try:
        yield counts
    finally:
        Manager._load_module = original


def fit_line(runs, minus_compile=False):
    """Slope and intercept of wall time (optionally minus make time) against simulated time."""
    sim = np.array([r["simulated_s"] for r in runs])
    wall = np.array([r["wall_s"] - ((r.get("make_s") or 0.0) if minus_compile else 0.0) for r in runs])
    slope, intercept = np.polyfit(sim, wall, 1)
    return float(slope), float(intercept)


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _descends_from(pid: int, root: int) -> bool:
    for _ in range(64):
        if pid == root:
            return True
        if pid <= 1:
            return False
        pid = _parent(pid)
    return False


class CompilerWatch:
    """Polls /proc for C/C++ compiler processes started by this process; remembers the most at once.

    Shows whether ``make`` stays within its ``-j`` limit (other users'
    compiles on the machine are not counted).
    """

    NAMES = ("cc1plus", "cc1")

    def __init__(self, period=0.2):
        self.period = period
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.wait(self.period):
            running = 0
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/comm") as f:
                        if f.read().strip() in self.NAMES:
                            running += _descends_from(int(pid), os.getpid())
                except (OSError, ValueError, IndexError):
                    pass
            self.most = max(self.most, running)

    def __enter__(self):
        if os.path.isdir("/proc"):
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@contextlib.contextmanager
def standalone_probe(profile: bool = False):
    """Time ``make`` and the binary inside ErrorCircuit.run; optionally profile the run.

    Wraps methods of Brian2's CPPStandaloneDevice for the duration of the
    block (restored afterwards); the library itself is not changed.
    """
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice as Device

    timings = {}
    originals = {name: getattr(Device, name) for name in ("compile_source", "run", "network_run")}

    def timed(name):
        original = originals[name]

        @functools.wraps(original)
        def wrapper(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    @functools.wraps(originals["network_run"])
    def profiled_network_run(self, *args, **kwargs):
        if kwargs.get("profile") is None:
            kwargs["profile"] = True
        return originals["network_run"](self, *args, **kwargs)

    original_run = originals["run"]

    @functools.wraps(original_run)
    def run_binary(self, *args, **kwargs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        try:
            return original_run(self, *args, **kwargs)
        finally:
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            timings["run"] = timings.get("run", 0.0) + wall
            timings["binary_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    Device.compile_source = timed("compile_source")
    Device.run = run_binary
    if profile:
        Device.network_run = profiled_network_run
    try:
        yield timings
    finally:
        for name, method in originals.items():
            setattr(Device, name, method)


def read_standalone_results(build_dir):
    """Loop time (s) and completed fraction, and profiling info {codeobject: s} if any."""
    results = os.path.join(build_dir, "results")
    with open(os.path.join(results, "last_run_info.txt")) as f:
        loop, fraction = (float(v) for v in f.read().split())
    profile = {}
    path = os.path.join(results, "profiling_info.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    profile[parts[0]] = float(parts[1])
    return loop, fraction, profile


def build_facts(build_dir, since: float) -> dict:
    """How many objects make (re)compiled since ``since``, of how many sources."""
    objects = [p for p in glob.glob(os.path.join(build_dir, "**", "*.o"), recursive=True)]
    recompiled = sum(os.path.getmtime(p) >= since for p in objects)
    sources = None
    makefile = os.path.join(build_dir, "makefile")
    if os.path.exists(makefile):
        with open(makefile) as f:
            for line in f:
                if line.startswith("SRCS ="):
                    sources = len(line.split("=", 1)[1].split())
                    break
    return {"objects_compiled": int(recompiled), "sources": sources}


# --------------------------------------------------------------------------- one run
def measure(circuit: ErrorCircuit, seconds: float, rng, *, label: str, profile: bool = False,
            log=print) -> dict:
    """Run one schedule of ``seconds`` simulated time and return its timings."""
    schedule = make_schedule(circuit, seconds, rng)
    target = circuit.spec.target
    record = {"label": label, "presentations": len(schedule),
              "simulated_s": float(schedule.total_time / b2.second)}
    if target == "cpp_standalone":
        since = time.time() - 1.0  # mtime granularity margin; nothing is built in that second
        with CompilerWatch() as watch, standalone_probe(profile=profile) as timings:
            result = circuit.run(schedule)
        loop, fraction, prof = read_standalone_results(circuit.build_dir)
        record.update(
            wall_s=result.wall_time, loop_s=loop, completed_fraction=fraction,
            make_s=timings.get("compile_source"), binary_s=timings.get("run"),
            **build_facts(circuit.build_dir, since),
            most_compilers_at_once=watch.most,
            make_args=" ".join(b2.prefs.devices.cpp_standalone.extra_make_args_unix),
        )
        record["python_side_s"] = record["wall_s"] - (record["make_s"] or 0) - (record["binary_s"] or 0)
        if record["binary_s"] and "binary_cpu_s" in timings:
            # below 1: the binary did not get a whole core (the machine was busy)
            record["cpu_share"] = timings["binary_cpu_s"] / record["binary_s"]
        if prof:
            record["profile_s"] = prof
    else:
        cpu = time.process_time()
        with cython_probe() as compiled:
            result = circuit.run(schedule)
        cpu = time.process_time() - cpu
        record.update(wall_s=result.wall_time, loop_s=float(b2.get_device()._last_run_time),
                      cython_modules_compiled=compiled["compiled"], cython_compile_s=compiled["compile_s"])
        if not record["cython_modules_compiled"]:
            # below 1: the run did not get a whole core (the machine was busy)
            record["cpu_share"] = cpu / record["wall_s"]
    record["outside_loop_s"] = record["wall_s"] - record["loop_s"]
    record["weights_finite"] = bool(all(np.isfinite(W).all() for W in result.weights_after))
    extra = ""
    if "make_s" in record:
        extra = (f", make {record['make_s']:.1f} s ({record['objects_compiled']}/{record['sources']} "
                 f"objects compiled, <= {record['most_compilers_at_once']} compilers at once)")
    elif record.get("cython_modules_compiled"):
        extra = (f", {record['cython_modules_compiled']} Cython modules compiled "
                 f"({record['cython_compile_s']:.1f} s)")
    if "cpu_share" in record:
        extra += f", cpu share {record['cpu_share']:.2f}"
    log(f"  {label:<28s} {record['simulated_s']:7.1f} s simulated: wall {record['wall_s']:7.2f} s, "
        f"loop {record['loop_s']:6.2f} s{extra}")
    return record


# --------------------------------------------------------------------------- part 1
def bench_target(target: str, settings: dict, out: Path, rng, log=print, cold_cython=False) -> dict:
    lengths = settings[target]
    build_dir = None
    if target == "cpp_standalone":
        build_dir = out / "build" / "standalone_spiking"
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
    circuit = ErrorCircuit(spiking_spec(target), build_dir=str(build_dir) if build_dir else None)
    standalone = target == "cpp_standalone"
    log(f"[{target}] spiking {SPIKING_LAYERS}, n_rep = n_err = {N_REP}")
    warmup = measure(circuit, lengths["short"], rng, label="warm-up (incl. compile)", log=log)
    timed, discarded = [], []
    for which in ("long", "short"):
        record = measure(circuit, lengths[which], rng, label=which, log=log)
        if record.get("cython_modules_compiled"):
            discarded.append(record)  # compiled new code: repeat with the cache warm
            record = measure(circuit, lengths[which], rng, label=which + " (repeat, cached)", log=log)
        timed.append(record)
    slope, intercept = fit_line(timed)
    slope_nc, intercept_nc = fit_line(timed, minus_compile=True)
    entry = {
        "first_run_incl_compile_s": warmup["wall_s"],
        "speed_sim_s_per_wall_s": 1.0 / slope if slope > 0 else None,
        "per_run_overhead_s": intercept,
        "speed_excl_compile_sim_s_per_wall_s": 1.0 / slope_nc if slope_nc > 0 else None,
        "per_run_overhead_excl_compile_s": intercept_nc,
        "mean_outside_loop_s": float(np.mean([r["outside_loop_s"] for r in timed])),
        "loop_speed_sim_s_per_wall_s": sum(r["simulated_s"] for r in timed) / sum(r["loop_s"] for r in timed),
        "runs": {"warmup": warmup, "timed": timed, "discarded_compiling": discarded},
    }
    if target == "cython":
        entry["cython_cache"] = cython_cache_dir()
        entry["cython_cache_cold"] = bool(cold_cython)
        entry["warmup_cython_modules_compiled"] = warmup["cython_modules_compiled"]
    if standalone:
        entry["build_dir"] = str(build_dir)
        entry["first_make_s"] = warmup["make_s"]
        entry["note"] = ("the program repeats the previous one except for schedule length and seed "
                         "(make reuses unchanged objects)")
    return entry


# --------------------------------------------------------------------------- part 2
def is_plastic_codeobject(name: str) -> str | None:
    """'update' / 'sum' for code objects of the plastic projections ('<source>_to_<target>'), else None.

    Spike-to-trace synapses ('..._spikes_trace') and group code objects are not plastic projections.
    """
    if "_to_" not in name or "_spikes" in name or name.startswith(("after_run", "before_run")):
        return None
    if name.endswith("_stateupdater_codeobject"):
        return "update"
    if "_summed_variable_" in name:
        return "sum"
    return None


CALLS = ("tanh", "exp", "log", "input_rates", "target_rates", "learning_on", "target_on", "averaging")


def calls_in_synapse_loops(build_dir, names) -> dict:
    """Function calls inside the per-synapse loops of the plastic code objects (generated C++)."""
    found = {}
    for name in names:
        path = os.path.join(build_dir, "code_objects", name + ".cpp")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            code = f.read()
        start = code.find("// vector code")
        if start < 0:
            continue
        end = code.find("\n    }", start)
        loop = code[start:end if end > 0 else None]
        for call in CALLS:
            count = len(re.findall(rf"\b{call}\(", loop))
            if count:
                found.setdefault(call, []).append(name)
    return {call: sorted(codeobjects) for call, codeobjects in found.items()}


def bench_synapses(mode: str, seconds: float, out: Path, rng, log=print) -> dict:
    build_dir = out / "build" / f"standalone_synapses_{mode}"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    log(f"[cpp_standalone, {mode} mode] plastic synapse cost, {seconds} s simulated, profiled")
    nets = {}
    for name, layers in (("big", BIG_LAYERS), ("small", SMALL_LAYERS)):
        spec = CircuitSpec(layers=layers, mode=mode, eta=(1 * b2.Hz, 1 * b2.Hz), dt=DT, seed=0,
                           neuron=NeuronParams(n_rep=N_REP, n_err=N_ERR), target="cpp_standalone")
        circuit = ErrorCircuit(spec, build_dir=str(build_dir))
        record = measure(circuit, seconds, rng, label=f"{name} {layers}", profile=True, log=log)
        steps = int(round(record["simulated_s"] / float(DT / b2.second)))
        synapses = plastic_synapses(layers)
        prof = record.get("profile_s", {})
        update = sum(t for k, t in prof.items() if is_plastic_codeobject(k) == "update")
        summed = sum(t for k, t in prof.items() if is_plastic_codeobject(k) == "sum")
        passes = sum(1 for k in prof if is_plastic_codeobject(k))
        # synapses each summed-variable code object loops over (one pass per step)
        label = getattr(spec, "label", lambda k: "input" if k == 0 else f"area{k}")
        size = {f"{label(k - 1)}_to_{label(k)}": layers[k - 1] * layers[k] for k in range(1, len(layers))}
        summed_passes = sum(size.get(k.split("_summed_variable_")[0], 0)
                            for k in prof if is_plastic_codeobject(k) == "sum")
        nets[name] = {
            "layers": list(layers), "plastic_synapses": synapses, "steps": steps,
            "area_units": int(sum(layers[1:])), "input_units": int(layers[0]),
            "poisson_neurons": poisson_neurons(layers) if mode == "sampled" else 0,
            "loop_per_step_us": record["loop_s"] / steps * 1e6,
            "plastic_code_per_step_us": (update + summed) / steps * 1e6 if prof else None,
            "plastic_code_ns_per_synapse_step": (update + summed) / (steps * synapses) * 1e9 if prof else None,
            "update_ns_per_synapse_step": update / (steps * synapses) * 1e9 if prof else None,
            "summed_ns_per_synapse_pass": summed / (steps * summed_passes) * 1e9 if summed_passes else None,
            "summed_passes_per_step": summed_passes,
            "plastic_codeobjects_profiled": passes,
            "profiled_total_per_step_us": sum(prof.values()) / steps * 1e6 if prof else None,
            "calls_per_synapse": calls_in_synapse_loops(build_dir, [k for k in prof if is_plastic_codeobject(k)]),
            "run": record,
        }
    big, small = nets["big"], nets["small"]
    ns = ((big["loop_per_step_us"] - small["loop_per_step_us"]) * 1e3
          / (big["plastic_synapses"] - small["plastic_synapses"]))
    return {"mode": mode, "ns_per_synapse_step": ns, "networks": nets, "build_dir": str(build_dir)}


# --------------------------------------------------------------------------- facts, table
def machine_facts() -> dict:
    facts = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        "brian2": b2.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
    try:
        import Cython
        facts["cython"] = Cython.__version__
    except ImportError:
        facts["cython"] = None
    try:
        with open("/proc/cpuinfo") as f:
            facts["cpu_model"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), None)
    except OSError:
        facts["cpu_model"] = None
    try:
        facts["cxx"] = subprocess.run(["c++", "--version"], capture_output=True, text=True,
                                      timeout=10).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        facts["cxx"] = None
    facts["cxx_flags"] = " ".join(b2.prefs.codegen.cpp.extra_compile_args_gcc)
    facts["library_commit"] = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--", "brian_errorcircuits")
    facts["library_uncommitted_changes"] = None if dirty is None else bool(dirty)
    return facts


def _git(*args):
    try:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def fmt(value, spec=".2f", none="-"):
    return none if value is None else format(value, spec)


def table(report: dict) -> str:
    lines = []
    m = report["machine"]
    lines.append(f"machine: {m['cpu_count']} CPUs ({m['cpus_usable']} usable, {m['cpu_model']}), "
                 f"Python {m['python']}, Brian2 {m['brian2']}, Cython {m['cython']}, numpy {m['numpy']}, "
                 f"{m['cxx']}")
    lines.append(f"library: commit {m['library_commit']}"
                 + (" + uncommitted changes" if m["library_uncommitted_changes"] else ""))
    lines.append(f"load average at start / end: {report['loadavg_start']} / {report['loadavg_end']}; "
                 f"lowest cpu share of a run with >= 1 s loop: {fmt(report.get('lowest_cpu_share'))}")
    lines.append("(cpu share = CPU time / wall time of a run; below 1 the run waited for a core. It cannot "
                 "see slowdowns from neighbours on shared caches or on the host, so compare repeated runs.)")
    if report.get("lowest_cpu_share") is not None and report["lowest_cpu_share"] < 0.9:
        lines.append("WARNING: some runs got less than 90% of a core (busy machine): timings are noisy")
    part = report["spiking_default"]
    net = part["network"]
    lines.append("")
    lines.append(f"1. default spiking network {tuple(net['layers'])}, n_rep = n_err = {net['n_rep']}, "
                 f"dt {net['dt_ms']} ms, {net['presentation_ms']} ms presentations, learning on "
                 f"({net['poisson_neurons']} Poisson neurons, {net['plastic_synapses']} plastic synapses)")
    lines.append("   columns: first = wall time of the first run incl. compile; overhead = intercept, speed = "
                 "1/slope of wall time vs simulated time (long and short run); -make = the same with "
                 "make time subtracted; loop = simulation loop alone")
    head = ("target", "first (s)", "overhead (s)", "speed", "overhead-make", "speed-make", "loop speed")
    lines.append("   " + f"{head[0]:<16s}" + "".join(f"{h:>14s}" for h in head[1:]))
    lines.append("   " + f"{'':<16s}" + "".join(f"{h:>14s}" for h in ("", "", "(sim s/s)", "(s)", "(sim s/s)", "(sim s/s)")))
    for target in ("cython", "cpp_standalone"):
        e = part[target]
        cells = (fmt(e["first_run_incl_compile_s"], ".1f"), fmt(e["per_run_overhead_s"], ".2f"),
                 fmt(e["speed_sim_s_per_wall_s"], ".2f"), fmt(e["per_run_overhead_excl_compile_s"], ".2f"),
                 fmt(e["speed_excl_compile_sim_s_per_wall_s"], ".2f"), fmt(e["loop_speed_sim_s_per_wall_s"], ".2f"))
        lines.append("   " + f"{target:<16s}" + "".join(f"{c:>14s}" for c in cells))
    cy, sa = part["cython"], part["cpp_standalone"]
    lines.append(f"   standalone / cython speed: {fmt(part['standalone_over_cython_speed'], '.1f')}x (slope), "
                 f"{fmt(part['standalone_over_cython_speed_excl_compile'], '.1f')}x (slope, make subtracted), "
                 f"{fmt(part['standalone_over_cython_loop_speed'], '.1f')}x (loop)")
    lines.append(f"   cython warm-up compiled {cy['warmup_cython_modules_compiled']} extension modules "
                 f"(cache {'fresh' if cy['cython_cache_cold'] else 'shared, as found'}: {cy['cython_cache']})")
    w = sa["runs"]["warmup"]
    lines.append(f"   standalone first build: make {fmt(sa['first_make_s'], '.1f')} s of "
                 f"{fmt(w['wall_s'], '.1f')} s ({w['objects_compiled']} objects, {w['make_args']}, "
                 f"<= {w['most_compilers_at_once']} compilers at once)")
    t = sa["runs"]["timed"]
    lines.append("   standalone timed runs: "
                 + "; ".join(f"{r['simulated_s']:.0f} s sim: make {fmt(r['make_s'], '.1f')} s, "
                             f"{r['objects_compiled']}/{r['sources']} objects recompiled" for r in t))
    lines.append("")
    lines.append("2. cost per plastic synapse and time step, cpp_standalone (difference of loop time per step)")
    lines.append(f"   {'mode':<8s}{'network':<18s}{'synapses':>9s}{'loop/step':>11s}"
                 f"{'plastic code':>14s}{'ns/syn-step':>13s}")
    lines.append(f"   {'':<8s}{'':<18s}{'':>9s}{'(us)':>11s}{'(us/step)':>14s}{'(profiled)':>13s}")
    for entry in report["plastic_synapse_cost"]["measurements"]:
        for name in ("big", "small"):
            n = entry["networks"][name]
            lines.append(f"   {entry['mode']:<8s}{str(tuple(n['layers'])):<18s}{n['plastic_synapses']:>9d}"
                         f"{n['loop_per_step_us']:>11.1f}{fmt(n['plastic_code_per_step_us'], '.1f'):>14s}"
                         f"{fmt(n['plastic_code_ns_per_synapse_step'], '.2f'):>13s}")
        nb = entry["networks"]["big"]
        calls = nb["calls_per_synapse"]
        if calls:
            lines.append(f"   {entry['mode']}: function calls evaluated once per synapse and step in the plastic "
                         "synapse loops: " + ", ".join(f"{c} ({len(v)} code objects)" for c, v in calls.items()))
        lines.append(f"   -> {entry['mode']}: {entry['ns_per_synapse_step']:.2f} ns per plastic synapse-step "
                     f"(difference); profiled in big net: Euler update {fmt(nb['update_ns_per_synapse_step'])} "
                     f"ns/synapse-step, summed variables {fmt(nb['summed_ns_per_synapse_pass'])} ns/synapse-pass")
    ref = report["plastic_synapse_cost"]
    lines.append(f"   context (not measured here): ~{ref['reference_ns_per_synapse_step']:.0f} ns per "
                 "synapse-step for Brian2's Urbanczik-Senn two-compartment plastic neuron in standalone")
    lines.append(f"   note: {ref['note_summed']}")
    lines.append("")
    lines.append(f"total benchmark time: {report['elapsed_s']:.0f} s ({report['mode']})")
    return "\n".join(lines)


def _all_runs(report: dict):
    for target in ("cython", "cpp_standalone"):
        entry = report["spiking_default"][target]
        yield entry["runs"]["warmup"]
        yield from entry["runs"]["timed"]
    for measurement in report["plastic_synapse_cost"]["measurements"]:
        for net in measurement["networks"].values():
            yield net["run"]


# --------------------------------------------------------------------------- main
def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, rate mode only in part 2 (~2 min)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default results/benchmarks/)")
    parser.add_argument("--cold-cython", action="store_true",
                        help="use a fresh Cython cache under OUT/build (measures a cold Cython compile; "
                             "adds about 2 minutes on 2 cores)")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    settings = SETTINGS[mode]
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    b2.BrianLogger.log_level_warn()
    rng = np.random.default_rng(12345)
    start = time.perf_counter()
    report = {
        "benchmark": "brian_errorcircuits speed", "mode": mode,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_facts(), "loadavg_start": [round(v, 2) for v in os.getloadavg()],
        "settings": settings,
    }
    print(f"brian_errorcircuits speed benchmark ({mode}); output: {out}", flush=True)

    cache_pref = b2.prefs.codegen.runtime.cython.cache_dir
    if args.cold_cython:
        cold = out / "build" / "cython_cache"
        shutil.rmtree(cold, ignore_errors=True)
        cold.mkdir(parents=True)
        b2.prefs.codegen.runtime.cython.cache_dir = str(cold)
    try:
        cython = bench_target("cython", settings, out, rng, cold_cython=args.cold_cython)
    finally:
        b2.prefs.codegen.runtime.cython.cache_dir = cache_pref
    standalone = bench_target("cpp_standalone", settings, out, rng)
    ratio = lambda key: (standalone[key] / cython[key]) if standalone[key] and cython[key] else None
    report["spiking_default"] = {
        "network": {"layers": list(SPIKING_LAYERS), "n_rep": N_REP, "n_err": N_ERR,
                    "dt_ms": float(DT / b2.ms), "presentation_ms": float(PRESENTATION / b2.ms),
                    "settle_ms": float(SETTLE / b2.ms), "learning": True, "eta_hz": [5.0, 5.0],
                    "poisson_neurons": poisson_neurons(SPIKING_LAYERS),
                    "plastic_synapses": plastic_synapses(SPIKING_LAYERS)},
        "method": ("speed = 1/slope, per-run overhead = intercept of wall time (ErrorCircuit.run, "
                   "incl. network construction and compile) against simulated time over a long and a "
                   "short run; loop speed = simulated time / time of the simulation loop alone"),
        "cython": cython, "cpp_standalone": standalone,
        "standalone_over_cython_speed": ratio("speed_sim_s_per_wall_s"),
        "standalone_over_cython_speed_excl_compile": ratio("speed_excl_compile_sim_s_per_wall_s"),
        "standalone_over_cython_loop_speed": ratio("loop_speed_sim_s_per_wall_s"),
    }

    measurements = [bench_synapses(m, seconds, out, rng) for m, seconds in settings["synapse_s"].items()]
    report["plastic_synapse_cost"] = {
        "method": (f"loop time per step of {BIG_LAYERS} minus that of {SMALL_LAYERS} (same input and "
                   "area unit counts), over the difference in plastic synapse count; both runs "
                   "profiled (profile=True), which adds the same per-code-object timer cost to both"),
        "measurements": measurements,
        "reference_ns_per_synapse_step": REFERENCE_NS_PER_SYNAPSE_STEP,
        "reference_note": ("context, not a measurement: ~2 ns per synapse-step for Brian2's own "
                           "two-compartment plastic (Urbanczik-Senn) neuron in cpp_standalone"),
        "note_summed": ("each plastic synapse here also computes summed variables every step: the basal "
                        "forward sum (v_bas) and, in backprop feedback mode for synapses into areas above "
                        "the first, the W^T top-down sum (v_td) - so a synapse-step is one Euler update "
                        "plus 1 or 2 summed-variable passes"),
    }
    report["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    # runs of a second or more: shorter ones are dominated by start-up and file I/O
    shares = [r["cpu_share"] for r in _all_runs(report) if "cpu_share" in r and r["loop_s"] >= 1.0]
    report["lowest_cpu_share"] = min(shares) if shares else None
    report["elapsed_s"] = time.perf_counter() - start
    text = table(report)
    report["table"] = text.splitlines()
    path = out / "speed.json"
    with open(path, "w") as f:
        json.dump(report, f, indent=2, default=float)
    print()
    print(text)
    print(f"\nwrote {path}")
    return report


if __name__ == "__main__":
    main()
