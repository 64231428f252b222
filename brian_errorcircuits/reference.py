"""Plain numpy: the rate equations integrated step by step, and exact backprop.

This is the test oracle.  :class:`RateReference` integrates MODEL.md section 2
with Euler steps in the same within-step sweep as :mod:`network` (bottom-up
basal inputs, then top-down gain / error / apical inputs, then weights and
membranes).  :func:`forward` and :func:`backprop_deltas` give what exact
backpropagation would compute for the same weights: the circuit's free
steady state is the ANN  h_k = a W_k r_{k-1},  r_k = phi(h_k)  with
a = g_bas / (g_l + g_bas + g_api).
"""
from __future__ import annotations

import numpy as np

from .equations import ACTIVATIONS
from .schedule import Schedule
from .spec import CircuitSpec, SpecError


def area_activations(spec: CircuitSpec) -> list:
    """phi of each area, index 0 (the input) None: hidden areas use `activation`, the last `output_activation`."""
    p = spec.neuron
    return [None] + [
        ACTIVATIONS[p.output_activation if k == spec.n_areas else p.activation]
        for k in range(1, spec.n_areas + 1)
    ]


def forward(spec: CircuitSpec, weights: list, inputs: np.ndarray):
    """Free steady state of the circuit (no target): potentials h_k and rates r_k.

    h_k = a * sum over projections p into k of W_p r_source.  Returns lists
    indexed by area (index 0 = input, h[0] is None).
    """
    phis = area_activations(spec)
    a = spec.neuron.basal_fraction
    rates, potentials = [np.atleast_2d(np.asarray(inputs, float))], [None]
    for k in range(1, spec.n_areas + 1):
        h = a * sum(rates[p.source] @ np.asarray(W).T for p, W in zip(spec.projections, weights) if p.target == k)
        potentials.append(h)
        rates.append(phis[k](h))
    return potentials, rates


def backprop_deltas(spec: CircuitSpec, weights: list, inputs, targets):
    """Exact backprop errors delta_k (rows = samples) for the squared loss.

    delta_L = phi'(h_L) (r* - r_L),  delta_k = phi'(h_k) sum_p W_p^T delta_target(p)
    over the projections p leaving area k (skip connections included).
    Index 0 is None; delta_k has shape (samples, n_k).
    """
    phis = area_activations(spec)
    h, r = forward(spec, weights, inputs)
    L = spec.n_areas
    deltas = [None] * (L + 1)
    deltas[L] = phis[L](h[L], derivative=True) * (np.atleast_2d(targets) - r[L])
    for k in range(L - 1, 0, -1):
        back = sum((deltas[p.target] @ np.asarray(W) for p, W in zip(spec.projections, weights)
                    if p.source == k), np.zeros_like(h[k]))
        deltas[k] = phis[k](h[k], derivative=True) * back
    return deltas


def backprop_weight_updates(spec: CircuitSpec, weights: list, inputs, targets):
    """Direction of gradient descent on the squared loss, one matrix per projection (sum over samples)."""
    _, r = forward(spec, weights, inputs)
    deltas = backprop_deltas(spec, weights, inputs, targets)
    return [deltas[p.target].T @ r[p.source] for p in spec.projections]


def mse(outputs, targets) -> float:
    """Mean over samples and outputs of the squared error."""
    return float(np.mean((np.asarray(outputs) - np.asarray(targets)) ** 2))


class RateReference:
    """Euler integration of the rate circuit in numpy, step for step as Brian2 does it."""

    def __init__(self, spec: CircuitSpec, weights: list, feedback_weights: list = (),
                 silenced: tuple = ()):
        if spec.mode != "rate":
            raise SpecError("the numpy reference integrates the rate mode only")
        self.spec = spec
        self.weights = [np.array(W, float) for W in weights]
        self.feedback_weights = [np.asarray(B, float) for B in feedback_weights]
        self.silenced = silenced
        self.phis = area_activations(spec)

    def _top_down(self, k):
        """(from area, matrix) of every error pathway into area k's error neurons."""
        routes = {(src, into) for src, into, _ in self.spec.error_routes()}
        if self.spec.feedback == "backprop":
            return [(p.target, W.T) for p, W in zip(self.spec.projections, self.weights)
                    if p.source == k and (p.target, k) in routes]
        return [(p.source, B) for p, B in zip(self.spec.feedback_projections, self.feedback_weights)
                if p.target == k and (p.source, k) in routes]

    def run(self, schedule: Schedule, record=("u_P", "u_E")) -> dict:
        """Integrate over ``schedule``; return {var: [array (steps, n_k) per area 1..L]}.

        Values are recorded at the start of each step, as a Brian2 StateMonitor does.
        """
        spec, p = self.spec, self.spec.neuron
        L, dt = spec.n_areas, float(spec.dt)
        steps_per = int(round(float(schedule.duration / spec.dt)))
        if abs(steps_per * float(spec.dt) - float(schedule.duration)) > 1e-12:
            raise SpecError("presentation duration must be a whole number of time steps")
        g_l, g_bas, g_api, g_den, g_tgt = (float(getattr(p, n)) for n in ("g_l", "g_bas", "g_api", "g_den", "g_tgt"))
        g_tot, a = g_l + g_bas + g_api, p.basal_fraction
        n, projections = spec.layers, spec.projections
        etas = [float(spec.projection_eta(pr)) for pr in projections]
        s = {name: [None] + [np.zeros(n[k]) for k in range(1, L + 1)]
             for name in ("v_bas", "v_api", "gain", "v_td", "u_P", "u_E")}
        active = [None] + [0.0 if k in self.silenced else 1.0 for k in range(1, L + 1)]
        filtered = p.tau_input is not None  # slow input synapses: a low-pass filtered input signal
        input_signal = np.zeros(n[0])
        total = steps_per * len(schedule)
        trace = {name: [None] + [np.empty((total, n[k])) for k in range(1, L + 1)] for name in record}

        for step in range(total):
            pres = step // steps_per
            x, y = schedule.inputs[pres], schedule.targets[pres]
            on, learn = float(schedule.target_on[pres]), float(schedule.learning[pres])

            def u_breve(k):
                if not p.prospective:
                    return s["u_P"][k]
                return (g_bas * s["v_bas"][k] + g_api * s["v_api"][k]) / g_tot

            def out_P(k):
                if k == 0:
                    return input_signal if filtered else x
                return self.phis[k](u_breve(k))

            def g_err(k):
                return g_tgt * on if k == L else g_den

            def v_den(k):
                drive = (y - out_P(L)) if k == L else s["v_td"][k]
                return s["gain"][k] * drive

            def out_E(k):
                return active[k] * g_err(k) * v_den(k) / (g_l + g_err(k))

            for name in record:
                for k in range(1, L + 1):
                    trace[name][k][step] = s[name][k]
            for k in range(1, L + 1):
                s["v_bas"][k] = sum(W @ out_P(pr.source) for pr, W in zip(projections, self.weights)
                                    if pr.target == k)
            for k in range(L, 0, -1):
                s["gain"][k] = p.lateral_weight * self.phis[k](u_breve(k), derivative=True)
                if k < L:
                    s["v_td"][k] = sum((B @ out_E(src) for src, B in self._top_down(k)), np.zeros(n[k]))
                s["v_api"][k] = p.lateral_weight * out_E(k)
            updates = [
                dt * eta * learn * np.outer(u_breve(pr.target) - a * s["v_bas"][pr.target], out_P(pr.source))
                for pr, eta in zip(projections, etas)
            ]
            derivs = [
                (g_bas * s["v_bas"][k] + g_api * s["v_api"][k] - g_tot * s["u_P"][k],
                 g_err(k) * v_den(k) - (g_l + g_err(k)) * s["u_E"][k])
                for k in range(1, L + 1)
            ]
            for W, update in zip(self.weights, updates):
                W += update
            for k in range(1, L + 1):
                s["u_P"][k] = s["u_P"][k] + dt * derivs[k - 1][0]
                s["u_E"][k] = s["u_E"][k] + dt * derivs[k - 1][1]
            if filtered:
                input_signal = input_signal + dt * (x - input_signal) / float(p.tau_input)
        return trace
