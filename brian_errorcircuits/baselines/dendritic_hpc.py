"""Dendritic hierarchical predictive coding (Mikulasch, Rudelt, Wibral & Priesemann 2023), rate version.

"Where is the error?" (Trends Neurosci 46: 45-59): prediction errors are not
carried by separate error units but computed in dendrites.  Here, as the
depth-scaling comparison describes it, the apical dendrite of a hidden
pyramidal neuron holds the top-down prediction of its own activity minus that
activity (which reaches the tuft through local inhibition):

    v_api,k = sum over projections k -> m of G_km r_m  -  r_k

with the pyramidal areas of :mod:`.dendritic` (steady state of each
presentation, output nudged by the target, forward weights learning by
dendritic prediction dW_kj = lr (phi(u_k) - phi(a v_bas,k)) r_j^T).  The
top-down synapses learn to predict the activity they arrive at, silencing
the apical dendrite:

    dG_km = -lr_G v_api,k r_m^T.

A target nudges the output; the nudged activity changes the top-down
predictions, which pull each hidden area toward a target of its own, like
target propagation: the updates follow backprop only where G_km acts like
W_mk^T on the nudge, and a narrower area above cannot predict a wider one
exactly, so a residual apical error remains even without a target.

Choices stated:

* Top-down weights G_km exist for every bottom-up projection k -> m between
  areas (skip projections included) and are learned by the rule above.
* Start: :meth:`DendriticHPC.prepare` sets G to the least-squares prediction
  of each hidden area's free rates from the free rates of the areas it
  projects to, over the training inputs (the analogue of Sacramento's
  self-predicting start: the apical dendrites start as quiet as a linear
  top-down prediction allows).  Before that, G = W^T.
"""
from __future__ import annotations

import numpy as np

from ..reference import forward
from ..spec import non_negative_number
from .dendritic import DendriticPyramids

#: ridge of the least-squares fit of the initial top-down weights, per sample (keeps G small where
#: the areas above vary little)
RIDGE = 1e-2


class DendriticHPC(DendriticPyramids):
    """Apical error = top-down prediction minus own activity; ``lr_top_down`` defaults to ``lr``."""

    def __init__(self, spec, weights, lr: float, lr_top_down: float = None):
        super().__init__(spec, weights, lr)
        self.lr_top_down = self.lr if lr_top_down is None else non_negative_number("lr_top_down", lr_top_down)
        #: indices of the projections between areas: each has a learned top-down twin
        self.between_areas = [i for i, pr in enumerate(self.spec.projections) if pr.source >= 1]
        self.top_down = {i: self.weights[i].T.copy() for i in self.between_areas}

    def apicals(self, state: dict) -> list:
        """Top-down prediction minus own rate, per hidden area."""
        apical = [None] + [-state["r"][k] for k in range(1, self.spec.n_areas)]
        for i in self.between_areas:
            p = self.spec.projections[i]
            apical[p.source] = apical[p.source] + state["r"][p.target] @ self.top_down[i].T
        return apical

    def prepare(self, inputs) -> None:
        """Top-down weights: least-squares prediction of each hidden area's free rates."""
        rates = forward(self.spec, self.weights, inputs)[1]
        for k in range(1, self.spec.n_areas):
            mine = [i for i in self.between_areas if self.spec.projections[i].source == k]
            above = np.hstack([rates[self.spec.projections[i].target] for i in mine])
            fit = np.linalg.solve(above.T @ above + RIDGE * len(above) * np.eye(above.shape[1]), above.T @ rates[k])
            for i, block in zip(mine, np.split(fit, np.cumsum([self.top_down[i].shape[1] for i in mine])[:-1])):
                self.top_down[i] = block.T

    def learn(self, inputs, targets) -> None:
        state = self.settle(inputs, targets)
        apical = self.apicals(state)
        for i in self.between_areas:
            p = self.spec.projections[i]
            self.top_down[i] -= self.lr_top_down * apical[p.source].T @ state["r"][p.target]
        for W, dW in zip(self.weights, self.forward_updates(state)):
            W += self.lr * dW
