"""The circuit's own free forward function trained with exact backprop.

Same projections, activations and initial weights as an :class:`ErrorCircuit`
(h_k = a sum_p W_p r_source, r_k = phi(h_k)), trained online, one sample at
a time, by gradient descent on the squared loss.  It is the backprop
reference the circuit should approach.  With ``frozen_hidden`` only the
projections into the output area learn: the frozen-hidden twin, which tells
how much a task needs its hidden areas to learn.
"""
from __future__ import annotations

import numpy as np

from ..reference import backprop_weight_updates
from .online import OnlineLearner


class BackpropANN(OnlineLearner):
    """Online gradient descent with learning rate ``lr`` per sample."""

    def __init__(self, spec, weights: list, lr: float, frozen_hidden: bool = False):
        super().__init__(spec, weights, lr)
        self.frozen_hidden = frozen_hidden

    def weight_updates(self, inputs, targets) -> list:
        updates = backprop_weight_updates(self.spec, self.weights, inputs, targets)
        if not self.frozen_hidden:
            return updates
        return [dW if p.target == self.spec.n_areas else np.zeros_like(dW)
                for p, dW in zip(self.spec.projections, updates)]
