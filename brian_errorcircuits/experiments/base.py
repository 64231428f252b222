"""What every experiment shares: parameters from the command line, output folder, summary."""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import math
import numbers
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ..files import atomic_path, provenance, write_json
from ..plotting import footnote
from ..spec import MODES, SpecError

#: Defaults every spiking training experiment shares: learning rate, timing, error-neuron gain.
SPIKING_TRAINING = {
    "eta_hz": 5.0,
    "duration_ms": 200.0,
    "settle_ms": 50.0,
    "dt_ms": 0.25,
    "error_rate_hz": 400.0,
}


#: Options of the original's full model (Max et al. 2026): all off by default.
FULL_MODEL = {
    "hidden_error_fraction": 1.0,  # error neurons per representation neuron in hidden areas (n_E / n_R)
    "lateral_noise": 0.0,  # WIP and BPI: identity + U(-noise, noise); the original: 0.3
    "eta_lateral_hz": 0.0,  # lateral matrices relax toward the identity at this rate
    "feedback_noise": 0.0,  # backprop feedback (W + Xi)^T, Xi ~ U(-noise, noise); the original: 0.5
    "slope_spread_rep": 0.0,  # per-neuron slope of phi ~ N(1, spread), representation neurons
    "offset_spread_rep": 0.0,  # per-neuron offset of phi ~ N(0, spread), representation neurons
    "slope_spread_err": 0.0,
    "offset_spread_err": 0.0,
    "initial_voltage_spread": 0.0,  # somatic voltages start N(0, spread); the original: 1
    # error rates from the dendritic fixed point (the original) or, false, from the error soma: stable
    # when trained weights lift the error loop's gain above 1 (docs/model.md, "Stability of the error loop")
    "prospective_errors": True,
}


#: Defaults of the experiments that save their trained circuit: ``save_spikes`` keeps the recorded spikes too.
SAVING = {"save_spikes": False}


def full_model_fields(params: dict, layers, **neuron) -> dict:
    """CircuitSpec fields of the :data:`FULL_MODEL` options in ``params`` for a circuit of ``layers``;
    ``neuron`` holds the experiment's other :class:`~brian_errorcircuits.NeuronParams` values."""
    import brian2 as b2

    from ..spec import Heterogeneity, NeuronParams

    hidden = [max(1, round(params["hidden_error_fraction"] * n)) for n in layers[1:-1]]
    return dict(
        error_sizes=(*hidden, layers[-1]), lateral_noise=params["lateral_noise"],
        eta_lateral=params["eta_lateral_hz"] * b2.Hz, feedback_noise=params["feedback_noise"],
        heterogeneity_rep=Heterogeneity(params["slope_spread_rep"], params["offset_spread_rep"]),
        heterogeneity_err=Heterogeneity(params["slope_spread_err"], params["offset_spread_err"]),
        initial_voltage_spread=params["initial_voltage_spread"],
        neuron=NeuronParams(prospective_errors=params["prospective_errors"], **neuron),
    )


def lr_factor(params: dict, epoch: int) -> float:
    """Learning-rate factor of training epoch ``epoch`` (1, 2, ...): 1 / (1 + lr_decay (epoch - 1)).

    Annealing shrinks the noise that online updates from spiking error
    signals leave in the weights; ``lr_decay`` = 0 keeps the rate constant.
    """
    if params["lr_decay"] < 0:
        raise SpecError(f"lr_decay={params['lr_decay']}: must be >= 0")
    return 1.0 / (1.0 + params["lr_decay"] * (epoch - 1))


def neuron_level_circuit(spec, neurons_per_unit: int, build_dir=None, connectivity="dense"):
    """The circuit of the unit-level ``spec``: in neuron-level ``spiking`` mode every unit becomes
    ``neurons_per_unit`` neurons with tied weights, wired as ``connectivity`` says
    (:func:`~brian_errorcircuits.populations.neuron_level`); in ``rate`` and ``sampled`` mode the
    unit-level circuit itself.  ``build_dir``: its ``cpp_standalone`` build folder (circuits of one
    shape can share one, so that later builds recompile only what changed)."""
    from ..circuit import ErrorCircuit
    from ..populations import neuron_level

    if spec.mode == "spiking":
        spec, arrays = neuron_level(spec, neurons_per_unit, connectivity=connectivity)
        return ErrorCircuit.from_arrays(spec, arrays, build_dir)
    return ErrorCircuit(spec, build_dir=build_dir)


def neurons_per_unit(params: dict, key: str = "neurons_per_unit") -> int:
    """Neurons per unit of an experiment's circuit: ``params[key]`` in neuron-level ``spiking`` mode,
    else 1 (rate and sampled circuits are unit level)."""
    return params[key] if params["mode"] == "spiking" else 1


def presentation_timing(params: dict, prefix: str = "") -> dict:
    """``duration`` and ``settle`` of every presentation, from ``<prefix>duration_ms`` /
    ``<prefix>settle_ms`` (e.g. ``prefix="test_"`` for a test run with presentations of its own)."""
    import brian2 as b2

    return dict(duration=params[f"{prefix}duration_ms"] * b2.ms, settle=params[f"{prefix}settle_ms"] * b2.ms)


#: Per parameter type (the type of its default): the values it accepts, and their description in errors.
KINDS = {bool: (bool, "true or false"), int: (numbers.Integral, "a whole number"),
         float: (numbers.Real, "a number"), str: (str, "text")}


def parse_value(key: str, text: str, default):
    """Convert ``text`` to the type of ``default`` (tuples as ``4,10,2``, without empty elements)."""
    def convert(element: str, like):
        if isinstance(like, bool):
            if element.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(element)
            return element.lower() in ("true", "1", "yes")
        return type(like)(element)

    try:
        if isinstance(default, tuple):
            elements = [element.strip() for element in text.split(",")]
            if "" in elements:
                raise ValueError("empty list element")
            return tuple(convert(element, default[0]) for element in elements)
        return convert(text, default)
    except ValueError:
        if isinstance(default, tuple):
            expected = f"comma-separated values, none empty, like {','.join(map(str, default))}"
        else:
            expected = f"{KINDS[type(default)][1]}, like {default!r}"
        raise SpecError(f"{key}={text}: expected {expected}") from None


def parameters(defaults: dict, overrides: list[str] = (), **named) -> dict:
    """Defaults updated by ``key=value`` strings and keyword values (text converted like ``--set``), checked.

    Unknown keys and values that cannot be meant (see :func:`check_values`)
    raise :class:`SpecError` naming the parameter.
    """
    params = dict(defaults)
    for item in overrides:
        if "=" not in item:
            raise SpecError(f"--set {item!r}: expected key=value")
        key, text = item.split("=", 1)
        if key not in defaults:
            raise SpecError(f"--set {key}: unknown parameter; known: {', '.join(sorted(defaults))}")
        params[key] = parse_value(key, text, defaults[key])
    for key, value in named.items():
        if value is not None:
            if key not in defaults:
                raise SpecError(f"--{key} does not apply to this experiment")
            params[key] = parse_value(key, value, defaults[key]) if isinstance(value, str) else value
    check_values(params, defaults)
    return params


def counts_samples_or_neurons(key: str) -> bool:
    """Whether whole-number parameter ``key`` counts samples or neurons (``n_train``,
    ``targeting_n_test``, ``neurons_per_unit``): with none of them there is nothing to run."""
    return key.startswith("n_") or "_n_" in key or key.endswith("_per_unit")


def check_values(params: dict, defaults: dict) -> None:
    """Refuse values that cannot be meant, before anything is simulated, by the type of each default.

    A value must have its default's type (a float parameter takes whole
    numbers too; a tuple's elements are checked one by one); whole numbers
    must be >= 0, and >= 1 where they count samples or neurons
    (:func:`counts_samples_or_neurons`); numbers must be finite; text must not be empty.
    Raises :class:`SpecError` naming the parameter.
    """
    for key, default in defaults.items():
        value = params[key]
        if isinstance(default, tuple):
            if not isinstance(value, (tuple, list)):
                raise SpecError(f"{key}={value!r}: expected a sequence like {default!r}")
            kind, elements = type(default[0]), value
        else:
            kind, elements = type(default), (value,)
        for element in elements:
            problem = _value_problem(key, element, kind)
            if problem:
                raise SpecError(f"{key}={value!r}: {problem}")


def _value_problem(key: str, value, kind: type) -> str | None:
    """Why ``value`` cannot be meant for parameter ``key`` of type ``kind``; None if it can."""
    accepted, description = KINDS[kind]
    if not isinstance(value, accepted) or (kind is not bool and isinstance(value, bool)):
        return f"expected {description}"
    minimum = 1 if counts_samples_or_neurons(key) else 0
    if kind is int and value < minimum:
        return f"must be >= {minimum}" + (" (it counts samples or neurons)" if minimum else "")
    if kind is float and not math.isfinite(value):
        return "must be finite"
    if kind is str and not value.strip():
        return "must not be empty"
    return None


def output_dir(name: str, params: dict, out: str | None = None) -> Path:
    """``out`` or ``results/<name>-<hash of params>``, created."""
    if out is not None and not str(out).strip():
        raise SpecError("--out is empty: name an output folder, or omit --out for results/<name>-<hash>")
    if out is None:
        digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:8]
        out = Path("results") / f"{name}-{digest}"
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return path


#: File that marks an output folder whose run has not finished (and locks it while the run lives).
INCOMPLETE = "INCOMPLETE"

#: What a previous run left in its output folder and a new run removes first (``runs/``, ``build/`` stay).
RESULT_FILES = ("params.json", "summary.json", "report.md", "*.png", "circuit.npz", "spikes.pkl", ".*.tmp*")


@contextmanager
def claimed(out: Path):
    """Hold output folder ``out`` for one run: marked incomplete until the run ends well.

    First the file ``INCOMPLETE`` (this process id and start time) is written
    and locked, so a second run into the same folder, and with it into the same
    ``cpp_standalone`` build folder, is refused with :class:`SpecError` while
    this one lives (the kernel drops the lock when a process dies, however it
    dies).  If the folder holds a previous run's results (``params.json`` or an
    ``INCOMPLETE`` of its own), those files (:data:`RESULT_FILES`) are removed,
    so ``params.json`` and ``summary.json`` always belong to the same run.  The
    marker is removed only when the body finishes; an exception, Ctrl-C, SIGTERM
    or ``kill -9`` leave it.
    """
    marker = out / INCOMPLETE
    previous_run = marker.exists() or (out / "params.json").exists()
    descriptor = _lock(marker)
    try:
        if previous_run:
            for pattern in RESULT_FILES:
                for stale in out.glob(pattern):
                    stale.unlink()
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"run in progress or interrupted: pid {os.getpid()}, started "
                             f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        yield
        marker.unlink()
    finally:
        os.close(descriptor)


def _lock(marker: Path) -> int:
    """An open, exclusively locked descriptor of ``marker`` (created if missing), or SpecError if a live run holds it."""
    while True:
        descriptor = os.open(marker, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = marker.read_text(encoding="utf-8", errors="replace").strip()
            os.close(descriptor)
            raise SpecError(f"--out {marker.parent}: another run writes into this folder ({holder}); "
                            "wait for it or choose another --out") from None
        try:
            if os.fstat(descriptor).st_ino == os.stat(marker).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)  # a finishing run removed the marker in between: lock the new one


def save_trained(out: Path, params: dict, circuit, result) -> None:
    """Keep a trained circuit, and on request its spikes, in output folder ``out``.

    Parameters
    ----------
    out : Path
        The output folder.
    params : dict
        The experiment's parameters; ``save_spikes`` (:data:`SAVING`) asks for the spikes.
    circuit : ErrorCircuit
        Saved as ``circuit.npz`` (``ErrorCircuit.load`` reads it).
    result : RunResult
        With ``save_spikes``: its recorded spikes, exported by ``analysis.to_neo`` and
        pickled as a ``neo.Block`` into ``spikes.pkl`` (``neo.io.PickleIO(path).read_block()``
        reads it; pickle needs nothing beyond neo, whereas Neo's NIX files need nixio and h5py).
    """
    circuit.save(out / "circuit.npz")
    if not params["save_spikes"]:
        return
    import neo

    from ..analysis import to_neo

    block = to_neo(result)
    with atomic_path(out / "spikes.pkl") as temporary:
        neo.io.PickleIO(str(temporary)).write_block(block)


def require_neo(params: dict) -> None:
    """SpecError before anything runs if ``save_spikes`` is asked for but the neo package is missing."""
    if not params.get("save_spikes"):
        return
    try:
        import neo  # noqa: F401
    except ImportError:
        raise SpecError("save_spikes=true writes the spikes as a Neo file and needs the neo package: "
                        "pip install neo (or the package's extra: pip install -e \".[neo]\")") from None


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", help="output folder (default: results/<name>-<hash>)")
    parser.add_argument("--seed", help="random seed (data, weights, spikes), a whole number >= 0")
    parser.add_argument("--mode", choices=MODES)
    parser.add_argument("--target", choices=("cython", "numpy", "cpp_standalone"),
                        help="Brian2 code generation target")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a parameter (repeatable); see `errorcircuits list -v`")
    parser.add_argument("--seeds", metavar="N", type=int,
                        help="run the experiment for N seeds (--seed, --seed + 1, ...) as one sweep: each seed "
                             "in <out>/seed-S, their numbers side by side in <out>/summary.json and seeds.png")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="experiments that sweep (depth-scaling, populations, heterogeneity, or any with "
                             "--seeds): run on the dask cluster at ADDRESS (tcp://host:8786) instead of a local one")
    parser.add_argument("--workers", metavar="N", type=int,
                        help="experiments that sweep: worker processes of the local cluster (default: one per "
                             "core; 0: one run after the other in this process)")
    parser.add_argument("--threads", metavar="N", type=int,
                        help="OpenMP threads of every cpp_standalone binary the run builds (default 1; with a "
                             "sweep, per worker: keep workers x N within the cores)")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of a parameter or table error instead of one line")


def use_threads(threads: int | None) -> None:
    """``--threads N``: standalone binaries built from now on, in this process and in the sweep
    workers it starts, run on N OpenMP threads (through :data:`~brian_errorcircuits.circuit.THREADS_ENV`)."""
    if threads is None:
        return
    if threads < 1:
        raise SpecError(f"--threads {threads}: expected a whole number >= 1")
    from ..circuit import THREADS_ENV

    os.environ[THREADS_ENV] = str(threads)


def mode_description(params: dict) -> str:
    """The mode an experiment ran in, for figures (e.g. 'spiking, 20 neurons per unit')."""
    mode = params.get("mode")
    per_unit = {"spiking": "neurons per unit", "sampled": "generators per neuron"}.get(mode)
    if per_unit and "neurons_per_unit" in params:
        return f"{mode}, {params['neurons_per_unit']} {per_unit}"
    return mode or "modes as labelled"


def seed_count(name: str, module, args) -> int | None:
    """``--seeds N`` of an experiment that runs one seed (None without it), checked before anything runs."""
    seeds = getattr(args, "seeds", None)
    if seeds is None:
        return None
    if getattr(module, "SWEEPS", False):
        raise SpecError(f"--seeds {seeds}: {name} sweeps its own seeds; use --set seeds={seeds}")
    if "seed" not in module.DEFAULTS:
        raise SpecError(f"--seeds {seeds}: {name} has no seed parameter")
    if seeds < 1:
        raise SpecError(f"--seeds {seeds}: expected a whole number >= 1")
    return seeds


def sweep_arguments(name: str, module, args, seeds: int | None = None) -> dict:
    """``{"cluster": Cluster}`` for an experiment that sweeps (``SWEEPS = True``, or ``seeds`` from
    :func:`seed_count`), from ``--scheduler`` and ``--workers``; ``{}`` for others, which refuse the
    two options with :class:`SpecError`."""
    from ..sweep import Cluster

    scheduler, workers = getattr(args, "scheduler", None), getattr(args, "workers", None)
    if not getattr(module, "SWEEPS", False) and seeds is None:
        if scheduler is not None or workers is not None:
            raise SpecError(f"--scheduler and --workers apply to experiments that sweep; {name} does not "
                            "(add --seeds N to run several seeds as a sweep)")
        return {}
    if scheduler is not None and not scheduler.strip():
        raise SpecError("--scheduler is empty: give a scheduler's address (tcp://host:8786) or omit it")
    if scheduler is not None and workers is not None:
        raise SpecError(f"--workers {workers} with --scheduler: the cluster at the scheduler brings its own workers")
    if workers is not None and workers < 0:
        raise SpecError(f"--workers {workers}: expected a whole number >= 0 (0: runs one after the other here)")
    return {"cluster": Cluster(scheduler, workers)}


def run(name: str, module, args) -> dict:
    """Run experiment ``module`` with parsed ``args``: params.json, summary.json, figures.

    Parameters are checked (and by the module's ``check(params)``, if it has
    one) before the output folder is touched; the folder is :func:`claimed` for the run.
    Experiments that sweep get ``cluster=`` (:func:`sweep_arguments`); ``--seeds N``
    runs the experiment once per seed (:func:`run_seeds`).
    """
    params = parameters(module.DEFAULTS, args.overrides, seed=args.seed, mode=args.mode, target=args.target)
    use_threads(getattr(args, "threads", None))
    seeds = seed_count(name, module, args)
    sweeping = sweep_arguments(name, module, args, seeds)
    if hasattr(module, "check"):
        module.check(params)
    require_neo(params)
    if seeds is not None:
        return run_seeds(name, params, seeds, output_dir(name, {**params, "seeds": seeds}, args.out), **sweeping)
    return run_in(name, module, params, output_dir(name, params, args.out), **sweeping)


def seeds_description(params: dict, seeds: int | None = None) -> str:
    """The seeds a run covers, for figures: 'seed 0', or 'seeds 0, 1' for ``seeds`` seeds from
    ``params['seed']`` (default: a sweeping experiment's own ``seeds`` parameter)."""
    count = seeds if seeds is not None else params.get("seeds")
    if "seed" not in params:
        return "seed -"
    if count is None:
        return f"seed {params['seed']}"
    return f"seeds {', '.join(str(params['seed'] + offset) for offset in range(count))}"


def run_in(name: str, module, params: dict, out: Path, **sweeping) -> dict:
    """Run experiment ``module`` with checked ``params`` into output folder ``out`` (:func:`claimed`)."""
    def body():
        with footnote(f"{name}, {mode_description(params)}, {seeds_description(params)}"):
            return module.run(params, out, **sweeping)

    return recorded_run(out, params, f"{name}: {module.QUESTION}\n  output: {out}", body)


def recorded_run(out: Path, recorded_params: dict, header: str, body) -> dict:
    """Claim ``out``, write ``recorded_params`` (with provenance) to params.json, print ``header``,
    and write the summary ``body()`` returns (with its wall time) to summary.json."""
    with claimed(out):
        write_json(out / "params.json", {**recorded_params, **provenance()})
        print(header, flush=True)
        start = time.perf_counter()
        summary = body()
        summary.setdefault("wall_time_s", time.perf_counter() - start)
        write_json(out / "summary.json", summary)
    print(f"  summary: {out / 'summary.json'}", flush=True)
    return summary


def run_one_seed(run: dict, scratch) -> dict:
    """One seed of :func:`run_seeds` (a sweep run): the experiment into ``run["out"]``, its summary."""
    from . import get

    out = Path(run["out"])
    out.mkdir(parents=True, exist_ok=True)
    return run_in(run["experiment"], get(run["experiment"]), run["params"], out)


def run_seeds(name: str, params: dict, seeds: int, out: Path, cluster=None) -> dict:
    """Experiment ``name`` for seeds ``params["seed"]`` .. + ``seeds`` - 1, one sweep run each.

    Each seed is a complete run of its own in ``out/seed-S`` (params, summary,
    figures); the sweep (``out/runs``, :func:`~brian_errorcircuits.sweep.run_sweep`)
    skips seeds already saved, so an interrupted command resumes.  ``out/summary.json``
    holds every seed's summary and, for each number every seed's summary has at
    its top level, the values per seed with their median, minimum and maximum;
    ``out/seeds.png`` draws them.
    """
    from ..sweep import Cluster, run_sweep
    from . import get

    cluster = cluster or Cluster()
    seed_values = [params["seed"] + offset for offset in range(seeds)]

    def body():
        runs = [{"experiment": name, "params": {**params, "seed": seed}, "out": str((out / f"seed-{seed}").resolve())}
                for seed in seed_values]
        sweep = run_sweep(run_one_seed, runs, out / "runs", scheduler=cluster.scheduler, workers=cluster.workers)
        sweep.raise_for_failures()
        over_seeds = numbers_over_seeds(sweep.results)
        for key, values in over_seeds.items():
            print(f"  {key}: median {values['median']:.6g} (min {values['min']:.6g}, max {values['max']:.6g}) "
                  f"over seeds {', '.join(map(str, seed_values))}", flush=True)
        with footnote(f"{name}, {mode_description(params)}, {seeds_description(params, seeds)}"):
            seeds_figure(over_seeds, seed_values, out / "seeds.png")
        return {"seeds": seed_values, "per_seed": dict(zip(map(str, seed_values), sweep.results)),
                "over_seeds": over_seeds, "sweep": sweep.record(cluster)}

    header = f"{name}: {get(name).QUESTION}\n  output: {out}\n  {seeds} seeds on {cluster.describe()}"
    return recorded_run(out, {**params, "seeds": seeds}, header, body)


#: Summary numbers that are bookkeeping, not results: left out of the comparison over seeds.
NOT_RESULTS = ("seed", "wall_time_s", "simulated_time_s")


def numbers_over_seeds(summaries: list) -> dict:
    """{key: {"values": per seed, "median", "min", "max"}} for every finite number that every summary
    has at its top level (booleans and :data:`NOT_RESULTS` left out)."""
    import numpy as np

    def is_number(value):
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)

    keys = [key for key in summaries[0]
            if key not in NOT_RESULTS and all(is_number(summary.get(key)) for summary in summaries)]
    per_key = {key: [float(summary[key]) for summary in summaries] for key in keys}
    return {key: {"values": values, "median": float(np.median(values)), "min": min(values), "max": max(values)}
            for key, values in per_key.items()}


def seeds_figure(over_seeds: dict, seeds: list, path: Path) -> None:
    """One panel per number of :func:`numbers_over_seeds`: each seed's value and the median."""
    from ..plotting import pyplot, save_figure

    if not over_seeds:
        return
    plt = pyplot()
    columns = min(4, len(over_seeds))
    rows = -(-len(over_seeds) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.6 * rows), squeeze=False)
    for ax, (key, values) in zip(axes.flat, over_seeds.items()):
        ax.plot(range(len(seeds)), values["values"], "o", label="seed")
        ax.axhline(values["median"], color="black", lw=1, label="median")
        ax.set_xticks(range(len(seeds)), [str(seed) for seed in seeds])
        ax.set_xlabel("seed")
        ax.set_title(key, fontsize=8)
    for ax in list(axes.flat)[len(over_seeds):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    save_figure(fig, path)


def main(name: str, argv=None) -> None:
    """Command line of one experiment script: ``errorcircuits run NAME`` with the script's arguments."""
    from ..cli import main as cli_main

    sys.exit(cli_main(["run", name, *(sys.argv[1:] if argv is None else argv)]))
