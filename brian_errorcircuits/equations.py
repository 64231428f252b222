"""Brian2 equation strings of the error-neuron microcircuit.

Pure strings and small records; no Brian2 objects are created here.  The same
fragments serve the ``rate`` mode and the ``spiking`` mode: spiking only swaps
the fragment that turns rates into the signal other areas see (``out_P``,
``out_E``) for one that filters spike trains.

Voltages are dimensionless (the scale of phi's argument), conductances are in
1/time, rates of spiking neurons in Hz.

Each area has two groups: n_R representation neurons (soma ``u_P``, basal
input ``v_bas``, apical input ``v_api``) and n_E error neurons (soma ``u_E``,
dendrite ``v_den`` gated by ``gain``, WIP times the partners' phi'), coupled
by the lateral synapses WIP and BPI.  Every neuron has its own conductances
and its own slope and offset of phi (state variables).  In the
population-sampled spiking mode each neuron is read out by a population of
Poisson neurons (see :data:`SPIKE_GENERATORS`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Activation:
    """A transfer function phi as Brian2 expressions in ``x``.

    ``rate_low`` and ``rate_span`` map phi's range onto firing rates:
    rate = rate_max * (phi - rate_low) / rate_span.  ``rate_low`` is None for
    functions without a lower bound (they cannot drive spiking neurons).
    """

    name: str
    phi: str
    phi_prime: str
    rate_low: float | None
    rate_span: float = 1.0

    def expression(self, argument: str, derivative: bool = False) -> str:
        """The Brian2 expression of phi (or phi') applied to ``argument``."""
        template = self.phi_prime if derivative else self.phi
        return "(" + re.sub(r"\bx\b", f"({argument})", template) + ")"

    def __call__(self, x: np.ndarray, derivative: bool = False) -> np.ndarray:
        """Evaluate the *same* expression string in numpy (the reference uses this)."""
        template = self.phi_prime if derivative else self.phi
        names = {"tanh": np.tanh, "exp": np.exp, "log": np.log, "x": np.asarray(x, float)}
        return np.broadcast_to(eval(template, {"__builtins__": {}}, names), np.shape(x)).astype(float)


#: The transfer functions phi by name (``NeuronParams.activation`` and ``output_activation``).
ACTIVATIONS = {
    act.name: act
    for act in (
        Activation("tanh", "tanh(x)", "1 - tanh(x)**2", rate_low=-1.0, rate_span=2.0),
        Activation("logistic", "1/(1 + exp(-x))", "exp(-x)/(1 + exp(-x))**2", rate_low=0.0),
        Activation("softrelu", "log(1 + exp(x))", "1/(1 + exp(-x))", rate_low=0.0),
        Activation("linear", "x", "x*0 + 1", rate_low=None),
    )
}


def _sum_of(names, empty="0"):
    return " + ".join(names) if names else empty


def route_gate(input_name: str) -> str:
    """The gate of the top-down error input ``input_name`` (one per route into the group): a shared value
    set before the run, 1 for an open route, 0 for a lesioned one (``CircuitSpec.lesioned_feedback``).
    A value rather than a missing input, so that circuits that differ only in their cuts generate the
    same code (one ``cpp_standalone`` build serves them all)."""
    return f"{input_name}_open"


def _gated_inputs(names) -> tuple:
    """(declarations of the gates of the top-down inputs ``names``, their gated sum)."""
    gates = [f"{route_gate(name)} : 1 (shared, constant)  # 0: this error route is lesioned" for name in names]
    return gates, _sum_of([f"{route_gate(name)}*{name}" for name in names])


def representation_equations(
    activation: Activation,
    basal_inputs: list[str],
    back_inputs: list[str] | None,
    is_output: bool,
    mode: str,
    prospective: bool = True,
    sends_error_down: bool = False,
    event_inputs: dict | None = None,
) -> str:
    """Equations of an area's representation neurons (soma, basal and apical compartments).

    Parameters
    ----------
    activation : Activation
        phi; each neuron applies it as phi(slope_P (u - offset_P)).
    basal_inputs : list of str
        One variable per incoming bottom-up projection (Brian2 allows one
        summed variable per target variable); ``v_bas`` sums them.
    back_inputs : list of str or None
        ``backprop`` feedback into a hidden area: one variable per area above,
        where the forward synapses deliver (W + Xi)^T times the partner errors
        of that area; ``v_back`` sums them, each times its :func:`route_gate`,
        and the lateral synapses pass it on
        to the error partners.  None: no ``v_back`` (output area, feedback alignment).
    is_output : bool
        Output neurons also hold ``mismatch_P``, phi' (target - out_P), which
        the lateral matrix WIP carries to the output error neurons.
    mode : {'rate', 'spiking'}
    prospective : bool
        Read the rate from u + tau_eff du/dt (Latent Equilibrium) rather than
        from the lagging membrane u.
    sends_error_down : bool
        ``backprop`` feedback from this area: ``partner_error`` holds the
        partner error neuron's output, which forward synapses send down.
    event_inputs : dict, optional
        Basal inputs (names from ``basal_inputs``) that spikes reach event by event
        (:data:`EVENT_TRANSMISSION`), each with the name of its decay time constant:
        the input decays like the presynaptic traces, so between weight changes it
        equals the summed weight times trace.
    """
    u_breve = "(g_bas*v_bas + g_api*v_api)/g_tot" if prospective else "u_P"
    argument = "slope_P*(u_breve_P - offset_P)"
    lines = [
        "# per-neuron conductances (1/time) and slope / offset of phi",
        "g_l : hertz (constant)",
        "g_bas : hertz (constant)",
        "g_api : hertz (constant)",
        "g_tot = g_l + g_bas + g_api : hertz",
        "slope_P : 1 (constant)",
        "offset_P : 1 (constant)",
        "# basal (bottom-up prediction) and apical (error, through BPI) compartments",
        *[f"d{name}/dt = -{name}/{event_inputs[name]} : 1" if name in (event_inputs or {}) else f"{name} : 1"
          for name in basal_inputs],
        f"v_bas = {_sum_of(basal_inputs)} : 1",
        "v_api : 1  # apical: BPI times the area's error neurons (lateral synapses)",
        "du_P/dt = g_bas*v_bas + g_api*v_api - g_tot*u_P : 1",
        f"u_breve_P = {u_breve} : 1",
        f"r_P = {activation.expression(argument)} : 1",
        *(["rate_P : 1  # r_P, stored by RATE_STATEMENT wherever its inputs change; synapses and generators read it"]
          if mode in STORED_RATE_MODES else []),
        "phi_prime_P : 1  # slope_P phi'(...), written once per step; WIP carries it to the error neurons",
        "dendritic_error_P : 1  # soma minus basal prediction, written once per step; plastic synapses read it",
    ]
    if is_output:
        lines.append("mismatch_P : 1  # phi_prime_P (target - out_P), written once per step")
    if sends_error_down:
        lines.append("partner_error : 1  # out_E of the partner error neuron (lateral synapses)")
    if back_inputs is not None:
        gates, gated_sum = _gated_inputs(back_inputs)
        lines += [*[f"{name} : 1" for name in back_inputs], *gates, f"v_back = {gated_sum} : 1"]
    lines += [
        *_readout(mode, activation, "P"),
        "# presentation average: integral over the part of each presentation after settling",
        "dsum_P/dt = averaging(t)*out_P : second",
    ]
    return "\n".join(lines)


def error_equations(topdown_inputs: list[str], is_output: bool, mode: str, backprop: bool,
                    prospective: bool = True) -> str:
    """Equations of an area's error neurons (soma, dendrite gated by the partner gains).

    A hidden error neuron's dendrite is ``gain * v_td``: ``gain`` is WIP
    times the partner gains, ``v_td`` the top-down error, either from the
    lateral synapses (``backprop``: the partner's ``v_back``) or summed from
    fixed feedback synapses (``topdown_inputs``, feedback alignment, each
    times its :func:`route_gate`).  An
    output error neuron's dendrite ``v_den`` is WIP times the gated mismatch
    of the representation neurons, through ``g_tgt`` while a target is on;
    its soma always leaks with g_l + g_tgt.  Error neurons are linear:
    ``prospective`` r_E = slope_E (g_err v_den / g_leak_E - offset_E) (the
    soma's fixed point, no lag), else r_E = slope_E (u_E - offset_E).
    """
    lines = [
        "g_l : hertz (constant)",
        "g_den : hertz (constant)",
        "g_tgt : hertz (constant)",
        "slope_E : 1 (constant)",
        "offset_E : 1 (constant)",
        "error_active : 1 (shared)  # 0 silences every error neuron of the area",
    ]
    if is_output:
        lines += [
            "v_den : 1  # WIP times the gated mismatch (lateral synapses)",
            "g_err = g_tgt*target_on(t) : hertz",
            "g_leak_E = g_l + g_tgt : hertz",
        ]
    else:
        lines += ["gain : 1  # WIP times the partner gains phi' (lateral synapses)"]
        if backprop:
            lines += ["v_td : 1  # top-down error: the partner's v_back (lateral synapses)"]
        else:
            gates, gated_sum = _gated_inputs(topdown_inputs)
            lines += [*[f"{name} : 1" for name in topdown_inputs], *gates, f"v_td = {gated_sum} : 1"]
        lines += [
            "v_den = gain*v_td : 1",
            "g_err = g_den : hertz",
            "g_leak_E = g_l + g_den : hertz",
        ]
    lines += [
        "du_E/dt = g_err*v_den - g_leak_E*u_E : 1",
        f"r_E = error_active*slope_E*({'g_err*v_den/g_leak_E' if prospective else 'u_E'} - offset_E) : 1  # linear",
        *_readout(mode, None, "E"),
        "dsum_E/dt = averaging(t)*out_E : second",
    ]
    return "\n".join(lines)


def input_equations(mode: str, external: bool = False, filtered: bool = False) -> str:
    """Input area: rates in [0, 1] from ``input_rates(t, i)``, or (``external``) a
    variable ``r_P`` written from outside during the run (closed-loop control).

    Spike trains of the input are filtered with ``tau_input``; ``filtered``
    low-pass filters the rate-mode signal with it too (slow input synapses).
    """
    lines = ["r_P : 1  # set from outside" if external else "r_P = input_rates(t, i) : 1"]
    if mode == "spiking":
        lines.append(SPIKE_DRIVE["input"])
    if mode != "rate":
        lines += ["da_P/dt = -a_P/tau_input : 1", "out_P = a_P : 1"]
    elif filtered:
        lines += ["dout_P/dt = (r_P - out_P)/tau_input : 1"]
    else:
        lines += ["out_P = r_P : 1"]
    return "\n".join(lines)


def _readout(mode: str, activation: Activation | None, population: str) -> list[str]:
    """What other groups read of population P or E: rates (rate mode) or filtered spike trains
    (the neuron's own in ``spiking`` mode, its Poisson generators' in ``sampled`` mode)."""
    if mode == "rate":
        return [f"out_{population} = {'rate_P' if population == 'P' else 'r_E'} : 1"]
    drive = [SPIKE_DRIVE["error" if population == "E" else "representation"]] if mode == "spiking" else []
    if population == "E":
        return [*drive, "da_E/dt = -a_E/tau_syn : 1  # trace: (+) spikes add, (-) spikes subtract",
                "out_E = a_E : 1"]
    low, span = activation.rate_low, activation.rate_span
    return [
        *drive,
        "# synaptic trace of the spiking population, decoded back to phi's range",
        "da_P/dt = -a_P/tau_syn : 1",
        f"out_P = {low!r} + {span!r}*a_P : 1",
    ]


#: Firing rate (Hz) of a neuron with rate ``{rate}`` in phi's units: representation neurons map
#: phi's range onto 0..rate_max (``rate_low``, ``rate_span`` per group), input neurons their rate
#: in [0, 1]; an error neuron's signed rate r_E gives positive-error spikes at rate_err [r_E]_+
#: and negative-error spikes at rate_err [-r_E]_+ (``{sign}``: '' / '-'), so each sign is
#: silent when its error is absent.
FIRING_RATE = {
    "input": "rate_max*{rate}",
    "representation": "rate_max*({rate} - rate_low)/rate_span",
    "error": "rate_err*{sign}{rate}",
}

#: Neuron-level spiking, an inhomogeneous Poisson process per neuron by time rescaling: each
#: neuron integrates its firing rate into ``spike_drive``, which starts at minus an Exp(1) draw
#: and fires when it crosses 0; every spike subtracts a fresh Exp(1) draw (keeping the
#: overshoot).  The spike count over any interval is Poisson with mean the integrated rate, at
#: one random number per *spike* rather than per neuron and step.  An error neuron integrates
#: rate_err abs(r_E) and fires a positive- or negative-error spike by the sign of r_E.
SPIKE_DRIVE = {kind: f"dspike_drive/dt = {rate} : 1  # integrated firing rate (time rescaling)"
               for kind, rate in (("input", FIRING_RATE["input"].format(rate="r_P")),
                                  ("representation", FIRING_RATE["representation"].format(rate="r_P")),
                                  ("error", FIRING_RATE["error"].format(sign="", rate="abs(r_E)")))}
EXPONENTIAL_DRAW = "log(1 - rand())"  #: minus an Exp(1) random number
NEURON_FIRING = {"threshold": "spike_drive > 0", "plus": "spike_drive > 0 and r_E > 0",
                 "minus": "spike_drive > 0 and r_E < 0"}

#: Neuron-level spiking: the same firing conditions, true only during the presentations whose
#: spikes are recorded (``spikes_recorded(t)``, 1 there): monitors of these events record chosen
#: segments within one run call (switching monitors on and off takes one call per stretch, and
#: ``cpp_standalone`` compiles every call's code anew).  They change nothing: the neuron's own
#: threshold and resets stay with ``NEURON_FIRING``.
RECORDED_FIRING = {event: f"{condition} and spikes_recorded(t) > 0" for event, condition in NEURON_FIRING.items()}

#: Neuron-level spiking: each spike of a neuron adds ``trace_step`` to its own synaptic trace
#: (a positive-error spike adds, a negative-error spike subtracts), so that the trace's mean is
#: the neuron's rate (or signed error) in phi's units, and draws the neuron's next threshold.
OWN_TRACE = {event: f"spike_drive += {EXPONENTIAL_DRAW}\n{step}" for event, step in (
    ("input", "a_P += trace_step"), ("representation", "a_P += trace_step"),
    ("plus", "a_E += trace_step"), ("minus", "a_E -= trace_step"))}

#: Spike generators of the sampled mode: Poisson neurons whose rate follows their
#: neuron (``unit_rate`` is linked to the area group's ``r_P`` or ``r_E``), one random
#: number per generator and step.  Error neurons are read out by a (+) and a (-) population
#: (``polarity`` = +1 / -1); a generator fires at rate_err * [polarity * r_E]_+.
SPIKE_GENERATORS = {
    "representation": ("unit_rate : 1 (linked)",
                       f"rand() < {FIRING_RATE['representation'].format(rate='unit_rate')}*dt"),
    "error": ("unit_rate : 1 (linked)\npolarity : 1 (constant)",
              f"rand() < {FIRING_RATE['error'].format(sign='polarity*', rate='unit_rate')}*dt"),
    "input": ("unit_rate : 1 (linked)", f"rand() < {FIRING_RATE['input'].format(rate='unit_rate')}*dt"),
}

#: Spike -> trace of the unit the neuron belongs to (``a_P`` or ``a_E``).
TRACE_INCREMENT = {
    "representation": "a_P_post += trace_step",
    "input": "a_P_post += trace_step",
    "error": "a_E_post += polarity_pre*trace_step",
}

#: Modes whose representation neurons store their rate ``rate_P``: computed once per neuron
#: where its inputs change rather than once per reading synapse (rate mode's forward synapses)
#: or spike generator (sampled mode); each read of the subexpression ``r_P`` evaluates phi.
STORED_RATE_MODES = ("rate", "sampled")

#: Run on representation neurons wherever ``r_P``'s inputs change within a step: after the
#: area's bottom-up input (rate mode, areas with projections upward), before the plastic
#: synapses' update (after the apical input), and, when rates follow the lagging membrane
#: (``prospective`` off), after the membranes.
RATE_STATEMENT = "rate_P = r_P"


def phi_prime_statement(activation: Activation) -> str:
    """Run once per step on representation neurons: the gain phi' that WIP carries to the error neurons."""
    return f"phi_prime_P = slope_P*{activation.expression('slope_P*(u_breve_P - offset_P)', derivative=True)}"


#: Run once per step on representation neurons, just before the plastic synapses' update: the
#: postsynaptic factor of the dendritic-prediction rule, u_breve - (g_bas / g_tot) v_bas, so that
#: each synapse reads one value of its neuron instead of recomputing it.
DENDRITIC_ERROR_STATEMENT = "dendritic_error_P = u_breve_P - g_bas/g_tot*v_bas"

#: Event-driven transmission of a spike through a forward synapse: the postsynaptic basal input
#: from that area jumps by the weight times the step ``out_step`` the spike adds to the presynaptic
#: neuron's decoded output (see ``representation_equations(event_inputs=...)``).
EVENT_TRANSMISSION = "v_bas_from_{source}_post += w*out_step"


#: Run once per step on the output's representation neurons, after the membranes (so that
#: the output error neurons fire from the output as the step leaves it): the gated mismatch.
MISMATCH_STATEMENT = "mismatch_P = phi_prime_P*(target_rates(t, i) - out_P)"


def lateral_synapse_equations(matrix: str, is_output: bool, backprop: bool, plastic: bool,
                              sends_error_down: bool = False) -> str:
    """Lateral synapses of one area: ``WIP`` (representation -> error) or ``BPI`` (error -> representation).

    ``partner`` is 1 on the rectangular identity (error neuron i, representation
    neuron i) and 0 elsewhere: with ``backprop`` feedback the same synapses copy
    the partner's error up (BPI: ``partner_error``) and the partner's top-down
    error over (WIP: ``v_td``); ``sends_error_down``: the area has error routes
    to areas below, so BPI also fills ``partner_error``.  ``plastic`` lets the weight relax toward the
    identity, dM/dt = -eta_lateral (M - partner), while plasticity is on.
    """
    weight = "dw/dt = -eta_lateral*learning_on(t)*(w - partner) : 1 (clock-driven)" if plastic \
        else "w : 1 (constant)"
    lines = [weight, "partner : 1 (constant)"]
    if matrix == "WIP":
        lines.append("v_den_post = w*mismatch_P_pre : 1 (summed)" if is_output
                     else "gain_post = w*phi_prime_P_pre : 1 (summed)")
        if backprop and not is_output:
            lines.append("v_td_post = partner*v_back_pre : 1 (summed)")
    else:
        lines.append("v_api_post = w*out_E_pre : 1 (summed)")
        if backprop and sends_error_down:
            lines.append("partner_error_post = partner*out_E_pre : 1 (summed)")
    return "\n".join(lines)


def forward_synapse_equations(source_label: str, target_label: str, sends_error: bool,
                              feedback_noise: bool = False, event_driven: bool = False) -> str:
    """A plastic basal projection from area ``source`` to area ``target``.

    dW/dt = eta (u_breve_post - a v_bas_post) out_pre, a = g_bas / g_tot of the
    postsynaptic neuron: the dendritic-prediction rule, soma minus what the
    basal dendrite alone predicts (``dendritic_error_P``, computed once per
    neuron and step), times the presynaptic (filtered) activity.
    ``event_driven``: the basal input is not summed over every synapse at every
    step; spikes deliver it (:data:`EVENT_TRANSMISSION`, the synapses' ``on_pre``).
    With ``sends_error`` (backprop feedback) the same synapses also send the
    partner errors of the target area down to the source area with W^T (a
    summed variable on the presynaptic side), so the feedback tracks the
    learning weights exactly; ``feedback_noise`` adds the fixed ``feedback_noise`` Xi: (W + Xi)^T.
    """
    lines = [
        "dw/dt = eta*learning_on(t)*dendritic_error_P_post*out_P_pre : 1 (clock-driven)",
        "eta : hertz (shared, constant)",
    ]
    if not event_driven:
        lines.append(f"v_bas_from_{source_label}_post = w*out_P_pre : 1 (summed)")
    if sends_error:
        if feedback_noise:
            lines += ["feedback_noise : 1 (constant)",
                      f"v_back_from_{target_label}_pre = (w + feedback_noise)*partner_error_post : 1 (summed)"]
        else:
            lines.append(f"v_back_from_{target_label}_pre = w*partner_error_post : 1 (summed)")
    return "\n".join(lines)


def feedback_synapse_equations(source_label: str) -> str:
    """A fixed top-down projection between error neurons (feedback alignment)."""
    return f"b : 1 (constant)\nv_td_from_{source_label}_post = b*out_E_pre : 1 (summed)"
