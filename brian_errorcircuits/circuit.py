"""ErrorCircuit: weights that persist across simulations, and what users call.

Each call to :meth:`ErrorCircuit.run` builds a fresh Brian2 network from the
current weights, runs the whole :class:`Schedule` in one ``run`` call (under
Cython, numpy or ``cpp_standalone``), reads the results back into plain numpy,
checks that they are finite and keeps the learned weights.  Brian2's global
state (device, preferences, ``defaultclock.dt``, numpy's random state) is
restored after every run (:func:`brian_session`).  Because every run builds
its network anew, Brian2 objects of the user's join a run through factories
(:meth:`ErrorCircuit.add`) that are called with each new network.
"""
from __future__ import annotations

import gc
import os
import shlex
import shutil
import sys
import tempfile
import time
import warnings
import weakref
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import brian2 as b2
from brian2.devices.device import RuntimeDevice, get_device, reset_device
import numpy as np

from .arrays import CircuitArrays, partner_matrix
from .network import BuiltNetwork, Recording, build_network, gated_spike_recording
from .populations import unit_means
from .progress import STANDALONE_REPORT, SimulationProgress, ticking
from .reference import backprop_deltas, mse
from .schedule import Schedule, finite_matrix
from .spec import SPIKING_MODES, CircuitSpec, SpecError, is_count
from .storage import load_circuit, save_circuit


#: Brian2 preferences that :func:`brian_session` sets for one run and restores.
_PREFS_SET = ("codegen.target", "codegen.cpp.extra_link_args", "devices.cpp_standalone.extra_make_args_unix",
              "devices.cpp_standalone.openmp_threads",
              "devices.cpp_standalone.make_cmd_unix", "devices.cpp_standalone.run_cmd_unix",
              "codegen.cpp.extra_compile_args_gcc", "codegen.runtime.cython.cache_dir")

#: Script that runs make and the standalone binary so that they end with this process.
_CHILD_GUARD = Path(__file__).with_name("child_guard.py")


class NoLearningWarning(UserWarning):
    """:meth:`ErrorCircuit.train` was asked to train with every learning rate at 0: nothing can change."""


class DivergenceError(SpecError):
    """A simulation's presentation averages or weights became NaN or infinite.

    Usually the learning rates (or ``dt``) are too large for the task.
    ``where`` names the area and population, or the projection; ``label`` the
    schedule segment (e.g. ``'train-3'``: epoch 3); ``presentation`` the index
    in the schedule of the first presentation that is not finite.
    """

    def __init__(self, message: str, where: str, label: str, presentation: int):
        super().__init__(message)
        self.where, self.label, self.presentation = where, label, presentation


@dataclass
class RunResult:
    """Everything one simulation produced, as numpy arrays (SI units: seconds).

    ``rep_avg[k]`` / ``err_avg[k]``: presentation averages (after settling) of
    the decoded representation output and signed error of area k's neurons,
    shape (presentations, n_R) / (presentations, n_E); index 0 is the input
    rates per input neuron (``err_avg[0]`` is None).  ``outputs``: the output
    per task unit.
    ``spikes[(k, 'P'|'E')]``: dict with neuron index ``i``, time ``t`` (s) and
    ``unit`` per spike, the population's ``n_neurons`` and neurons ``per_unit``
    (neuron n belongs to unit n // per_unit) and, for error populations, the
    ``sign`` (+1 / -1) per spike and ``neuron_sign`` per neuron.
    ``states[k][var]``: sampled variables of area k's representation or error
    neurons, shape (neurons, samples), times in ``states['t']``;
    ``states['weights']``: per projection, weights of shape (samples, n_target, n_source).
    :meth:`area` gathers one area's share by name.
    ``user_states[name]``: the values of each object that :meth:`ErrorCircuit.add`'s
    factories added and that holds variables (monitors, groups), by the object's
    name: its ``get_states(units=False)`` (variable -> array; a StateMonitor's
    recorded variables with shape (samples, neurons)), read before the run
    ended, so on every target.  The objects themselves are not kept: they would
    keep the run's network alive.
    """

    spec: CircuitSpec
    schedule: Schedule
    rep_avg: list
    err_avg: list
    weights_before: list
    weights_after: list
    spikes: dict = field(default_factory=dict)
    states: dict = field(default_factory=dict)
    wall_time: float = 0.0
    lateral_after: list = field(default_factory=list)  #: {'WIP', 'BPI'} per area after the run (index 0 None)
    neurons: list = None  #: per-neuron values of the run (``CircuitArrays.neurons``)
    user_states: dict = field(default_factory=dict)
    recording: Recording = None  #: what the run recorded (``analysis.to_neo`` reads its segments)
    #: ``cpp_standalone``: wall seconds of the run's parts: ``code_generation_s`` (the network and its
    #: code, in Python), ``compile_s`` (the project written and ``make``) and ``binary_s`` (the
    #: simulation; loading its results apart); empty on other targets
    timing: dict = field(default_factory=dict)

    def area(self, area) -> "AreaResult":
        """What the run recorded of ``area`` (a name such as ``'V4'``, ``'input'``, or an index)."""
        k = self.spec.area_index(area)
        return AreaResult(self.spec.area_name(k), k, self.rep_avg[k], self.err_avg[k],
                          {pop: entry for (j, pop), entry in self.spikes.items() if j == k},
                          self.states.get(k, {}))

    @property
    def outputs(self) -> np.ndarray:
        """Presentation-averaged outputs per task unit (means over each unit's output neurons)."""
        return self.spec.decode_outputs(self.rep_avg[-1])

    def select(self, label: str):
        """(outputs, targets) of the presentations of segment ``label``."""
        idx = self.schedule.indices(label)
        return self.outputs[idx], self.schedule.targets[idx]


@dataclass(frozen=True)
class AreaResult:
    """One area's share of a :class:`RunResult` (see there for the layouts).

    ``rep_avg`` / ``err_avg``: presentation averages (``err_avg`` None for the
    input); ``spikes``: ``'P'`` / ``'E'`` -> spike entry, for the populations
    recorded; ``states``: sampled variable -> array (neurons, samples).
    """

    name: str
    index: int
    rep_avg: np.ndarray
    err_avg: np.ndarray | None
    spikes: dict
    states: dict


class ErrorCircuit:
    """A layered error-neuron circuit with persistent weights.

    Parameters
    ----------
    spec : CircuitSpec
        Validated here; bad values raise :class:`SpecError` before any compile.
    weights : list of ndarray, optional
        Bottom-up weights, one (n_target, n_source) matrix per entry of
        ``spec.projections`` (for a layered circuit ``weights[k-1]`` feeds area
        k); drawn from density * U(-s, s) with s the target's ``init_scale``
        and ``spec.seed`` if omitted.
    feedback_weights : list of ndarray, optional
        Fixed top-down weights for ``feedback_alignment``, one (n_E target,
        n_E source) matrix per ``spec.feedback_projections`` entry; random if omitted.
    build_dir : str, optional
        Folder for ``cpp_standalone`` builds; if None, a temporary folder of
        this circuit's own, reused by its runs and deleted with the circuit.
    lateral, feedback_noise, neurons : optional
        Lateral matrices, the fixed noise of ``backprop`` feedback and
        per-neuron values (conductances, slope and offset of phi, initial
        voltages), in the layout of :class:`~brian_errorcircuits.arrays.CircuitArrays`;
        drawn as ``spec`` says if omitted.  All of them live in ``self.arrays``.
    connectivity, feedback_connectivity : optional
        Which neuron pairs of each bottom-up (top-down) projection have a
        synapse, as in :class:`~brian_errorcircuits.arrays.CircuitArrays`
        (default: every pair); absent synapses keep weight 0.

    Attributes
    ----------
    object_factories : list of callable
        What :meth:`add` registered: called with every network built.
    runs : int
        Runs made so far; with ``spec.seed`` it seeds the next run.
    schedule_rows : int
        Presentations the schedule's TimedArrays hold at least (default 0: the
        schedule's length, rounded up to a power of two).  Brian2 compiles their
        length into the code, so runs of schedules up to this length (and with
        the same recording) share one ``cpp_standalone`` build.
    """

    def __init__(self, spec: CircuitSpec, weights=None, feedback_weights=None, build_dir=None, *,
                 lateral=None, feedback_noise=None, neurons=None, connectivity=None, feedback_connectivity=None):
        self.spec = spec.validate()
        self.arrays = CircuitArrays.draw(spec, weights=weights, feedback_weights=feedback_weights,
                                         lateral=lateral, feedback_noise=feedback_noise, neurons=neurons,
                                         connectivity=connectivity, feedback_connectivity=feedback_connectivity)
        self.build_dir = build_dir
        self.runs = 0
        self.schedule_rows = 0
        self.object_factories = []

    @classmethod
    def from_arrays(cls, spec: CircuitSpec, arrays: CircuitArrays, build_dir=None) -> "ErrorCircuit":
        """A circuit of ``spec`` starting from every value in ``arrays`` (copied)."""
        return cls(spec, arrays.weights, arrays.feedback_weights, build_dir, lateral=arrays.lateral,
                   feedback_noise=arrays.feedback_noise, neurons=arrays.neurons, connectivity=arrays.connectivity,
                   feedback_connectivity=arrays.feedback_connectivity)

    @classmethod
    def load(cls, path, build_dir=None) -> "ErrorCircuit":
        """The circuit that :meth:`save` wrote to ``path``, ready to run as it was.

        Parameters
        ----------
        path : str or Path
            A file written by :meth:`save`.
        build_dir : str, optional
            As in the constructor.

        Returns
        -------
        ErrorCircuit
            Same spec, values and run count (so its next run draws the same
            random numbers as the saved circuit's next run would).  A file of
            another package or Brian2 version loads with a
            :class:`~brian_errorcircuits.storage.VersionWarning`.
        """
        spec, arrays, runs = load_circuit(path)
        circuit = cls.from_arrays(spec, arrays, build_dir)
        circuit.runs = runs
        return circuit

    def save(self, path) -> Path:
        """Write the spec, every value of ``self.arrays``, the run count and the versions to ``path``.

        One ``.npz`` file, see :mod:`~brian_errorcircuits.storage`; written
        atomically.  Returns the path.  User objects (:meth:`add`) are code,
        not values, and are not saved.
        """
        return save_circuit(path, self.spec, self.arrays, self.runs)

    def add(self, factory):
        """Let ``factory`` add Brian2 objects (monitors, network operations, stimuli) to every run.

        Every run builds a new network, so objects that refer to its groups
        must be made anew each time: ``factory(built)`` is called with each
        :class:`~brian_errorcircuits.network.BuiltNetwork` (find groups with
        ``built.group('V1', 'P')``, synapses with ``built.projection('V1', 'V2')``)
        and returns a Brian2 object, an iterable of them, or None.  Give the
        objects names (``name='...'``) to find their values in
        ``RunResult.user_states``.  A ``network_operation`` runs Python
        during the run, which ``cpp_standalone`` cannot: there it raises
        :class:`SpecError` before anything compiles; monitors work on every
        target.  References you keep to the objects keep their network alive:
        the next run's automatically named Brian2 objects then take new
        names, which costs one recompile under Cython.

        Parameters
        ----------
        factory : callable
            ``factory(built) -> BrianObject | iterable | None``.

        Returns
        -------
        callable
            ``factory`` itself, so that ``@circuit.add`` decorates a function.
        """
        if not callable(factory):
            raise SpecError(f"add() takes a function of the built network, got {factory!r}")
        self.object_factories.append(factory)
        return factory

    def build(self, schedule: Schedule, recording: Recording = Recording(), silenced=()) -> BuiltNetwork:
        """The Brian2 network that :meth:`run` would simulate for these arguments, built but not run.

        For looking at the groups and synapses (names, equations, current
        weights) before or between runs; user objects (:meth:`add`) included.
        Built on Brian2's runtime device (with numpy code where ``spec.target``
        is ``cpp_standalone``).  Running
        it is :meth:`run`'s job: it builds its own.  (Holding on to it makes
        the next run's automatically named Brian2 objects take new names,
        which costs one recompile under Cython.)

        Returns
        -------
        BuiltNetwork
            ``group(area, 'P'|'E')``, ``projection(source, target)``,
            ``lateral(area, 'WIP'|'BPI')`` and ``network``.
        """
        self._check_schedule(schedule)
        recording, silenced = self._named_areas_resolved(recording, silenced)
        runtime = self.spec if self.spec.target != "cpp_standalone" else self.spec.replace(target="numpy")
        with brian_session(runtime, self.runs):
            built = build_network(self.spec, self.arrays, schedule, recording, silenced,
                                  schedule_rows=self.schedule_rows)
            self._add_user_objects(built)
        return built

    @property
    def weights(self) -> list:
        """Bottom-up weights, one (n_target, n_source) matrix per ``spec.projections`` entry."""
        return self.arrays.weights

    @weights.setter
    def weights(self, matrices):
        self.arrays.weights = [np.array(W, float) for W in matrices]

    @property
    def feedback_weights(self) -> list:
        """Fixed top-down weights (feedback alignment), one per ``spec.feedback_projections`` entry."""
        return self.arrays.feedback_weights

    # ------------------------------------------------------------------ running
    def run(self, schedule: Schedule, recording: Recording = Recording(), silenced=(),
            report: bool = False) -> RunResult:
        """Simulate ``schedule``; keep the weights it learned.

        Seeding: the run's random numbers (spikes, noise) come from
        ``spec.seed`` and the number of runs this circuit made before, so a
        ``brian2.seed()`` of the user's neither changes them nor is changed
        by them (numpy's global random state is restored afterwards).

        Divergence: the whole schedule is one Brian2 ``run`` call (one binary
        in ``cpp_standalone``), so nothing can stop it midway; as soon as the
        results come back, every presentation average and every weight is
        checked, and the first non-finite presentation (its segment, i.e. its
        epoch in :meth:`train`) is located from the recorded presentation
        averages.  Then :class:`DivergenceError` names it and the last finite
        state, and the circuit keeps the weights it had before the run.

        Progress: where :func:`~brian_errorcircuits.progress.enabled` (stderr a
        terminal, or ``BRIAN_ERRORCIRCUITS_PROGRESS=1``), a bar counts the
        presentations, named by the segment running and by the build while
        Brian2 compiles; otherwise ``report=True`` prints Brian2's own text report.
        """
        self._check_schedule(schedule)
        recording, silenced = self._named_areas_resolved(recording, silenced)
        standalone = self.spec.target == "cpp_standalone"
        start = time.perf_counter()
        # Objects of the previous run still alive in reference cycles would make
        # Brian2 rename this run's objects (``_1``) and recompile everything.
        gc.collect()
        if standalone and self.build_dir is None:
            self.build_dir = tempfile.mkdtemp(prefix="errorcircuits_standalone_")
            weakref.finalize(self, shutil.rmtree, self.build_dir, ignore_errors=True)
        progress = SimulationProgress(schedule, self.spec.target)
        if progress.shown:  # the bar replaces Brian2's text report
            brian_report = STANDALONE_REPORT if standalone else progress
        else:
            brian_report = "text" if report else None
        with closing(progress), brian_session(self.spec, self.runs, self.build_dir if standalone else None), \
                ticking(progress.bar):
            built = build_network(self.spec, self.arrays, schedule, recording, silenced,
                                  schedule_rows=self.schedule_rows)
            user_objects = self._add_user_objects(built)
            sums = [(b2.StateMonitor(rep, "sum_P", record=True, dt=schedule.duration, name=f"sums_{rep.name}"),
                     b2.StateMonitor(err, "sum_E", record=True, dt=schedule.duration, name=f"sums_{err.name}"))
                    for rep, err in zip(built.areas[1:], built.error_groups[1:])]
            built.network.add(*[monitor for pair in sums for monitor in pair])
            for presentations, record in spike_recording_calls(self.spec, schedule, recording):
                for monitor in built.spike_monitors.values():
                    monitor.active = record
                built.network.run(
                    presentations * schedule.duration, namespace={},
                    report=brian_report, report_period=(1 if progress.shown else 10) * b2.second,
                )
            timing = {}
            if standalone:
                output = report and not progress.shown  # the bar replaces the compiler's and binary's output
                progress.phase("compiling (cpp_standalone)")
                compiling = time.perf_counter()
                b2.device.build(directory=self.build_dir, compile=True, run=False, with_output=output)
                progress.phase("simulating")
                simulating = time.perf_counter()
                with progress.following(Path(b2.device.results_dir) / "stdout.txt"):
                    b2.device.run(directory=self.build_dir, with_output=output)
                timing = {"code_generation_s": compiling - start, "compile_s": simulating - compiling,
                          "binary_s": time.perf_counter() - simulating}
            result = self._collect(built, sums, schedule)
            result.timing = timing
            result.recording = recording
            result.user_states = {obj.name: {variable: np.array(values) for variable, values
                                             in obj.get_states(units=False).items()}
                                  for obj in user_objects if isinstance(obj, b2.VariableOwner)}
        diverged = _divergence(result)
        if diverged is not None:
            raise diverged
        result.wall_time = time.perf_counter() - start
        self.weights = [W.copy() for W in result.weights_after]
        self.arrays.lateral = [None] + [{name: M.copy() for name, M in area.items()}
                                        for area in result.lateral_after[1:]]
        self.runs += 1
        return result

    def _named_areas_resolved(self, recording: Recording, silenced) -> tuple:
        """``recording`` and ``silenced`` with area names replaced by indices (SpecError for unknown ones)."""
        silenced = self.spec.area_indices(tuple(silenced), "silenced", first=1)
        if recording.spike_areas is not None:
            recording = replace(recording, spike_areas=self.spec.area_indices(tuple(recording.spike_areas),
                                                                               "spike_areas"))
        return recording, silenced

    def _add_user_objects(self, built: BuiltNetwork) -> list:
        """The objects of every factory registered with :meth:`add`, added to ``built.network``."""
        made = []
        for factory in self.object_factories:
            objects = factory(built)
            objects = [] if objects is None else [objects] if isinstance(objects, b2.BrianObject) else list(objects)
            for obj in objects:
                if not isinstance(obj, b2.BrianObject):
                    raise SpecError(f"{getattr(factory, '__name__', factory)} returned {obj!r}; "
                                    "add() factories return Brian2 objects (or an iterable of them, or None)")
                if isinstance(obj, b2.NetworkOperation) and self.spec.target == "cpp_standalone":
                    raise SpecError(f"network_operation {obj.name!r} (from {getattr(factory, '__name__', factory)}) "
                                    "runs Python during the run, which cpp_standalone cannot; use "
                                    "target='cython' or 'numpy', or monitors (they work on every target)")
            made += objects
        built.network.add(*made)
        return made

    def _collect(self, built, sums, schedule: Schedule) -> RunResult:
        span = float(schedule.averaged_time)
        rep, err = [self.spec.encode_inputs(schedule.inputs)], [None]
        for groups, monitors in zip(zip(built.areas[1:], built.error_groups[1:]), sums):
            for group, monitor, name, out in zip(groups, monitors, ("sum_P", "sum_E"), (rep, err)):
                boundaries = np.vstack([getattr(monitor, name)[:].T, getattr(group, name)[:][None, :]])
                out.append(np.diff(boundaries, axis=0) / span)
        after = [_matrix(syn, syn.w[:], W.shape) for syn, W in zip(built.projections, self.weights)]
        lateral_after = [None] + [{name: _matrix(syn, syn.w[:], self.arrays.lateral[k][name].shape)
                                   for name, syn in built.laterals[k].items()}
                                  for k in range(1, self.spec.n_areas + 1)]
        spikes = built.spike_trains()
        states = {}
        for (k, _), monitor in built.state_monitors.items():
            states.setdefault(k, {}).update(
                {var: np.asarray(getattr(monitor, var)[:]) for var in monitor.record_variables})
            states["t"] = np.asarray(monitor.t[:] / b2.second)
        if built.weight_monitors:  # samples x (n_target, n_source), as the weight matrices
            states["weights"] = [_matrix(syn, np.asarray(m.w[:]).T, W.shape)
                                 for syn, m, W in zip(built.projections, built.weight_monitors, self.weights)]
            states["t"] = np.asarray(built.weight_monitors[0].t[:] / b2.second)
        return RunResult(self.spec, schedule, rep, err, [W.copy() for W in self.weights], after, spikes, states,
                         lateral_after=lateral_after, neurons=self.arrays.neurons)

    def _check_schedule(self, schedule: Schedule):
        self._check_width("inputs", schedule.inputs, "input")
        self._check_width("targets", schedule.targets, "output")
        if self.spec.mode in SPIKING_MODES and (schedule.inputs.min() < 0 or schedule.inputs.max() > 1):
            raise SpecError("inputs must lie in [0, 1] (fractions of rate_max) in spiking mode")
        for name in ("duration", "settle"):
            ratio = float(getattr(schedule, name) / self.spec.dt)
            if abs(ratio - round(ratio)) > 1e-6:
                raise SpecError(f"{name}={getattr(schedule, name)!r} must be a whole number of time steps "
                                f"dt={self.spec.dt!r}")

    def _check_width(self, name: str, array: np.ndarray, area: str):
        """SpecError unless ``array`` has one column per task unit of the ``'input'`` or ``'output'`` area."""
        units, neurons = ((self.spec.input_units, self.spec.layers[0]) if area == "input"
                          else (self.spec.output_units, self.spec.layers[-1]))
        if array.shape[1] != units:
            of_neurons = f" (of {neurons} neurons)" if neurons != units else ""
            raise SpecError(f"{name} has {array.shape[1]} columns; the {area} area has {units} units{of_neurons}, "
                            "one column each")

    def _task_data(self, name: str, values, area: str, rows_of: tuple = None) -> np.ndarray:
        """Samples checked before anything is simulated: a finite matrix, one column per unit of
        ``area`` and, with ``rows_of`` = (name, array), one row per row of that array."""
        array = finite_matrix(name, values)
        self._check_width(name, array, area)
        if rows_of is not None and len(array) != len(rows_of[1]):
            raise SpecError(f"{name} has {len(array)} rows for the {len(rows_of[1])} rows of {rows_of[0]} "
                            "(one per sample)")
        return array

    # ------------------------------------------------------------ conveniences
    def block(self, inputs, targets=None, **kwargs) -> Schedule:
        """A :class:`Schedule` block sized for this circuit."""
        return Schedule.block(inputs, targets, n_outputs=self.spec.output_units, **kwargs)

    def evaluate(self, inputs, **timing) -> np.ndarray:
        """Presentation-averaged outputs without target and without plasticity."""
        return self.run(self.block(inputs, label="evaluate", **timing)).outputs

    def error_alignment(self, result: RunResult, label: str, weights=None, neurons_per_unit: int = 1) -> dict:
        """Cosine between recorded hidden error signals and exact backprop deltas.

        Uses the presentations of segment ``label`` (targets on, no learning),
        and the weights they ran with (``weights``; default: the result's
        weights before the run).  Returns {area: cosine} for hidden areas; the
        vectors are all presentations' errors of the area, flattened.  Each
        error neuron is compared with the delta of its partner representation
        neuron (error neuron i, representation neuron i; see ``arrays``).  With
        ``neurons_per_unit`` > 1 (a circuit of populations, see
        :mod:`~brian_errorcircuits.populations`) both are first averaged over
        each unit's neurons: the error signal decoded per unit.
        """
        idx = result.schedule.indices(label)
        sched = result.schedule
        weights = result.weights_before if weights is None else weights
        deltas = backprop_deltas(self.spec, weights, sched.inputs[idx], sched.targets[idx], self.arrays.neurons)
        return {k: cosine(unit_means(result.err_avg[k][idx], neurons_per_unit),
                          unit_means(deltas[k] @ partner_matrix(*self.arrays.lateral[k]["WIP"].shape).T,
                                     neurons_per_unit))
                for k in range(1, self.spec.n_areas)}

    def train(self, x_train, y_train, x_test, y_test, epochs: int, *, duration=200 * b2.ms,
              settle=50 * b2.ms, probe=None, shuffle=True, lr_factors=None,
              recording: Recording = Recording(), report=True, neurons_per_unit: int = 1) -> "TrainingResult":
        """Train online for ``epochs`` over (x_train, y_train), all in one simulation.

        Before and after each epoch a test block (no target, no plasticity)
        measures the test MSE; ``probe`` = (x, y) adds blocks with targets but no
        plasticity at the start and end, whose error signals are compared with
        exact backprop.  Segments are labelled ``test-E``, ``train-E``,
        ``probe-start`` and ``probe-end`` (for ``recording.spike_segments``).
        ``lr_factors`` (one per epoch, default all 1) scale the learning rates
        epoch by epoch, e.g. to anneal them; ``neurons_per_unit`` decodes the
        probes' error signals per unit (see :meth:`error_alignment`).

        Every argument is checked before anything is simulated (sizes, one
        target row per input row, finite values, ``epochs`` a whole number
        >= 1); a run that diverges raises :class:`DivergenceError` naming the
        epoch (see :meth:`run`), so the test MSE is never NaN.
        """
        if not is_count(epochs):
            raise SpecError(f"epochs={epochs!r} must be a whole number >= 1")
        lr_factors = np.ones(epochs) if lr_factors is None else np.asarray(lr_factors, float)
        if lr_factors.shape != (epochs,):
            raise SpecError(f"lr_factors needs one factor per epoch ({epochs}), got shape {lr_factors.shape}")
        rates = [float(eta / b2.Hz) for eta in self.spec.eta] + [float(self.spec.eta_lateral / b2.Hz)]
        if not any(rates) or not lr_factors.any():
            warnings.warn(f"train: every learning rate is 0 (spec.eta = {list(self.spec.eta)}, eta_lateral = "
                          f"{self.spec.eta_lateral}, lr_factors = {lr_factors.tolist()}), so nothing will be "
                          "learned; set CircuitSpec(eta=...)", NoLearningWarning, stacklevel=2)
        x_train = self._task_data("x_train", x_train, "input")
        y_train = self._task_data("y_train", y_train, "output", rows_of=("x_train", x_train))
        x_test = self._task_data("x_test", x_test, "input")
        y_test = self._task_data("y_test", y_test, "output", rows_of=("x_test", x_test))
        if probe is not None:
            probe_x = self._task_data("probe inputs", probe[0], "input")
            probe = (probe_x, self._task_data("probe targets", probe[1], "output", rows_of=("probe inputs", probe_x)))
        rng = np.random.default_rng(self.spec.seed + 1)
        timing = dict(duration=duration, settle=settle)
        schedule = self.block(x_test, label="test-0", **timing)
        if probe is not None:
            schedule = self.block(*probe, label="probe-start", **timing) + schedule
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(x_train)) if shuffle else np.arange(len(x_train))
            schedule = schedule + self.block(x_train[order], y_train[order], learning=lr_factors[epoch - 1],
                                             label=f"train-{epoch}", **timing)
            schedule = schedule + self.block(x_test, label=f"test-{epoch}", **timing)
        if probe is not None:
            schedule = schedule + self.block(*probe, label="probe-end", **timing)
        result = self.run(schedule, recording=recording, report=report)
        curve = [mse(result.outputs[schedule.indices(f"test-{e}")], y_test) for e in range(epochs + 1)]
        alignment = {}
        if probe is not None:
            alignment["start"] = self.error_alignment(result, "probe-start", result.weights_before, neurons_per_unit)
            alignment["end"] = self.error_alignment(result, "probe-end", result.weights_after, neurons_per_unit)
        return TrainingResult(result, curve, alignment)


@dataclass
class TrainingResult:
    """A training run: the simulation, test MSE per epoch (index 0 = untrained), and the probes'
    alignment with backprop, {'start'|'end': {area index: cosine}} (:meth:`alignment_by_name`)."""

    run: RunResult
    test_mse: list
    alignment: dict

    def alignment_by_name(self) -> dict:
        """``alignment`` with area names for keys: {'start'|'end': {area name: cosine}}."""
        return {when: {self.run.spec.area_name(k): value for k, value in values.items()}
                for when, values in self.alignment.items()}


#: Environment variable that bounds ``make -j`` of ``cpp_standalone`` builds (see :func:`compile_jobs`).
COMPILE_JOBS_ENV = "ERRORCIRCUITS_COMPILE_JOBS"


def compile_jobs() -> int:
    """``make -j`` of ``cpp_standalone`` builds: the environment variable :data:`COMPILE_JOBS_ENV`
    (set by :func:`~brian_errorcircuits.sweep.run_sweep` on its workers, so that parallel runs share the
    cores), else every core this process may use."""
    jobs = os.environ.get(COMPILE_JOBS_ENV, "")
    return int(jobs) if jobs.isdigit() and int(jobs) > 0 else len(os.sched_getaffinity(0))


#: Environment variable with the OpenMP threads of ``cpp_standalone`` binaries (see :func:`standalone_threads`).
THREADS_ENV = "ERRORCIRCUITS_THREADS"


def standalone_threads(spec: CircuitSpec | None = None) -> int:
    """OpenMP threads of a ``cpp_standalone`` binary of ``spec``: ``spec.threads``, else the
    environment variable :data:`THREADS_ENV`, else 1 (one thread, no OpenMP)."""
    if spec is not None and spec.threads is not None:
        return spec.threads
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise SpecError(f"{THREADS_ENV}={value!r}: expected a whole number >= 1")
    return int(value)


#: Environment variable choosing how generated C++ is compiled (see :func:`quick_build`).
BUILD_ENV = "ERRORCIRCUITS_BUILD"


def quick_build() -> bool:
    """Whether generated C++ (Cython and ``cpp_standalone``) is compiled without optimisation.

    :data:`BUILD_ENV` ``=quick`` compiles with ``-O0`` instead of Brian2's
    ``-O3``: about 3x less compiler time, for a slower simulation loop.  It
    pays where compiling dominates (short runs, the test suite, which sets it);
    ``=optimised`` (or unset) is Brian2's default.  Quick Cython modules live in
    a cache folder of their own (``<Brian2's cache>_quick``), because Brian2's
    cache key does not include compiler flags.
    """
    value = os.environ.get(BUILD_ENV, "").strip().lower()
    if value not in ("", "optimised", "quick"):
        raise SpecError(f"{BUILD_ENV}={value!r}: use 'quick' (compile with -O0) or 'optimised' (Brian2's default)")
    return value == "quick"


def _compile_quickly() -> None:
    """Brian2's compiler flags with ``-O0`` for their optimisation level, and the quick Cython cache."""
    from brian2.codegen.runtime.cython_rt.extension_manager import get_cython_cache_dir

    flags = b2.prefs["codegen.cpp.extra_compile_args_gcc"]
    b2.prefs["codegen.cpp.extra_compile_args_gcc"] = [flag for flag in flags if not flag.startswith("-O")] + ["-O0"]
    if b2.prefs["codegen.runtime.cython.cache_dir"] is None:
        b2.prefs["codegen.runtime.cython.cache_dir"] = get_cython_cache_dir() + "_quick"


def copy_build(source, destination) -> None:
    """Copy the ``cpp_standalone`` build folder ``source`` (results left out) to ``destination``, times
    kept, so that ``make`` there finds the compiled objects up to date and recompiles only what the
    next circuit changes."""
    shutil.copytree(source, destination, symlinks=True, ignore=shutil.ignore_patterns("results"))


@contextmanager
def brian_session(spec: CircuitSpec, runs: int, build_dir=None):
    """Brian2 set up for one simulation of ``spec``; its global state as it was afterwards.

    Sets the device (``cpp_standalone`` building in ``build_dir`` when one is
    given, the runtime device with ``spec.target`` otherwise),
    ``defaultclock.dt = spec.dt``, the binary's OpenMP threads (:func:`standalone_threads`),
    the seed ``spec.seed * 1000 + runs`` and,
    with :func:`quick_build`, unoptimised compiling; afterwards the device, the preferences, ``defaultclock.dt`` and numpy's
    global random state are restored.  ``make`` and the standalone binary run
    under ``child_guard.py``: in a process group of their own that ends when
    this process ends, even by ``kill -9``.  A device that the user switched
    to (``brian2.set_device``) is refused with :class:`SpecError`: the circuit
    picks its device from ``spec.target``.
    """
    active = get_device()
    if not isinstance(active, RuntimeDevice):
        raise SpecError(f"Brian2's active device is {type(active).__name__} (brian2.set_device was called); "
                        "ErrorCircuit picks the device from CircuitSpec(target=...): call "
                        "brian2.set_device('runtime') first and use target='cpp_standalone' for standalone runs")
    saved_prefs = {name: b2.prefs[name] for name in _PREFS_SET}
    saved_dt, saved_random = b2.defaultclock.dt, np.random.get_state()
    if quick_build():
        _compile_quickly()
    if build_dir is not None:
        b2.set_device("cpp_standalone", build_on_run=False, directory=build_dir)
        guard = [sys.executable, "-I", str(_CHILD_GUARD), str(os.getpid())]
        run_cmd = saved_prefs["devices.cpp_standalone.run_cmd_unix"]
        b2.prefs["devices.cpp_standalone.extra_make_args_unix"] = [f"-j{compile_jobs()}"]
        threads = standalone_threads(spec)
        b2.prefs["devices.cpp_standalone.openmp_threads"] = 0 if threads == 1 else threads
        # Linking with -ffast-math makes the binary flush subnormal numbers to zero.  Without it,
        # traces of silent neurons decay into the subnormal range (below 1e-308, after a few
        # seconds), and every synapse that multiplies them ran up to 20x slower.
        b2.prefs["codegen.cpp.extra_link_args"] = [*saved_prefs["codegen.cpp.extra_link_args"], "-ffast-math"]
        b2.prefs["devices.cpp_standalone.make_cmd_unix"] = shlex.join(
            guard + shlex.split(saved_prefs["devices.cpp_standalone.make_cmd_unix"]))
        b2.prefs["devices.cpp_standalone.run_cmd_unix"] = guard + ([run_cmd] if isinstance(run_cmd, str) else run_cmd)
    else:
        b2.prefs["codegen.target"] = spec.target
    try:
        b2.defaultclock.dt = spec.dt
        b2.seed(spec.seed * 1000 + runs)
        yield
    finally:
        if build_dir is not None:
            b2.device.reinit()
            reset_device()
        for name, value in saved_prefs.items():
            b2.prefs[name] = value
        b2.defaultclock.dt = saved_dt
        np.random.set_state(saved_random)


def _divergence(result: RunResult) -> DivergenceError | None:
    """The first non-finite presentation average (or else weight) of ``result`` as an error; None if all are finite."""
    spec, schedule = result.spec, result.schedule
    kept = ("the circuit keeps its weights from before the run (norms "
            + ", ".join(f"{np.linalg.norm(W):.3g}" for W in result.weights_before) + "); lower eta or dt")
    averages = [(f"area {spec.area_names[k - 1]!r} ({population} neurons)", values)
                for k in range(1, spec.n_areas + 1)
                for population, values in (("representation", result.rep_avg[k]), ("error", result.err_avg[k]))]
    first_bad = [(int(np.argmin(np.isfinite(values).all(axis=1))), where, values)
                 for where, values in averages if not np.isfinite(values).all()]
    if first_bad:
        index, where, values = min(first_bad, key=lambda entry: entry[0])
        if index > 0:
            last = (f"last finite: presentation {index - 1} ({_segment_position(schedule, index - 1)}), "
                    f"averages in [{values[index - 1].min():.3g}, {values[index - 1].max():.3g}]")
        else:
            last = "no presentation of it was finite"
        return DivergenceError(
            f"the run diverged: {where} has non-finite presentation averages from presentation {index} on "
            f"({_segment_position(schedule, index)}); {last}; {kept}", where, schedule.labels[index], index)
    matrices = [(f"projection {p.source} -> {p.target}", W) for p, W in zip(spec.projections, result.weights_after)]
    matrices += [(f"lateral {name} of area {spec.area_names[k - 1]!r}", M)
                 for k, area in enumerate(result.lateral_after) if area for name, M in area.items()]
    for where, W in matrices:
        if not np.isfinite(W).all():
            last = len(schedule) - 1
            return DivergenceError(
                f"the run diverged: the weights of {where} are not finite at the end of the run "
                f"(presentation {last}, {_segment_position(schedule, last)}) although every presentation "
                f"average is; {kept}", where, schedule.labels[last], last)
    return None


def _segment_position(schedule: Schedule, index: int) -> str:
    """Where presentation ``index`` lies: its segment and its position among that segment's presentations."""
    label = schedule.labels[index]
    return f"segment {label!r}, its presentation {int(np.searchsorted(schedule.indices(label), index))}"


def cosine(a, b) -> float:
    """Cosine similarity of two arrays, flattened (0 if either is all zeros)."""
    a, b = np.ravel(a), np.ravel(b)
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norm) if norm > 0 else 0.0


def spike_recording_calls(spec: CircuitSpec, schedule: Schedule, recording: Recording) -> list:
    """The run calls of a simulation: [(presentations, spike monitors on), ...]; one call where
    the monitors record only ``recording.spike_segments`` themselves
    (:func:`~brian_errorcircuits.network.gated_spike_recording`), else one per stretch of
    :func:`_recording_stretches`."""
    stretches = _recording_stretches(schedule, recording)  # checks the segments' names
    return [(len(schedule), True)] if gated_spike_recording(spec, recording) else stretches


def _recording_stretches(schedule: Schedule, recording: Recording):
    """Consecutive runs of presentations with spike recording on / off: [(count, on), ...]."""
    if not recording.spikes or recording.spike_segments is None:
        return [(len(schedule), recording.spikes)]
    unknown = set(recording.spike_segments) - set(schedule.labels)
    if unknown:
        raise SpecError(f"spike_segments names segments not in the schedule: {sorted(unknown)}")
    on = np.isin(schedule.labels, list(recording.spike_segments))
    edges = np.flatnonzero(np.diff(on.astype(int))) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(on)]])
    return [(int(e - s), bool(on[s])) for s, e in zip(starts, ends)]


def _matrix(synapses, values, shape: tuple) -> np.ndarray:
    """Per-synapse ``values`` (..., n_synapses) as (..., n_target, n_source) matrices, zero where no
    synapse exists (leading axes, e.g. samples of a monitor, are kept)."""
    values = np.asarray(values)
    matrix = np.zeros(values.shape[:-1] + tuple(shape))
    matrix[..., np.asarray(synapses.j[:]), np.asarray(synapses.i[:])] = values
    return matrix
