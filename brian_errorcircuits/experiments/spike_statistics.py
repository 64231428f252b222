"""Spike statistics: are single neurons Poisson-like, alike within a unit, and heterogeneous when asked?

Reference: the neuron-level ``spiking`` mode of docs/model.md: every neuron fires an
inhomogeneous Poisson process at its own rate (time rescaling), and
:func:`brian_errorcircuits.populations.neuron_level` turns each unit of the
4-10-2 teacher-student student into m neurons with tied weights.
Expected: without heterogeneity the m neurons of a unit receive the same
bottom-up input and fire at the same rate, so their counts over a window T
differ by Poisson counting alone: the standard deviation of their rates is
about sqrt(rate / T) (ratio 1).  With per-neuron slopes and offsets of phi
(``draw_per_neuron``: drawn for every neuron, not per unit) the rates
spread far beyond it (ratio >> 1).  At stationary input every neuron's ISI
CV is near 1 in both cases.

The circuit runs twice, heterogeneity off and on, with plasticity off and a
few input patterns (with their teacher targets, so that error neurons fire)
held for long presentations.  Per neuron and pattern, after the settling time,
Elephant computes from :func:`brian_errorcircuits.analysis.to_neo` the mean
firing rate and the CV of the inter-spike intervals.  Reported per
population: the within-unit spread ratio std(rates) / sqrt(mean rate / T)
per (unit, pattern), the ISI CVs (with those of Poisson trains at the same
rates in the same windows, since the window cuts long intervals), and the rates.

Output error neurons are the exception by design, not by heterogeneity: each
compares the target with its partner's own spike trace, a noisy low-pass of a
Poisson train, so its rate follows private fluctuations (doubly stochastic:
CV and within-unit spread above 1 even without heterogeneity), and the
nudging they return makes output representation neurons slightly sub-Poisson.

Target: cython compiles once for both runs (Brian2's cache keeps it);
cpp_standalone builds every run, which costs more than the 2 x 8 s simulated.
"""
from __future__ import annotations

import time

import brian2 as b2
import numpy as np

from .. import CircuitSpec, ErrorCircuit, NeuronParams, Recording
from ..analysis import to_neo
from ..files import provenance
from ..plotting import error_raster, pyplot, raster, save_figure
from ..populations import neuron_level
from ..progress import bar
from ..spec import Heterogeneity
from ..tasks.teacher_student import make_teacher_student

QUESTION = ("Do neuron-level spiking neurons fire Poisson-like, alike within a unit without heterogeneity "
            "and spread apart with it?")

DEFAULTS = {
    "layers": (4, 10, 2),
    "neurons_per_unit": 20,
    "n_patterns": 4,
    "duration_ms": 2000.0,
    "settle_ms": 200.0,
    "dt_ms": 0.25,
    "error_rate_hz": 400.0,
    "targets": True,  # teacher targets on, so that error neurons fire
    "slope_spread_rep": 0.5,
    "offset_spread_rep": 0.5,
    "slope_spread_err": 0.5,
    "offset_spread_err": 0.5,
    "min_spikes": 10,  # fewest spikes in a window for a CV, and mean count of a unit for a spread ratio
    "raster_units": 3,
    "raster_ms": 400.0,
    "target": "cython",  # one compilation for both runs; cpp_standalone builds each (measured: 95 s vs 190 s)
    "seed": 0,
}

CONDITIONS = ("heterogeneity_off", "heterogeneity_on")


def run(params: dict, out_dir) -> dict:
    """Both conditions, their statistics per population (the summary) and ``spike_statistics.png``."""
    start = time.perf_counter()
    m = params["neurons_per_unit"]
    data = make_teacher_student(tuple(params["layers"]), params["n_patterns"], 1, 1, seed=params["seed"])
    summary = {"seed": params["seed"], "parameters": dict(params), "window_s": window_s(params), "versions": versions()}
    blocks, tables = {}, {}
    for condition in bar(CONDITIONS, desc="conditions", unit="condition"):
        print(f"  {condition.replace('_', ' ')}", flush=True)
        run_start = time.perf_counter()
        blocks[condition] = simulate(params, data.x_train, data.y_train, heterogeneous=condition.endswith("on"))
        table = tables[condition] = neuron_statistics(blocks[condition], m, params["settle_ms"] * 1e-3,
                                                      params["min_spikes"])
        summary[condition] = summarise(table, window_s(params), params["min_spikes"] / window_s(params),
                                       params["min_spikes"], params["seed"])
        summary[condition]["wall_time_s"] = time.perf_counter() - run_start
        print_condition(summary[condition])
    figure(blocks, tables, params, out_dir)
    summary["wall_time_s"] = time.perf_counter() - start
    return summary


def window_s(params: dict) -> float:
    """Length in seconds of the stationary window of a presentation (after settling)."""
    return (params["duration_ms"] - params["settle_ms"]) * 1e-3


def versions() -> dict:
    """Versions of this package, Brian2, numpy, neo and Elephant, and the git commit."""
    import elephant
    import neo

    return {**provenance(), "neo_version": neo.__version__, "elephant_version": elephant.__version__}


def neuron_level_circuit(params: dict, heterogeneous: bool) -> tuple:
    """(spec, arrays) of the neuron-level spiking student, plasticity off; with ``heterogeneous``
    every neuron draws its own slope and offset of phi from the ``*_spread_*`` parameters."""
    spreads = params if heterogeneous else dict.fromkeys(
        ("slope_spread_rep", "offset_spread_rep", "slope_spread_err", "offset_spread_err"), 0.0)
    layers = tuple(params["layers"])
    units = CircuitSpec(
        layers=layers, mode="spiking", eta=(0 * b2.Hz,) * (len(layers) - 1), dt=params["dt_ms"] * b2.ms,
        seed=params["seed"], target=params["target"], neuron=NeuronParams(rate_err=params["error_rate_hz"] * b2.Hz),
        heterogeneity_rep=Heterogeneity(spreads["slope_spread_rep"], spreads["offset_spread_rep"]),
        heterogeneity_err=Heterogeneity(spreads["slope_spread_err"], spreads["offset_spread_err"]),
    )
    return neuron_level(units, params["neurons_per_unit"], draw_per_neuron=True)


def simulate(params: dict, inputs, targets, heterogeneous: bool):
    """Spikes of every population while each input pattern is held for ``duration_ms``, as a neo.Block."""
    spec, arrays = neuron_level_circuit(params, heterogeneous)
    circuit = ErrorCircuit.from_arrays(spec, arrays)
    schedule = circuit.block(inputs, targets if params["targets"] else None,
                             duration=params["duration_ms"] * b2.ms, settle=params["settle_ms"] * b2.ms)
    return to_neo(circuit.run(schedule, Recording(spikes=True)))


def neuron_statistics(block, neurons_per_unit: int, settle_s: float, min_spikes: int) -> dict:
    """Elephant's mean firing rate and ISI CV of every spike train in every presentation of ``block``.

    Each presentation is cut to its stationary part (after ``settle_s``).  Returns
    columns (numpy arrays, one entry per train and presentation): ``population``
    (e.g. ``'area1 representation'``; error trains per sign, ``'area1 error +'``),
    ``unit`` (the task unit, ``neuron // neurons_per_unit``), ``pattern``,
    ``rate_hz`` and ``cv`` (NaN with fewer than ``min_spikes`` spikes).
    """
    import quantities as pq
    from elephant.statistics import cv, isi, mean_firing_rate

    rows = []
    for segment in block.segments:
        (epoch,) = [e for e in segment.epochs if e.name == "presentations"]
        for onset, duration, pattern in zip(epoch.times, epoch.durations, epoch.array_annotations["presentation"]):
            t_start, t_stop = onset + settle_s * pq.s, onset + duration
            for train in segment.spiketrains:
                window = train.time_slice(t_start, t_stop)
                variation = cv(isi(window)) if len(window) >= min_spikes else np.nan
                rows.append((population_label(train.annotations), train.annotations["unit"] // neurons_per_unit,
                             int(pattern), float(mean_firing_rate(window).rescale(pq.Hz)), float(variation)))
    population, unit, pattern, rate, variation = zip(*rows)
    return {"population": np.array(population), "unit": np.array(unit), "pattern": np.array(pattern),
            "rate_hz": np.array(rate), "cv": np.array(variation)}


def population_label(annotations: dict) -> str:
    """``'input'``, ``'<area> representation'`` or ``'<area> error +'`` / ``'<area> error -'``."""
    if annotations["population"] == "input":
        return "input"
    label = f"{annotations['area']} {annotations['population']}"
    return label + (" +" if annotations["sign"] > 0 else " -") if "sign" in annotations else label


def within_unit_spread_ratios(table: dict, population: str, window: float, min_rate_hz: float) -> np.ndarray:
    """Per (unit, pattern) of ``population``: the standard deviation of its neurons' rates over
    the Poisson counting spread sqrt(mean rate / window); units below ``min_rate_hz`` are left out."""
    ratios = []
    chosen = table["population"] == population
    for unit in np.unique(table["unit"][chosen]):
        for pattern in np.unique(table["pattern"][chosen]):
            rates = table["rate_hz"][chosen & (table["unit"] == unit) & (table["pattern"] == pattern)]
            if rates.mean() >= min_rate_hz:
                ratios.append(rates.std(ddof=1) / np.sqrt(rates.mean() / window))
    return np.array(ratios)


def quartiles(values) -> dict:
    """Median, quartiles and count of the finite ``values`` (None where there are none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return {"median": None, "q25": None, "q75": None, "count": 0}
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "q25": float(q25), "q75": float(q75), "count": int(len(values))}


def spread_summary(ratios: np.ndarray) -> dict:
    """Quartiles of within-unit spread ratios and their root mean square (the pooled ratio: Poisson
    counting alone gives 1, its square being chi2 / dof over all (unit, pattern) pairs together)."""
    return {**quartiles(ratios), "root_mean_square": float(np.sqrt(np.mean(ratios ** 2))) if len(ratios) else None}


def poisson_reference_cvs(rates_hz, window: float, min_spikes: int, seed: int) -> np.ndarray:
    """ISI CVs that homogeneous Poisson trains at ``rates_hz`` give in windows of ``window`` s, by the
    same estimator: the reference for measured CVs (a little below 1, as the window cuts long intervals)."""
    from elephant.statistics import cv

    rng = np.random.default_rng(seed)
    cvs = []
    for rate in rates_hz:
        times = np.sort(rng.uniform(0, window, rng.poisson(rate * window)))
        cvs.append(cv(np.diff(times)) if len(times) >= min_spikes else np.nan)
    return np.array(cvs)


def summarise(table: dict, window: float, min_rate_hz: float, min_spikes: int, seed: int) -> dict:
    """Per population: within-unit spread ratios, ISI CVs (and those of Poisson trains at the same
    rates) and rates (median, quartiles, count)."""
    populations = {}
    for population in sorted(set(table["population"])):
        chosen = table["population"] == population
        populations[population] = {
            "rate_hz": quartiles(table["rate_hz"][chosen]),
            "cv": quartiles(table["cv"][chosen]),
            "cv_of_poisson_trains_at_these_rates": quartiles(
                poisson_reference_cvs(table["rate_hz"][chosen], window, min_spikes, seed)),
            "within_unit_spread_ratio": spread_summary(within_unit_spread_ratios(table, population, window,
                                                                                 min_rate_hz)),
        }
    return {"populations": populations}


def print_condition(result: dict) -> None:
    """One line per population: median rate, spread ratio and ISI CV with quartiles."""
    for population, values in result["populations"].items():
        ratio = values["within_unit_spread_ratio"]
        print(f"    {population:24s} rate {values['rate_hz']['median']:6.1f} Hz"
              f"  spread ratio {quartile_text(ratio)}"
              + (f" (rms {ratio['root_mean_square']:.2f})" if ratio["count"] else "")
              + f"  CV {quartile_text(values['cv'])}"
              f" (Poisson {quartile_text(values['cv_of_poisson_trains_at_these_rates'])})", flush=True)


def quartile_text(values: dict) -> str:
    """'median [q25, q75]' of a :func:`quartiles` result, '-' when it holds no values."""
    return f"{values['median']:.2f} [{values['q25']:.2f}, {values['q75']:.2f}]" if values["count"] else "-"


def figure(blocks: dict, tables: dict, params: dict, out_dir) -> None:
    """Rasters of the first ``raster_units`` hidden units' neurons (representation and error), heterogeneity
    off and on side by side, and histograms of the within-unit spread ratio and the ISI CV."""
    m, window = params["neurons_per_unit"], window_s(params)
    hidden = neuron_level_circuit(params, False)[0].area_names[0]
    plt = pyplot()
    fig, axes = plt.subplots(3, 2, figsize=(10, 10))
    shown = (params["settle_ms"] * 1e-3, (params["settle_ms"] + params["raster_ms"]) * 1e-3)
    for column, condition in enumerate(CONDITIONS):
        trains = [t for t in blocks[condition].segments[0].spiketrains
                  if t.annotations["area"] == hidden and t.annotations["unit"] // m < params["raster_units"]]
        for row, population in enumerate(("representation", "error")):
            chosen = [t for t in trains if t.annotations["population"] == population]
            rows = rows_by_rate(chosen, m, shown)
            times = [t.magnitude[(t.magnitude >= shown[0]) & (t.magnitude < shown[1])] for t in chosen]
            ticks = np.concatenate([np.full(len(x), rows[i]) for i, x in enumerate(times)])
            ax = axes[row, column]
            if population == "error":
                signs = np.concatenate([np.full(len(x), t.annotations["sign"]) for x, t in zip(times, chosen)])
                error_raster(np.concatenate(times), ticks, signs, ax=ax)
            else:
                raster(np.concatenate(times), ticks, ax=ax)
            for boundary in range(1, params["raster_units"]):
                ax.axhline(boundary * m - 0.5, color="0.7", lw=0.5)
            ax.set_ylabel("neuron (sorted by rate within its unit)")
            colours = ": (+) red, (-) blue" if population == "error" else ""
            ax.set_title(f"{hidden} {population} neurons{colours}; {condition.replace('_', ' ')}\n"
                         f"{params['raster_units']} units, grey lines between them", fontsize=9)
    bins = {"ratio": np.linspace(0, 12, 49), "cv": np.linspace(0, 2, 41)}
    for condition, style in zip(CONDITIONS, ("-", "--")):
        table = tables[condition]
        representation = [p for p in set(table["population"]) if p.endswith("representation")]
        ratios = np.concatenate([within_unit_spread_ratios(table, p, window, params["min_spikes"] / window)
                                 for p in representation])
        axes[2, 0].hist(np.clip(ratios, 0, bins["ratio"][-1]), bins["ratio"], histtype="step", ls=style,
                        label=condition.replace("_", " "))
        for group, color in (("representation", "black"), ("error", "tab:red")):
            chosen = np.char.find(table["population"].astype(str), group) >= 0
            axes[2, 1].hist(table["cv"][chosen & np.isfinite(table["cv"])], bins["cv"], histtype="step", ls=style,
                            color=color, density=True, label=f"{group}, {condition.replace('_', ' ')}")
    axes[2, 0].axvline(1, color="k", lw=0.5)
    axes[2, 0].set_xlabel("within-unit rate s.d. / Poisson s.d. sqrt(rate/T)")
    axes[2, 0].set_ylabel("(unit, pattern) pairs, representation neurons")
    axes[2, 1].axvline(1, color="k", lw=0.5)
    axes[2, 1].set_xlabel("ISI CV (per neuron and pattern)")
    axes[2, 1].set_ylabel("density")
    for ax in axes[2]:
        ax.legend(fontsize=7)
    fig.suptitle(f"neuron-level spiking, {m} neurons per unit, {window:.1f} s stationary windows", fontsize=10)
    save_figure(fig, out_dir / "spike_statistics.png")


def rows_by_rate(trains: list, neurons_per_unit: int, shown: tuple) -> np.ndarray:
    """Raster row of each train: its unit's block of ``neurons_per_unit`` rows, ordered within the block
    by the neuron's spike count in ``shown`` (both signs of an error neuron together), so that rates
    that differ within a unit show as a gradient."""
    neurons = np.array([t.annotations["unit"] for t in trains])
    counts = np.bincount(neurons, weights=[np.count_nonzero((t.magnitude >= shown[0]) & (t.magnitude < shown[1]))
                                           for t in trains])
    rank = np.empty(len(counts), dtype=int)
    for first in range(0, len(counts), neurons_per_unit):
        block = np.arange(first, min(first + neurons_per_unit, len(counts)))
        rank[block[np.argsort(counts[block], kind="stable")]] = block
    return rank[neurons]
