"""The one place that creates Brian2 objects: a spec and a schedule in, a Network out.

Within each time step the schedule of the ``groups`` slot is fixed
explicitly (``order``), so that one step is one sweep through the hierarchy,
which :mod:`brian_errorcircuits.reference` repeats in numpy:

1. bottom-up, area 1..L: basal input ``v_bas`` from the area below, then
   (rate mode) the area's stored rate, which the areas above read;
2. top-down, area L..1: the partner gain, the top-down error ``v_td`` from
   the area above, the apical input ``v_api`` from the area's error neurons;
3. every area's stored rate and dendritic error, then the Euler step of every
   plastic weight, then of every membrane and trace;
4. the output area's gated mismatch, phi' (target - out_P), carried by WIP to
   the output error neurons (their spikes, and the next step, see it).

Spike generation (``thresholds``) and spike transmission (``synapses``)
follow in Brian2's usual slots.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import brian2 as b2
import numpy as np

from . import equations as eq
from .arrays import CircuitArrays, partner_matrix
from .schedule import Schedule
from .spec import SPIKING_MODES, CircuitSpec, SpecError, unit_default

#: order values inside the ``groups`` slot (see module docstring)
ORDER_BOTTOM_UP = 10
ORDER_TOP_DOWN = 1000
ORDER_PLASTICITY = 5000
ORDER_MEMBRANES = 6000
ORDER_OUTPUT_MISMATCH = 7000  # after the membranes: the output error neurons see the output the step leaves


@dataclass(frozen=True)
class Recording:
    """What to record beyond presentation averages (always kept).

    Parameters
    ----------
    spikes : bool
        Spike monitors on every population (spiking mode).
    spike_segments : tuple of str, optional
        Record spikes only during the schedule segments with these labels
        (e.g. a few presentations before and after training), so that a
        long run keeps rasters without storing every spike.
    spike_areas : tuple of int or str, optional
        Record spikes only of these areas' populations, by index (0 = input,
        L = output) or name (``'input'``, ``spec.area_names``; another index or
        name raises ``SpecError`` at run time); None: every area.
    variables : tuple of str
        Area-group variables to sample (e.g. ``('v_bas', 'v_api', 'out_E')``).
    weights : bool
        Sample every bottom-up projection's weights (one matrix per sample).
    dt : Quantity
        Sampling interval of ``variables`` and ``weights``.
    """

    spikes: bool = False
    spike_segments: tuple | None = None
    spike_areas: tuple | None = None
    variables: tuple = ()
    weights: bool = False
    dt: b2.Quantity = unit_default(1 * b2.ms)


@dataclass
class BuiltNetwork:
    """Brian2 objects of one simulation and what is needed to read them back.

    :meth:`group`, :meth:`projection` and :meth:`lateral` find objects by area
    name or index (names as in ``spec.area_names``, ``'input'`` for area 0).
    """

    network: b2.Network
    areas: list  # representation groups, index 0 = input
    projections: list  # forward Synapses, one per spec.projections entry
    error_groups: list = field(default_factory=list)  # error groups, index 0 = None
    laterals: list = field(default_factory=list)  # {'WIP': Synapses, 'BPI': Synapses} per area, index 0 None
    spike_groups: dict = field(default_factory=dict)  # (area, 'P'|'E') -> NeuronGroup
    spike_monitors: dict = field(default_factory=dict)
    state_monitors: dict = field(default_factory=dict)  # (area, 'P'|'E') -> StateMonitor
    weight_monitors: list = field(default_factory=list)  # one per projection, if recorded
    spec: CircuitSpec = None  # the circuit's spec, to find areas by name
    feedback: dict = field(default_factory=dict)  # (from area, into area) -> top-down Synapses (feedback alignment)

    def group(self, area, population: str):
        """The representation (``'P'``) or error (``'E'``) ``NeuronGroup`` of ``area`` (a name or an index)."""
        if population not in ("P", "E"):
            raise SpecError(f"population={population!r}: 'P' (representation) or 'E' (error)")
        k = self.spec.area_index(area, first=0 if population == "P" else 1)
        return self.areas[k] if population == "P" else self.error_groups[k]

    def projection(self, source, target):
        """The ``Synapses`` of the projection from ``source`` to ``target`` (names or indices): bottom-up
        between representation neurons, or top-down between error neurons (``feedback_alignment``)."""
        source, target = self.spec.area_indices((source, target), "projection")
        for p, synapses in zip(self.spec.projections, self.projections):
            if (p.source, p.target) == (source, target):
                return synapses
        if (source, target) in self.feedback:
            return self.feedback[(source, target)]
        known = [(self.spec.area_name(p.source), self.spec.area_name(p.target)) for p in self.spec.projections]
        known += [(self.spec.area_name(s), self.spec.area_name(t)) for s, t in self.feedback]
        raise SpecError(f"no projection {self.spec.area_name(source)!r} -> {self.spec.area_name(target)!r} "
                        f"in this network; projections: {known}")

    def lateral(self, area, matrix: str):
        """``area``'s lateral ``Synapses``: ``'WIP'`` (representation -> error) or ``'BPI'`` (error -> representation)."""
        if matrix not in ("WIP", "BPI"):
            raise SpecError(f"matrix={matrix!r}: 'WIP' or 'BPI'")
        return self.laterals[self.spec.area_index(area, first=1)][matrix]

    def spike_trains(self) -> dict:
        """Recorded spikes per population as numpy arrays (the layout of ``RunResult.spikes``).

        Neuron-level error neurons fire positive- and negative-error spikes; here the two
        signs of error neuron j appear as spiking cells 2j (+) and 2j + 1 (-), the layout of
        the sampled mode's (+) and (-) generators with one generator per sign.
        """
        if not self.spike_groups:
            return self._own_spike_trains()
        spikes = {}
        for key, monitor in self.spike_monitors.items():
            group = self.spike_groups[key]
            i = np.asarray(monitor.i[:])
            size = group.N // self.group(*key).N
            entry = {"i": i, "t": np.asarray(monitor.t[:] / b2.second), "unit": i // size,
                     "n_neurons": int(group.N), "per_unit": size}
            if key[1] == "E":
                entry["neuron_sign"] = np.asarray(group.polarity[:])
                entry["sign"] = entry["neuron_sign"][i]
            spikes[key] = entry
        return spikes

    def _own_spike_trains(self) -> dict:
        spikes = {}
        for (k, pop), monitor in self.spike_monitors.items():
            if pop == "P":
                i = np.asarray(monitor.i[:])
                spikes[(k, "P")] = {"i": i, "t": np.asarray(monitor.t[:] / b2.second), "unit": i,
                                    "n_neurons": int(self.areas[k].N), "per_unit": 1}
            elif pop == "E+":
                signed = [(np.asarray(m.i[:]), np.asarray(m.t[:] / b2.second), sign)
                          for m, sign in ((monitor, 1), (self.spike_monitors[(k, "E-")], -1))]
                unit = np.concatenate([i for i, _, _ in signed])
                t = np.concatenate([t for _, t, _ in signed])
                sign = np.concatenate([np.full(len(i), s) for i, _, s in signed])
                by_time = np.argsort(t, kind="stable")
                n = int(self.error_groups[k].N)
                spikes[(k, "E")] = {"i": (2 * unit + (sign < 0))[by_time], "t": t[by_time], "unit": unit[by_time],
                                    "n_neurons": 2 * n, "per_unit": 2, "sign": sign[by_time].astype(float),
                                    "neuron_sign": np.tile([1.0, -1.0], n)}
        return spikes


def build_network(
    spec: CircuitSpec,
    arrays: CircuitArrays,
    schedule: Schedule,
    recording: Recording = Recording(),
    silenced: tuple = (),
    external_input: bool = False,
    schedule_rows: int = 0,
) -> BuiltNetwork:
    """Assemble the circuit of ``spec`` with the values of ``arrays`` for ``schedule``.

    ``silenced`` lists areas (1..L) whose error neurons are clamped silent.
    With ``external_input`` the input rates are a variable ``r_P`` of the input
    group that the caller writes during the run (closed loop, see
    :mod:`brian_errorcircuits.closed_loop`) instead of the schedule's inputs.
    ``schedule_rows``: the schedule's TimedArrays hold at least this many presentations
    (see :func:`_padded`).
    """
    p = spec.neuron
    L = spec.n_areas
    label = spec.label
    gated_recording = gated_spike_recording(spec, recording)
    namespace = {
        "tau_syn": p.tau_syn, "tau_input": p.tau_syn if p.tau_input is None else p.tau_input,
        "rate_max": p.rate_max, "rate_err": p.rate_err, "eta_lateral": spec.eta_lateral,
        **_timed_arrays(spec, schedule, schedule_rows, recording.spike_segments if gated_recording else None),
    }
    backprop = spec.feedback == "backprop"
    # every route is built; a lesioned one is closed by its gate (equations.route_gate), not left
    # out, so that circuits differing only in their cuts generate the same code
    topdown = [(src, into) for src, into, _ in spec.error_routes(with_lesioned=True)]
    senders = {src for src, _ in topdown} if backprop else set()
    stores_rate = spec.mode in eq.STORED_RATE_MODES
    objects, areas, projections = [], [], []
    built = BuiltNetwork(b2.Network(), areas, projections, error_groups=[None], laterals=[None], spec=spec)

    areas.append(b2.NeuronGroup(
        spec.layers[0], eq.input_equations(spec.mode, external_input, filtered=p.tau_input is not None),
        method="euler", name="input", order=ORDER_MEMBRANES, **_group_arguments(spec, "input", None, namespace,
                                                                            gated_recording),
    ))
    for k in range(1, L + 1):
        act = eq.ACTIVATIONS[p.output_activation if k == L else p.activation]
        is_output = k == L
        above = [src for src, into in topdown if into == k]
        incoming = [pr.source for pr in spec.projections if pr.target == k]
        rep = b2.NeuronGroup(
            spec.layers[k],
            eq.representation_equations(
                act, basal_inputs=[f"v_bas_from_{label(src)}" for src in incoming],
                back_inputs=[f"v_back_from_{label(src)}" for src in above] if backprop and not is_output else None,
                is_output=is_output, mode=spec.mode, prospective=p.prospective, sends_error_down=k in senders,
                event_inputs={f"v_bas_from_{label(src)}": _event_transmission(spec, src)[0]
                              for src in incoming if _event_transmission(spec, src)},
            ),
            method="euler", name=label(k), order=ORDER_MEMBRANES,
            **_group_arguments(spec, "representation", act, namespace, gated_recording),
        )
        err = b2.NeuronGroup(
            spec.error_sizes[k - 1],
            eq.error_equations([f"v_td_from_{label(src)}" for src in above], is_output, spec.mode, backprop,
                               prospective=p.prospective_errors),
            method="euler", name=f"{label(k)}_error", order=ORDER_MEMBRANES,
            **_group_arguments(spec, "error", None, namespace, gated_recording),
        )
        if spec.mode == "spiking":
            for event in ("plus", "minus"):
                err.run_on_event(event, eq.OWN_TRACE[event])
        for population, group in (("P", rep), ("E", err)):
            for name, values in arrays.neurons[k][population].items():
                setattr(group, name, values * b2.Hz if name.startswith("g_") else values)
        err.error_active = 0.0 if k in silenced else 1.0
        for src in above:
            receiver = rep if backprop else err
            setattr(receiver, eq.route_gate(f"{'v_back' if backprop else 'v_td'}_from_{label(src)}"),
                    float((src, k) not in spec.lesioned_feedback))
        objects.append(rep.run_regularly(eq.phi_prime_statement(act), when="groups",
                                         order=_top_down_order(L, k), name=f"{label(k)}_gain"))
        objects += _rate_writers(spec, k, rep)
        objects.append(rep.run_regularly(
            "\n".join([eq.RATE_STATEMENT] * stores_rate + [eq.DENDRITIC_ERROR_STATEMENT]),  # after the apical input
            when="groups", order=ORDER_PLASTICITY - 1, name=f"{label(k)}_dendritic_error"))
        if is_output:
            objects.append(rep.run_regularly(eq.MISMATCH_STATEMENT, when="groups", order=ORDER_OUTPUT_MISMATCH,
                                             name=f"{label(k)}_mismatch"))
        built.laterals.append(_laterals(spec, arrays, k, rep, err, backprop, k in senders, namespace))
        areas.append(rep)
        built.error_groups.append(err)

    for pr, W, xi, mask in zip(spec.projections, arrays.weights, arrays.feedback_noise, arrays.connectivity):
        sends_error = backprop and (pr.target, pr.source) in topdown
        noisy = sends_error and bool(np.any(xi))
        transmission = _event_transmission(spec, pr.source)
        syn = _connected(
            areas[pr.source], areas[pr.target],
            eq.forward_synapse_equations(label(pr.source), label(pr.target), sends_error, noisy,
                                         event_driven=bool(transmission)),
            {"w": W, **({"feedback_noise": xi} if noisy else {})}, f"{label(pr.source)}_to_{label(pr.target)}",
            {**namespace, "out_step": transmission[1]} if transmission else namespace, ORDER_PLASTICITY,
            mask=mask, on_pre=eq.EVENT_TRANSMISSION.format(source=label(pr.source)) if transmission else None,
            sums_into_source=sends_error,
        )
        syn.eta = spec.projection_eta(pr)
        if not transmission:
            syn.summed_updaters[f"v_bas_from_{label(pr.source)}_post"].order = _bottom_up_order(pr.target)
        if sends_error:
            syn.summed_updaters[f"v_back_from_{label(pr.target)}_pre"].order = _top_down_order(L, pr.source) + 1
        projections.append(syn)
    if not backprop:
        for pr, B, mask in zip(spec.feedback_projections, arrays.feedback_weights, arrays.feedback_connectivity):
            syn = _connected(
                built.error_groups[pr.source], built.error_groups[pr.target],
                eq.feedback_synapse_equations(label(pr.source)), {"b": B},
                f"{label(pr.source)}_to_{label(pr.target)}_feedback", namespace, ORDER_PLASTICITY, mask=mask,
            )
            syn.summed_updaters[f"v_td_from_{label(pr.source)}_post"].order = _top_down_order(L, pr.target) + 1
            built.feedback[(pr.source, pr.target)] = syn

    if spec.mode == "sampled":
        objects += _spiking_populations(spec, built, namespace)
    if spec.mode == "spiking":  # every neuron's first threshold
        for group in (*areas, *built.error_groups[1:]):
            group.spike_drive = eq.EXPONENTIAL_DRAW
    if recording.spikes and spec.mode in SPIKING_MODES:
        _spike_monitors(spec, built, recording, gated_recording)
    for k in range(1, L + 1):
        for population in ("P", "E"):
            group = built.group(k, population)
            present = [var for var in recording.variables if var in group.variables]
            if present:  # the output area has no top-down error input (v_td), for example
                built.state_monitors[(k, population)] = b2.StateMonitor(
                    group, present, record=True, dt=recording.dt, name=f"states_{group.name}",
                )
    if recording.weights:
        built.weight_monitors.extend(b2.StateMonitor(syn, "w", record=True, dt=recording.dt, name=f"weights_{syn.name}")
                                     for syn in projections)
    known = {var for k in range(1, L + 1) for pop in ("P", "E") for var in built.group(k, pop).variables}
    unknown = set(recording.variables) - known
    if unknown:
        raise SpecError(f"Recording.variables names no variable of any area: {sorted(unknown)}")
    built.network.add(
        *areas, *built.error_groups[1:], *projections, *built.feedback.values(), *objects,
        *[syn for lateral in built.laterals[1:] for syn in lateral.values()],
        *built.spike_groups.values(), *built.spike_monitors.values(), *built.state_monitors.values(),
        *built.weight_monitors,
    )
    return built


def _laterals(spec, arrays, k, rep, err, backprop, sends_error_down, namespace) -> dict:
    """Area k's lateral synapses WIP (rep -> err) and BPI (err -> rep), in their top-down slots.

    Only nonzero entries and partner pairs are connected, so identity laterals
    cost one synapse per neuron.
    """
    label, is_output = spec.label(k), k == spec.n_areas
    plastic = float(spec.eta_lateral) > 0
    partners = partner_matrix(*arrays.lateral[k]["WIP"].shape)
    slot = _top_down_order(spec.n_areas, k)
    synapses = {}
    for matrix, source, target, partner in (("WIP", rep, err, partners), ("BPI", err, rep, partners.T)):
        values = arrays.lateral[k][matrix]
        syn = _connected(source, target, eq.lateral_synapse_equations(matrix, is_output, backprop, plastic, sends_error_down),
                         {"w": values, "partner": partner}, f"{label}_{matrix}", namespace, ORDER_PLASTICITY,
                         mask=(values != 0) | (partner != 0))
        for name, updater in syn.summed_updaters.items():
            updater.order = ORDER_OUTPUT_MISMATCH + 1 if name == "v_den_post" else slot + (2 if matrix == "WIP" else 3)
        synapses[matrix] = syn
    return synapses


def gated_spike_recording(spec: CircuitSpec, recording: Recording) -> bool:
    """Whether the spikes of ``recording.spike_segments`` are recorded within one run call, by
    monitors of gated events (:data:`~brian_errorcircuits.equations.RECORDED_FIRING`; the
    neuron-level ``spiking`` mode, where a spike is the neuron's own threshold crossing, which an
    event can repeat), rather than by switching monitors between run calls (the sampled mode)."""
    return spec.mode == "spiking" and recording.spikes and recording.spike_segments is not None


def _group_arguments(spec: CircuitSpec, kind: str, activation, namespace: dict, gated: bool = False) -> dict:
    """NeuronGroup arguments of a group of ``kind`` (``'input'``, ``'representation'``, ``'error'``):
    its namespace and, in the neuron-level
    ``spiking`` mode, its firing condition(s) and the step each spike adds to its own trace
    (``gated``: also the recorded events of :func:`gated_spike_recording`).

    Neurons fire by escape noise: an inhomogeneous Poisson process at the neuron's own
    rate (time rescaling, :data:`~brian_errorcircuits.equations.SPIKE_DRIVE`), so a
    neuron's spike count is an unbiased estimate of its rate and its trace, filtered
    with tau_syn (tau_input for inputs), of its output.
    """
    if spec.mode != "spiking":
        return {"namespace": namespace}
    p = spec.neuron
    rate_scale = p.rate_err if kind == "error" else p.rate_max
    tau = namespace["tau_input"] if kind == "input" else p.tau_syn
    own = {**namespace, "trace_step": float(1 / (rate_scale * tau)),
           "rate_low": activation.rate_low if activation else 0.0,
           "rate_span": activation.rate_span if activation else 1.0}
    if kind == "error":
        events = {event: eq.NEURON_FIRING[event] for event in ("plus", "minus")}
        if gated:
            events.update({f"{event}_recorded": eq.RECORDED_FIRING[event] for event in ("plus", "minus")})
        return {"namespace": own, "events": events}
    return {"namespace": own, "threshold": eq.NEURON_FIRING["threshold"], "reset": eq.OWN_TRACE[kind],
            "events": {"spike_recorded": eq.RECORDED_FIRING["threshold"]} if gated else {}}


def _spike_monitors(spec: CircuitSpec, built: BuiltNetwork, recording: Recording, gated: bool):
    """Monitors of the spiking populations of the areas ``recording`` asks for: the sampled
    mode's generator groups, or the neurons themselves (error neurons: their positive- and
    negative-error spikes, keys ``(k, 'E+')`` and ``(k, 'E-')``; ``gated``: their recorded events)."""
    suffix = "_recorded" if gated else ""
    for k in range(spec.n_areas + 1):
        if recording.spike_areas is not None and k not in recording.spike_areas:
            continue
        if spec.mode == "sampled":
            for pop in ("P", "E") if k else ("P",):
                group = built.spike_groups[(k, pop)]
                built.spike_monitors[(k, pop)] = b2.SpikeMonitor(group, name=f"spikes_{group.name}")
            continue
        group = built.group(k, "P")
        built.spike_monitors[(k, "P")] = b2.EventMonitor(group, f"spike{suffix}", name=f"spikes_{group.name}")
        if k:
            for key, event in (("E+", "plus"), ("E-", "minus")):
                built.spike_monitors[(k, key)] = b2.EventMonitor(
                    built.error_groups[k], event + suffix, name=f"{event}_spikes_{built.error_groups[k].name}")


def _rate_writers(spec: CircuitSpec, k: int, rep) -> list:
    """Area k's writes of its stored rate (:data:`~brian_errorcircuits.equations.RATE_STATEMENT`)
    besides the one before plasticity: after its bottom-up input when a rate-mode area above reads
    it, and after the membranes when rates follow the lagging membrane (``prospective`` off)."""
    if spec.mode not in eq.STORED_RATE_MODES:
        return []
    writers = []
    if spec.mode == "rate" and any(pr.source == k for pr in spec.projections):
        writers.append(rep.run_regularly(eq.RATE_STATEMENT, when="groups", order=_bottom_up_order(k) + 1,
                                         name=f"{spec.label(k)}_rate"))
    if not spec.neuron.prospective:
        writers.append(rep.run_regularly(eq.RATE_STATEMENT, when="groups", order=ORDER_MEMBRANES + 1,
                                         name=f"{spec.label(k)}_rate_after_membranes"))
    return writers


def _bottom_up_order(k: int) -> int:
    """Area k's slot in the bottom-up part of the sweep: its basal inputs are summed at this
    order, its stored rate written just after (the areas above read it)."""
    return ORDER_BOTTOM_UP + 2 * k


def _top_down_order(n_areas: int, k: int) -> int:
    """Start of area k's slot in the top-down part of the sweep (highest area first)."""
    return ORDER_TOP_DOWN + 10 * (n_areas - k)


def _event_transmission(spec: CircuitSpec, source: int) -> tuple:
    """(decay time constant's name, step of the decoded output per spike) when spikes of area
    ``source`` reach the areas above event by event; () when every step sums them over synapses.

    Event-driven in the neuron-level ``spiking`` mode wherever the decoded output of
    the presynaptic neuron is its trace times a constant: the input area, and areas
    whose phi starts at rate 0 (logistic, softrelu).  A tanh area's output,
    -1 + 2 x trace, carries an offset that every weight multiplies, so its synapses
    keep summing (weight x output) at every step.
    """
    if spec.mode != "spiking":
        return ()
    p = spec.neuron
    if source == 0:
        tau = p.tau_syn if p.tau_input is None else p.tau_input
        return ("tau_input", float(1 / (p.rate_max * tau)))
    act = eq.ACTIVATIONS[p.output_activation if source == spec.n_areas else p.activation]
    if act.rate_low != 0:
        return ()
    return ("tau_syn", float(act.rate_span / (p.rate_max * p.tau_syn)))


def _connected(source, target, model, values: dict, name, namespace, order, mask=None, on_pre=None,
               sums_into_source: bool = False):
    """Synapses from ``source`` to ``target`` where ``mask`` (default: everywhere) is set; each
    variable in ``values`` is set from its matrix of shape (target.N, source.N); ``on_pre``:
    what a presynaptic spike does.

    Synapses are stored by source neuron, then target, so that a sum into the
    targets adds to a different neuron at each synapse.  ``sums_into_source`` (a
    summed variable into the source neurons, e.g. errors sent down) stores them by
    diagonal instead, (target - source) mod target.N, then source: consecutive
    synapses share neither neuron, so no sum waits for its previous addition to the
    same neuron (with one source's synapses in a row, that sum ran about 2.5x slower).
    """
    mask = np.ones((target.N, source.N), bool) if mask is None else mask
    post, pre = np.nonzero(mask)  # row = target, column = source
    first = (post - pre) % target.N if sums_into_source else pre
    storage_order = np.lexsort((post, pre, first))
    pre, post = pre[storage_order], post[storage_order]
    syn = b2.Synapses(source, target, model, on_pre=on_pre, method="euler", name=name, namespace=namespace,
                      order=order)
    syn.connect(i=pre, j=post)
    for variable, matrix in values.items():
        setattr(syn, variable, np.asarray(matrix, float)[post, pre])
    return syn


def _spiking_populations(spec: CircuitSpec, built: BuiltNetwork, namespace: dict) -> list:
    """Poisson populations reading their neuron's rate, and their spike -> trace synapses."""
    p = spec.neuron
    connections = []
    for k in range(spec.n_areas + 1):
        act = eq.ACTIVATIONS[p.output_activation if k == spec.n_areas else p.activation]
        kinds = [("P", "input", p.input_neurons) if k == 0 else ("P", "representation", p.n_rep)]
        if k > 0:
            kinds.append(("E", "error", 2 * p.n_err))
        for pop, kind, size in kinds:
            group = built.group(k, pop)
            model, threshold = eq.SPIKE_GENERATORS[kind]
            per_sign = size if pop == "P" else p.n_err  # error neurons have a (+) and a (-) population
            units = np.arange(group.N).repeat(size)
            spikes = b2.NeuronGroup(
                group.N * size, model, threshold=threshold, name=f"{spec.label(k)}_{pop}_spikes",
                namespace={**namespace, "rate_low": act.rate_low if k > 0 else 0.0,
                           "rate_span": act.rate_span},
            )
            spikes.unit_rate = b2.linked_var(group, "rate_P" if pop == "P" and k > 0 else f"r_{pop}", index=units)
            if pop == "E":
                spikes.polarity = np.tile(np.repeat([1.0, -1.0], p.n_err), group.N)
            rate_scale = p.rate_max if pop == "P" else p.rate_err
            tau = namespace["tau_input"] if k == 0 else p.tau_syn
            trace = b2.Synapses(
                spikes, group, on_pre=eq.TRACE_INCREMENT[kind], name=f"{spikes.name}_trace",
                namespace={"trace_step": float(1 / (per_sign * rate_scale * tau))},
            )
            trace.connect(i=np.arange(spikes.N), j=units)
            built.spike_groups[(k, pop)] = spikes
            connections.append(trace)
    return connections


def _timed_arrays(spec: CircuitSpec, schedule: Schedule, rows: int = 0, recorded_segments=None) -> dict:
    """Inputs, targets and switches of the schedule as TimedArrays (one run call), padded to
    at least ``rows`` presentations; inputs and targets of task units are spread over the
    input and output neurons (``spec.encode_*``).  With ``recorded_segments``, also
    ``spikes_recorded``: 1 during the presentations of those segments."""
    dt = schedule.duration
    gate_dt = schedule.duration / schedule.averaging_steps_per_presentation
    arrays = {
        "input_rates": (spec.encode_inputs(schedule.inputs), dt),
        "target_rates": (spec.encode_targets(schedule.targets), dt),
        "target_on": (schedule.target_on.astype(float), dt),
        "learning_on": (schedule.learning.astype(float), dt),
        "averaging": (schedule.averaging_gate(), gate_dt),
    }
    if recorded_segments is not None:
        arrays["spikes_recorded"] = (np.isin(schedule.labels, list(recorded_segments)).astype(float), dt)
    return {name: b2.TimedArray(_padded(values, rows * len(values) // len(schedule)), dt=step, name=name)
            for name, (values, step) in arrays.items()}


def _padded(values: np.ndarray, rows: int = 0) -> np.ndarray:
    """Rows padded to a power of two, and to at least ``rows`` (never read: the run ends first).

    Brian2 compiles a TimedArray's length into the generated code; rounding it
    up lets schedules of similar length share one compiled network, and a
    common ``rows`` lets schedules of any length up to it share one.
    """
    rows = 1 << max(int(np.ceil(np.log2(max(len(values), rows)))), 3)
    return np.concatenate([values, np.repeat(values[-1:], rows - len(values), axis=0)])
