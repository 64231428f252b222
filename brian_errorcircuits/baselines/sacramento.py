"""Dendritic cortical microcircuit of Sacramento, Ponte Costa, Bengio & Senn (NeurIPS 2018), rate version.

Pyramidal areas as in :mod:`.dendritic` (soma, basal and apical compartments,
steady state of each presentation).  Interneurons predict the areas above,
and the apical dendrite of a hidden pyramidal neuron compares the top-down
input from above with that prediction:

    v_api,k = sum over projections k -> m of ( B_km r_m + Q_km r_I,m )

    interneurons I_m (one population, n_m units, for every area m that a hidden area projects into):
    v_I,m  = sum_j V_mj r_j                                    dendrite: the same sources as area m
    u_I,m  = (g_bas v_I,m + g_tgt u_m) / (g_l + g_bas + g_tgt) soma, nudged by area m's pyramidal soma
    r_I,m  = phi_m(u_I,m),   v^_I,m = g_bas / (g_l + g_bas) v_I,m

Plasticity (per sample, at the steady state):

    dW_kj = lr   (phi(u_k) - phi(a v_bas,k)) r_j^T      forward, basal (dendritic prediction)
    dV_mj = lr_I (phi(u_I,m) - phi(v^_I,m)) r_j^T       pyramidal -> interneuron, toward the nudged soma
    dQ_km = -lr_A v_api,k r_I,m^T                       interneuron -> pyramidal, silencing the apical dendrite

Choices stated:

* Top-down weights B_km = W_mk^T follow the current forward weights (the
  weight-transport assumption the error-neuron circuit's ``backprop``
  feedback makes too); they are not learned by a local rule.
* Skip projections: every bottom-up projection k -> m between areas sends a
  top-down projection back into the apical dendrite of area k, and each
  interneuron population I_m receives every bottom-up input area m gets
  (skip ones included), so that it can predict m exactly.
* Start in the self-predicting state: V_mj = W_mj (g_l + g_bas) / g_tot makes
  v^_I,m = a v_bas,m, the free potential of area m, and Q_km = -B_km, so the
  apical potential is zero whenever no target is given.
"""
from __future__ import annotations

from ..spec import SpecError, non_negative_number
from .dendritic import DendriticPyramids


class Sacramento2018(DendriticPyramids):
    """Dendritic microcircuit; ``lr_interneuron`` / ``lr_apical`` default to ``lr``."""

    def __init__(self, spec, weights, lr: float, lr_interneuron: float = None, lr_apical: float = None):
        super().__init__(spec, weights, lr)
        if self.spec.feedback != "backprop":
            raise SpecError(f"feedback={self.spec.feedback!r}: this baseline's top-down weights mirror W (backprop)")
        p = self.spec.neuron
        self.lr_interneuron = self.lr if lr_interneuron is None else non_negative_number("lr_interneuron", lr_interneuron)
        self.lr_apical = self.lr if lr_apical is None else non_negative_number("lr_apical", lr_apical)
        projections = self.spec.projections
        #: indices of the projections between areas: each has a top-down twin and an interneuron -> apical matrix
        self.between_areas = [i for i, pr in enumerate(projections) if pr.source >= 1]
        self.predicted_areas = sorted({projections[i].target for i in self.between_areas})
        #: indices of the projections the interneurons copy
        self.copied = [i for i, pr in enumerate(projections) if pr.target in self.predicted_areas]
        self.interneuron_dendrite = float(p.g_bas / (p.g_l + p.g_bas))
        self.interneuron_nudge = (float(p.g_bas), float(p.g_tgt), float(p.g_l + p.g_bas + p.g_tgt))
        scale = self.basal_fraction / self.interneuron_dendrite
        self.interneuron_weights = {i: scale * self.weights[i] for i in self.copied}
        self.apical_weights = {i: -self.weights[i].T for i in self.between_areas}

    def interneurons(self, state: dict) -> dict:
        """{m: (v_I, u_I, r_I)} of every interneuron population in ``state``."""
        g_den, g_nudge, g_sum = self.interneuron_nudge
        result = {}
        for m in self.predicted_areas:
            v = sum(state["r"][self.spec.projections[i].source] @ self.interneuron_weights[i].T
                    for i in self.copied if self.spec.projections[i].target == m)
            u = (g_den * v + g_nudge * state["u"][m]) / g_sum
            result[m] = (v, u, self.phis[m](u))
        return result

    def apicals(self, state: dict, predictions: dict = None) -> list:
        """Top-down pyramidal input plus the (negative) interneuron input, per hidden area."""
        if predictions is None:
            predictions = self.interneurons(state)
        projections = self.spec.projections
        apical = [None] + [0.0] * (self.spec.n_areas - 1)
        for i in self.between_areas:
            m = projections[i].target
            apical[projections[i].source] = (apical[projections[i].source] + state["r"][m] @ self.weights[i]
                                             + predictions[m][2] @ self.apical_weights[i].T)
        return apical

    def learn(self, inputs, targets) -> None:
        state = self.settle(inputs, targets)
        predictions = self.interneurons(state)
        projections = self.spec.projections
        apical = self.apicals(state, predictions)
        for i in self.copied:
            v, _, r = predictions[projections[i].target]
            error = r - self.phis[projections[i].target](self.interneuron_dendrite * v)
            self.interneuron_weights[i] += self.lr_interneuron * error.T @ state["r"][projections[i].source]
        for i in self.between_areas:
            k, m = projections[i].source, projections[i].target
            self.apical_weights[i] -= self.lr_apical * apical[k].T @ predictions[m][2]
        for W, dW in zip(self.weights, self.forward_updates(state)):
            W += self.lr * dW
