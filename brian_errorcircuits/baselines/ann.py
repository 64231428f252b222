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


class InputNoiseANN(BackpropANN):
    """The backprop ANN fed the input noise of spiking input populations, the circuit's noise
    source swapped into a network without any other: a control that tells how much the input
    spike noise alone costs.

    Each input rate x in [0, 1] comes from ``n_input`` Poisson neurons at ``rate_max`` x whose
    spikes are filtered with ``tau`` into a trace that decodes to x.  That trace fluctuates
    around x with variance x / (2 n_input rate_max tau) and correlation time ``tau``; a
    prospective hidden area follows it without lag, so what a presentation of length T sees
    (and learns from) is the mean over about T / (2 tau) independent noisy copies of x.  Here
    each training sample is ``draws_train`` noisy copies (its update is their mean update),
    and each prediction the mean output over ``draws_test`` copies.
    """

    def __init__(self, spec, weights: list, lr: float, *, n_input: int, rate_max, tau, draws_train: int,
                 draws_test: int, seed: int = 0):
        super().__init__(spec, weights, lr)
        self.trace_variance_per_rate = 1 / (2 * n_input * float(rate_max * tau))
        self.draws_train, self.draws_test = draws_train, draws_test
        self.rng = np.random.default_rng(seed)

    def noisy(self, inputs, draws: int) -> np.ndarray:
        """``draws`` noisy copies of every input row, (samples x draws, inputs), sample by sample."""
        copies = np.repeat(np.asarray(inputs, float), draws, axis=0)
        return copies + self.rng.standard_normal(copies.shape) * np.sqrt(
            np.clip(copies, 0, None) * self.trace_variance_per_rate)

    def weight_updates(self, inputs, targets) -> list:
        updates = super().weight_updates(self.noisy(inputs, self.draws_train),
                                         np.repeat(np.asarray(targets, float), self.draws_train, axis=0))
        return [dW / self.draws_train for dW in updates]

    def predict(self, inputs) -> np.ndarray:
        outputs = super().predict(self.noisy(inputs, self.draws_test))
        return outputs.reshape(len(inputs), self.draws_test, -1).mean(axis=1)
