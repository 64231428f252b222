"""The circuit's own free forward function trained with exact backprop.

Same projections, activations and initial weights as an :class:`ErrorCircuit`
(h_k = a sum_p W_p r_source, r_k = phi(h_k)), trained online, one sample at
a time, by gradient descent on the squared loss.  It is the backprop
reference the circuit should approach.
"""
from __future__ import annotations

from ..reference import backprop_weight_updates
from .online import OnlineLearner


class BackpropANN(OnlineLearner):
    """Online gradient descent with learning rate ``lr`` per sample."""

    def weight_updates(self, inputs, targets) -> list:
        return backprop_weight_updates(self.spec, self.weights, inputs, targets)
