"""Plain numpy: the rate equations integrated step by step, and exact backprop.

This is the test oracle.  :class:`RateReference` integrates the rate
equations (docs/model.md, "The model as implemented") with Euler steps in the same
within-step sweep as :mod:`~brian_errorcircuits.network` (bottom-up basal inputs, then top-down
gain / error / apical inputs, then weights and membranes, then the output's
gated mismatch).  :func:`forward` and :func:`backprop_deltas` give what exact
backpropagation would compute for the same weights: the circuit's free
steady state is the ANN  h_k = a W_k r_{k-1},  r_k = phi(slope (h_k - offset))
with a = g_bas / (g_l + g_bas + g_api) per neuron.
"""
from __future__ import annotations

import numpy as np

from .arrays import CircuitArrays, on_synapses, partner_matrix
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


class Transfer:
    """phi of one population with per-neuron slope and offset: phi(slope (u - offset)) and its derivative."""

    def __init__(self, activation, slope, offset):
        self.activation, self.slope, self.offset = activation, slope, offset

    def __call__(self, u, derivative: bool = False):
        value = self.activation(self.slope * (u - self.offset), derivative=derivative)
        return self.slope * value if derivative else value


def _transfers(spec: CircuitSpec, neurons) -> list:
    """Per area (index 0 None): the representation neurons' Transfer and basal fraction a = g_bas / g_tot."""
    phis = area_activations(spec)
    if neurons is None:
        neurons = CircuitArrays.neuron_values(spec)
    out = [None]
    for k in range(1, spec.n_areas + 1):
        values = neurons[k]["P"]
        out.append((Transfer(phis[k], values["slope_P"], values["offset_P"]),
                    values["g_bas"] / (values["g_l"] + values["g_bas"] + values["g_api"])))
    return out


def forward(spec: CircuitSpec, weights: list, inputs: np.ndarray, neurons=None):
    """Free steady state of the circuit (no target): potentials h_k and rates r_k of every neuron.

    h_k = a * sum over projections p into k of W_p r_source, r_k = phi(slope (h_k - offset)).
    ``inputs`` are task inputs (spread over the input neurons as the circuit does);
    ``neurons``: per-neuron values (``CircuitArrays.neurons``), default homogeneous.
    Returns lists indexed by area (index 0 = input, h[0] is None).
    """
    transfers = _transfers(spec, neurons)
    rates, potentials = [spec.encode_inputs(inputs)], [None]
    for k in range(1, spec.n_areas + 1):
        phi, a = transfers[k]
        h = a * sum(rates[p.source] @ np.asarray(W).T for p, W in zip(spec.projections, weights) if p.target == k)
        potentials.append(h)
        rates.append(phi(h))
    return potentials, rates


def backprop_deltas(spec: CircuitSpec, weights: list, inputs, targets, neurons=None):
    """Exact backprop errors delta_k (rows = samples) for the squared loss.

    delta_L = phi'(h_L) (r* - r_L),  delta_k = phi'(h_k) sum_p W_p^T delta_target(p)
    over the projections p leaving area k (skip connections included); phi'
    includes each neuron's slope.  Task targets are given to every neuron of
    their unit.  Index 0 is None; delta_k has shape (samples, n_k).
    """
    transfers = _transfers(spec, neurons)
    h, r = forward(spec, weights, inputs, neurons)
    L = spec.n_areas
    deltas = [None] * (L + 1)
    deltas[L] = transfers[L][0](h[L], derivative=True) * (spec.encode_targets(targets) - r[L])
    for k in range(L - 1, 0, -1):
        back = sum((deltas[p.target] @ np.asarray(W) for p, W in zip(spec.projections, weights)
                    if p.source == k), np.zeros_like(h[k]))
        deltas[k] = transfers[k][0](h[k], derivative=True) * back
    return deltas


def backprop_weight_updates(spec: CircuitSpec, weights: list, inputs, targets, neurons=None):
    """Direction of gradient descent on the squared loss, one matrix per projection (sum over samples)."""
    _, r = forward(spec, weights, inputs, neurons)
    deltas = backprop_deltas(spec, weights, inputs, targets, neurons)
    return [deltas[p.target].T @ r[p.source] for p in spec.projections]


def mse(outputs, targets) -> float:
    """Mean over samples and outputs of the squared error."""
    return float(np.mean((np.asarray(outputs) - np.asarray(targets)) ** 2))


class RateReference:
    """Euler integration of the rate circuit in numpy, step for step as Brian2 does it.

    ``arrays`` is the circuit's :class:`~brian_errorcircuits.arrays.CircuitArrays`
    (laterals, feedback noise, per-neuron values), or a list of forward weights
    (then ``feedback_weights`` too, and everything else at its default).
    """

    def __init__(self, spec: CircuitSpec, arrays, feedback_weights: list = (), silenced: tuple = ()):
        if spec.mode != "rate":
            raise SpecError("the numpy reference integrates the rate mode only")
        if not isinstance(arrays, CircuitArrays):
            arrays = CircuitArrays.draw(spec, weights=arrays, feedback_weights=list(feedback_weights) or None)
        self.spec = spec
        self.arrays = arrays.copy()
        self.silenced = silenced
        self.phis = area_activations(spec)

    @property
    def weights(self) -> list:
        return self.arrays.weights

    def run(self, schedule: Schedule, record=("u_P", "u_E")) -> dict:
        """Integrate over ``schedule``; return {var: [array (steps, n) per area 1..L]}.

        Values are recorded at the start of each step, as a Brian2 StateMonitor does.
        """
        spec, p, arrays = self.spec, self.spec.neuron, self.arrays
        L, dt = spec.n_areas, float(spec.dt)
        steps_per = int(round(float(schedule.duration / spec.dt)))
        if abs(steps_per * float(spec.dt) - float(schedule.duration)) > 1e-12:
            raise SpecError("presentation duration must be a whole number of time steps")
        n, n_err, projections = spec.layers, spec.error_sizes, spec.projections
        P, E = [None] + [a["P"] for a in arrays.neurons[1:]], [None] + [a["E"] for a in arrays.neurons[1:]]
        g_tot = [None] + [P[k]["g_l"] + P[k]["g_bas"] + P[k]["g_api"] for k in range(1, L + 1)]
        g_leak = [None] + [E[k]["g_l"] + (E[k]["g_tgt"] if k == L else E[k]["g_den"]) for k in range(1, L + 1)]
        phi = [None] + [Transfer(self.phis[k], P[k]["slope_P"], P[k]["offset_P"]) for k in range(1, L + 1)]
        partners = [None] + [partner_matrix(n_err[k - 1], n[k]) for k in range(1, L + 1)]
        etas = [float(spec.projection_eta(pr)) for pr in projections]
        eta_lateral = float(spec.eta_lateral)
        backprop = spec.feedback == "backprop"
        routes = [(src, into) for src, into, _ in spec.error_routes()]
        rep_sizes = {"u_P", "v_bas", "v_api", "phi_prime", "v_back", "partner_error", "mismatch"}
        s = {name: [None] + [np.zeros(n[k] if name in rep_sizes else n_err[k - 1]) for k in range(1, L + 1)]
             for name in ("u_P", "v_bas", "v_api", "phi_prime", "v_back", "partner_error", "mismatch",
                          "u_E", "gain", "v_td", "v_den_out")}
        for k in range(1, L + 1):
            s["u_P"][k], s["u_E"][k] = P[k]["u_P"].copy(), E[k]["u_E"].copy()
        active = [None] + [0.0 if k in self.silenced else 1.0 for k in range(1, L + 1)]
        filtered = p.tau_input is not None  # slow input synapses: a low-pass filtered input signal
        inputs, targets = spec.encode_inputs(schedule.inputs), spec.encode_targets(schedule.targets)
        input_signal = np.zeros(n[0])
        total = steps_per * len(schedule)
        trace = {name: [None] + [np.empty((total, len(s[name][k]))) for k in range(1, L + 1)] for name in record}

        for step in range(total):
            pres = step // steps_per
            x, y = inputs[pres], targets[pres]
            on, learn = float(schedule.target_on[pres]), float(schedule.learning[pres])

            def u_breve(k):
                if not p.prospective:
                    return s["u_P"][k]
                return (P[k]["g_bas"] * s["v_bas"][k] + P[k]["g_api"] * s["v_api"][k]) / g_tot[k]

            def out_P(k):
                if k == 0:
                    return input_signal if filtered else x
                return phi[k](u_breve(k))

            def g_err(k):
                return E[k]["g_tgt"] * on if k == L else E[k]["g_den"]

            def v_den(k):
                return s["v_den_out"][k] if k == L else s["gain"][k] * s["v_td"][k]

            def out_E(k):
                u_E = g_err(k) * v_den(k) / g_leak[k] if p.prospective_errors else s["u_E"][k]
                return active[k] * E[k]["slope_E"] * (u_E - E[k]["offset_E"])

            for name in record:
                for k in range(1, L + 1):
                    trace[name][k][step] = s[name][k]
            for k in range(1, L + 1):
                s["v_bas"][k] = sum(W @ out_P(pr.source) for pr, W in zip(projections, arrays.weights)
                                    if pr.target == k)
            for k in range(L, 0, -1):
                s["phi_prime"][k] = phi[k](u_breve(k), derivative=True)
                if backprop:
                    s["v_back"][k] = sum(((W + Xi).T @ s["partner_error"][pr.target]
                                          for pr, W, Xi in zip(projections, arrays.weights, arrays.feedback_noise)
                                          if pr.source == k and (pr.target, k) in routes), np.zeros(n[k]))
                else:
                    s["v_td"][k] = sum((B @ out_E(pr.source) for pr, B in zip(spec.feedback_projections,
                                                                              arrays.feedback_weights)
                                        if pr.target == k and (pr.source, k) in routes), np.zeros(n_err[k - 1]))
                if k < L:
                    s["gain"][k] = arrays.lateral[k]["WIP"] @ s["phi_prime"][k]
                    if backprop:
                        s["v_td"][k] = partners[k] @ s["v_back"][k]
                s["v_api"][k] = arrays.lateral[k]["BPI"] @ out_E(k)
                s["partner_error"][k] = partners[k].T @ out_E(k)
            updates = [
                dt * eta * learn * np.outer(u_breve(pr.target) - P[pr.target]["g_bas"] / g_tot[pr.target]
                                            * s["v_bas"][pr.target], out_P(pr.source))
                for pr, eta in zip(projections, etas)
            ]
            lateral_updates = [None] + [
                {name: -dt * eta_lateral * learn * (M - (partners[k] if name == "WIP" else partners[k].T))
                 for name, M in arrays.lateral[k].items()} for k in range(1, L + 1)
            ]
            derivs = [
                (P[k]["g_bas"] * s["v_bas"][k] + P[k]["g_api"] * s["v_api"][k] - g_tot[k] * s["u_P"][k],
                 g_err(k) * v_den(k) - g_leak[k] * s["u_E"][k])
                for k in range(1, L + 1)
            ]
            for W, update, mask in zip(arrays.weights, updates, arrays.connectivity):
                W += on_synapses(update, mask)  # absent synapses stay 0
            for k in range(1, L + 1):
                for name, M in arrays.lateral[k].items():
                    M += lateral_updates[k][name]
                s["u_P"][k] = s["u_P"][k] + dt * derivs[k - 1][0]
                s["u_E"][k] = s["u_E"][k] + dt * derivs[k - 1][1]
            if filtered:
                input_signal = input_signal + dt * (x - input_signal) / float(p.tau_input)
            s["mismatch"][L] = s["phi_prime"][L] * (y - out_P(L))
            s["v_den_out"][L] = arrays.lateral[L]["WIP"] @ s["mismatch"][L]
        return trace
