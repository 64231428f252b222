"""Brian2 equation strings of the error-neuron microcircuit.

Pure strings and small records; no Brian2 objects are created here.  The same
fragments serve the ``rate`` mode and the ``spiking`` mode: spiking only swaps
the fragment that turns rates into the signal other areas see (``out_P``,
``out_E``) for one that filters spike trains.

Voltages are dimensionless (the scale of phi's argument), conductances are in
1/time, rates of spiking neurons in Hz.

One *area group* holds, row by row, the unit i of an area: its representation
neuron (soma ``u_P``, basal input ``v_bas``, apical input ``v_api``) and its
error neuron (soma ``u_E``, dendrite ``v_den``, gated by ``gain``, the
partner's phi').  In spiking mode each row is read out by populations of
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


def area_equations(
    activation: Activation,
    basal_inputs: list[str],
    topdown_inputs: list[str],
    is_output: bool,
    mode: str,
    prospective: bool = True,
) -> str:
    """Equations of one area group (representation + error neuron per row).

    Parameters
    ----------
    activation : Activation
        phi of the representation neurons.
    basal_inputs, topdown_inputs : list of str
        One variable per incoming projection (Brian2 allows one summed
        variable per target variable); the compartments sum them.
    is_output : bool
        Output error neurons are driven by ``target_rates(t, i)`` through the
        conductance ``g_tgt * target_on(t)`` instead of top-down error.
    mode : {'rate', 'spiking'}
    prospective : bool
        Read the representation rate from u + tau_eff du/dt (Latent
        Equilibrium) rather than from the lagging membrane u.
    """
    u_breve = "(g_bas*v_bas + g_api*v_api)/g_tot" if prospective else "u_P"
    lines = [
        "# representation neuron: basal (bottom-up prediction) and apical (error) compartments",
        *[f"{name} : 1" for name in basal_inputs],
        f"v_bas = {_sum_of(basal_inputs)} : 1",
        "v_api : 1  # apical: lateral input from the partner error neuron",
        "du_P/dt = g_bas*v_bas + g_api*v_api - g_tot*u_P : 1",
        f"u_breve_P = {u_breve} : 1",
        f"r_P = {activation.expression('u_breve_P')} : 1",
        "# error neuron: dendrite gated by the partner's gain, linear soma",
        "gain : 1  # lateral: w_pe * phi'(u_breve_P) of the partner",
        "w_pe : 1 (constant)",
        "w_ep : 1 (constant)",
        "error_active : 1 (shared)  # 0 silences every error neuron of the area",
    ]
    if is_output:
        lines += [
            "v_den = gain*(target_rates(t, i) - out_P) : 1",
            "g_err = g_tgt*target_on(t) : hertz",
        ]
    else:
        lines += [
            *[f"{name} : 1" for name in topdown_inputs],
            f"v_td = {_sum_of(topdown_inputs)} : 1",
            "v_den = gain*v_td : 1",
            "g_err = g_den : hertz",
        ]
    lines += [
        "du_E/dt = g_err*v_den - (g_l + g_err)*u_E : 1",
        "r_E = error_active*g_err*v_den/(g_l + g_err) : 1  # prospective, linear",
        *_readout(mode, activation),
        "# presentation averages: integrals over the part of each presentation after settling",
        "dsum_P/dt = averaging(t)*out_P : second",
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
        lines += ["da_P/dt = -a_P/tau_input : 1", "out_P = a_P : 1"]
    elif filtered:
        lines += ["dout_P/dt = (r_P - out_P)/tau_input : 1"]
    else:
        lines += ["out_P = r_P : 1"]
    return "\n".join(lines)


def _readout(mode: str, activation: Activation) -> list[str]:
    """What other groups read: rates (rate mode) or filtered spike trains (spiking)."""
    if mode == "rate":
        return ["out_P = r_P : 1", "out_E = r_E : 1"]
    low, span = activation.rate_low, activation.rate_span
    return [
        "# synaptic traces of the area's spiking populations, decoded back to phi's range",
        "da_P/dt = -a_P/tau_syn : 1",
        "da_E/dt = -a_E/tau_syn : 1  # (+) population adds, (-) population subtracts",
        f"out_P = {low!r} + {span!r}*a_P : 1",
        "out_E = a_E : 1",
    ]


#: Spike generators of spiking mode: Poisson neurons whose rate follows their
#: unit (``unit_rate`` is linked to the area group's ``r_P`` or ``r_E``).
#: Error neurons come in a (+) and a (-) population (``polarity`` = +1 / -1); a
#: neuron fires at rate_err * [polarity * r_E]_+, so a signed error is carried by
#: non-negative rates and each population is silent when its sign is absent.
SPIKE_GENERATORS = {
    "representation": (
        "unit_rate : 1 (linked)",
        "rand() < rate_max*(unit_rate - rate_low)/rate_span*dt",
    ),
    "error": (
        "unit_rate : 1 (linked)\npolarity : 1 (constant)",
        "rand() < rate_err*polarity*unit_rate*dt",
    ),
    "input": (
        "unit_rate : 1 (linked)",
        "rand() < rate_max*unit_rate*dt",
    ),
}

#: Spike -> trace of the unit the neuron belongs to (``a_P`` or ``a_E``).
TRACE_INCREMENT = {
    "representation": "a_P_post += trace_step",
    "input": "a_P_post += trace_step",
    "error": "a_E_post += polarity_pre*trace_step",
}

#: Lateral, one-to-one couplings inside an area, as statements run every step.
LATERAL_GAIN = "gain = w_pe*{phi_prime}"
LATERAL_APICAL = "v_api = w_ep*out_E"


def forward_synapse_equations(source_label: str, target_label: str, sends_error: bool) -> str:
    """A plastic basal projection from area ``source`` to area ``target``.

    dW/dt = eta (u_breve_post - a v_bas_post) out_pre, the dendritic-prediction
    rule: soma minus what the basal dendrite alone predicts, times the
    presynaptic (filtered) activity.  With ``sends_error`` (backprop feedback)
    the same synapses also send the target's error down to the source's error
    neurons with W^T (a summed variable on the presynaptic side), so the
    feedback tracks the learning weights exactly.
    """
    lines = [
        "dw/dt = eta*learning_on(t)*(u_breve_P_post - basal_fraction*v_bas_post)*out_P_pre : 1 (clock-driven)",
        "eta : hertz (shared, constant)",
        f"v_bas_from_{source_label}_post = w*out_P_pre : 1 (summed)",
    ]
    if sends_error:
        lines.append(f"v_td_from_{target_label}_pre = w*out_E_post : 1 (summed)")
    return "\n".join(lines)


def feedback_synapse_equations(source_label: str) -> str:
    """A fixed top-down projection between error neurons (feedback alignment)."""
    return f"b : 1 (constant)\nv_td_from_{source_label}_post = b*out_E_pre : 1 (summed)"
