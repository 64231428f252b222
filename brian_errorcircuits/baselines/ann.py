"""The circuit's own free forward function trained with exact backprop.

Same projections, activations and initial weights as an :class:`ErrorCircuit`
(h_k = a sum_p W_p r_source, r_k = phi(h_k)), trained online, one sample at
a time, by gradient descent on the squared loss.  It is the backprop
reference the circuit should approach.
"""
from __future__ import annotations

import numpy as np

from ..reference import backprop_weight_updates, forward, mse
from ..spec import CircuitSpec


class BackpropANN:
    """Online gradient descent with learning rate ``lr`` per sample."""

    def __init__(self, spec: CircuitSpec, weights: list, lr: float):
        self.spec = spec.validate()
        self.weights = [np.array(W, float) for W in weights]
        self.lr = lr

    def predict(self, inputs) -> np.ndarray:
        return forward(self.spec, self.weights, inputs)[1][-1]

    def train(self, x_train, y_train, x_test, y_test, epochs: int, seed: int = 0) -> list:
        """Test MSE before training and after each epoch."""
        rng = np.random.default_rng(seed)
        curve = [mse(self.predict(x_test), y_test)]
        for _ in range(epochs):
            for i in rng.permutation(len(x_train)):
                updates = backprop_weight_updates(self.spec, self.weights, x_train[i:i + 1], y_train[i:i + 1])
                for W, dW in zip(self.weights, updates):
                    W += self.lr * dW
            curve.append(mse(self.predict(x_test), y_test))
        return curve
