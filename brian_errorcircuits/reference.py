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


def _activations(spec: CircuitSpec):
    p = spec.neuron
    return [None] + [
        ACTIVATIONS[p.output_activation if k == spec.n_areas else p.activation]
        for k in range(1, spec.n_areas + 1)
    ]


def forward(spec: CircuitSpec, weights: list, inputs: np.ndarray):
    """Free steady state of the circuit (no target): potentials h_k and rates r_k.

    Returns lists indexed by area (index 0 = input, h[0] is None).
    """
    phis = _activations(spec)
    a = spec.neuron.basal_fraction
    rates, potentials = [np.atleast_2d(np.asarray(inputs, float))], [None]
    for k, W in enumerate(weights, start=1):
        h = a * rates[-1] @ np.asarray(W).T
        potentials.append(h)
        rates.append(phis[k](h))
    return potentials, rates


def backprop_deltas(spec: CircuitSpec, weights: list, inputs, targets):
    """Exact backprop errors delta_k (rows = samples) for the squared loss.

    delta_L = phi'(h_L) (r* - r_L),  delta_k = phi'(h_k) W_{k+1}^T delta_{k+1}.
    Index 0 is None; delta_k has shape (samples, n_k).
    """
    phis = _activations(spec)
    h, r = forward(spec, weights, inputs)
    L = spec.n_areas
    deltas = [None] * (L + 1)
    deltas[L] = phis[L](h[L], derivative=True) * (np.atleast_2d(targets) - r[L])
    for k in range(L - 1, 0, -1):
        deltas[k] = phis[k](h[k], derivative=True) * (deltas[k + 1] @ np.asarray(weights[k]))
    return deltas


def backprop_weight_updates(spec: CircuitSpec, weights: list, inputs, targets):
    """Direction of gradient descent on the squared loss per weight matrix (sum over samples)."""
    _, r = forward(spec, weights, inputs)
    deltas = backprop_deltas(spec, weights, inputs, targets)
    return [deltas[k].T @ r[k - 1] for k in range(1, spec.n_areas + 1)]


def mse(outputs, targets) -> float:
    """Mean over samples and outputs of the squared error."""
    return float(np.mean((np.asarray(outputs) - np.asarray(targets)) ** 2))


class RateReference:
    """Euler integration of the rate circuit in numpy, step for step as Brian2 does it."""

    def __init__(self, spec: CircuitSpec, weights: list, feedback_weights: list | None = None,
                 silenced: tuple = ()):
        if spec.mode != "rate":
            raise SpecError("the numpy reference integrates the rate mode only")
        self.spec = spec
        self.weights = [np.array(W, float) for W in weights]
        self.feedback_weights = feedback_weights
        self.silenced = silenced
        self.phis = _activations(spec)

    def _feedback(self, k):
        """Top-down weights from area k to area k-1, shape (n_{k-1}, n_k)."""
        if self.spec.feedback == "backprop":
            return self.weights[k - 1].T
        return np.asarray(self.feedback_weights[k - 1], float)

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
        eta = [float(e) for e in spec.eta]
        n = spec.layers
        s = {name: [None] + [np.zeros(n[k]) for k in range(1, L + 1)]
             for name in ("v_bas", "v_api", "gain", "v_td", "u_P", "u_E")}
        active = [None] + [0.0 if k in self.silenced else 1.0 for k in range(1, L + 1)]
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
                return x if k == 0 else self.phis[k](u_breve(k))

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
                s["v_bas"][k] = self.weights[k - 1] @ out_P(k - 1)
            for k in range(L, 0, -1):
                s["gain"][k] = p.lateral_weight * self.phis[k](u_breve(k), derivative=True)
                if k < L:
                    s["v_td"][k] = self._feedback(k + 1) @ out_E(k + 1)
                s["v_api"][k] = p.lateral_weight * out_E(k)
            updates = [
                dt * eta[k - 1] * learn * np.outer(u_breve(k) - a * s["v_bas"][k], out_P(k - 1))
                for k in range(1, L + 1)
            ]
            derivs = [
                (g_bas * s["v_bas"][k] + g_api * s["v_api"][k] - g_tot * s["u_P"][k],
                 g_err(k) * v_den(k) - (g_l + g_err(k)) * s["u_E"][k])
                for k in range(1, L + 1)
            ]
            for k in range(1, L + 1):
                self.weights[k - 1] += updates[k - 1]
                s["u_P"][k] = s["u_P"][k] + dt * derivs[k - 1][0]
                s["u_E"][k] = s["u_E"][k] + dt * derivs[k - 1][1]
        return trace
