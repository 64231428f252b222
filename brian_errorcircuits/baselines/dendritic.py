"""Pyramidal areas whose errors live in apical dendrites: what both dendritic baselines share.

Steady-state rate model (conductances of ``spec.neuron``; g_tot = g_l +
g_bas + g_api, a = g_bas / g_tot, the circuit's basal fraction):

    v_bas,k = sum_j W_kj r_j                                  basal: bottom-up projections into k
    u_k     = a v_bas,k + (g_api / g_tot) v_api,k             soma of a hidden area
    u_L     = a v_bas,L + (g_tgt / g_tot) (r* - phi(u_L))     soma of the output area while a target r* nudges it
    r_k     = phi_k(u_k)

Without a target and with a silent apical dendrite this is the circuit's
free forward pass (h_k = a sum W r), so a baseline starts from the same
function and weights as the error-neuron circuit.  Forward weights learn by
dendritic prediction (Urbanczik & Senn 2014): the soma's rate minus what the
basal dendrite alone predicts,

    dW_kj = lr (phi(u_k) - phi(a v_bas,k)) r_j^T.

Subclasses say what the apical potential v_api,k is.  Choice: the steady
state of a presentation, not its time course: plasticity acts on the
fixed point that a presentation long compared with the membrane time
constants reaches, found by damped sweeps over all areas at once (at
most ``MAX_SWEEPS``, until no potential moves by more than ``TOLERANCE``).
"""
from __future__ import annotations

import numpy as np

from ..reference import area_activations, forward
from .online import OnlineLearner

MAX_SWEEPS = 200
TOLERANCE = 1e-10
#: fraction of the old potential kept in each sweep (damps oscillations between areas)
DAMPING = 0.3


class DendriticPyramids(OnlineLearner):
    """Steady states and dendritic-prediction updates of pyramidal areas; ``apical`` left to subclasses."""

    def __init__(self, spec, weights, lr: float):
        super().__init__(spec, weights, lr)
        p = self.spec.neuron
        self.phis = area_activations(self.spec)
        self.g_tot = float(p.g_l + p.g_bas + p.g_api)
        self.basal_fraction = p.basal_fraction
        self.apical_fraction = float(p.g_api) / self.g_tot
        self.target_fraction = float(p.g_tgt) / self.g_tot

    def apicals(self, state: dict) -> list:
        """Apical potential of every hidden area (index k = area k, rows = samples) in ``state``."""
        raise NotImplementedError

    def settle(self, inputs, targets=None) -> dict:
        """Steady state {'r', 'u', 'v_bas'} (lists by area, index 0 = input) with or without a target.

        Starts from the free forward pass; ``self.sweeps`` keeps how many sweeps it took.
        """
        L, a = self.spec.n_areas, self.basal_fraction
        potentials, rates = forward(self.spec, self.weights, inputs)
        x = rates[0]
        state = {"r": rates, "u": potentials, "v_bas": [None] + [h / a for h in potentials[1:]]}
        for sweep in range(1, MAX_SWEEPS + 1):
            v_bas = [None] + [self._basal(k, state["r"]) for k in range(1, L + 1)]
            apical = self.apicals(state)
            u = [None] + [a * v_bas[k] + self.apical_fraction * apical[k] for k in range(1, L)]
            nudge = 0.0 if targets is None else self.target_fraction * (np.atleast_2d(targets) - state["r"][L])
            u.append(a * v_bas[L] + nudge)
            u = [None] + [(1 - DAMPING) * u[k] + DAMPING * state["u"][k] for k in range(1, L + 1)]
            moved = max(np.max(np.abs(u[k] - state["u"][k])) for k in range(1, L + 1))
            state = {"r": [x] + [self.phis[k](u[k]) for k in range(1, L + 1)], "u": u, "v_bas": v_bas}
            self.sweeps = sweep
            if moved < TOLERANCE:
                break
        return state

    def _basal(self, k: int, rates: list) -> np.ndarray:
        return sum(rates[p.source] @ W.T for p, W in zip(self.spec.projections, self.weights) if p.target == k)

    def predict(self, inputs) -> np.ndarray:
        return self.settle(inputs)["r"][-1]

    def forward_updates(self, state: dict) -> list:
        """Dendritic-prediction change of each forward matrix in a settled ``state``, summed over samples."""
        a = self.basal_fraction
        errors = [None] + [state["r"][k] - self.phis[k](a * state["v_bas"][k])
                           for k in range(1, self.spec.n_areas + 1)]
        return [errors[p.target].T @ state["r"][p.source] for p in self.spec.projections]

    def weight_updates(self, inputs, targets) -> list:
        return self.forward_updates(self.settle(inputs, targets))
