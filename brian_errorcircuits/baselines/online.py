"""What every baseline shares: online training one sample at a time, and angles to backprop.

A baseline holds one weight matrix per bottom-up projection of a
:class:`CircuitSpec` (``weights``, the same layout and initial values as an
:class:`ErrorCircuit`), says how it would change them for given samples
(:meth:`OnlineLearner.weight_updates`) and what it answers
(:meth:`OnlineLearner.predict`).  Models with more synapses than the forward
ones (interneurons, top-down weights) extend :meth:`OnlineLearner.learn`.
"""
from __future__ import annotations

import numpy as np

from ..analysis import angle_medians, presentation_angles
from ..progress import bar
from ..reference import forward, mse
from ..spec import CircuitSpec, non_negative_number


class OnlineLearner:
    """Online learning with rate ``lr`` per sample on the forward weights of ``spec``."""

    def __init__(self, spec: CircuitSpec, weights: list, lr: float):
        self.spec = spec.validate()
        self.weights = [np.array(W, float) for W in weights]
        self.lr = non_negative_number("lr", lr)

    def predict(self, inputs) -> np.ndarray:
        """Output rates without a target (rows = samples); default: the circuit's free forward pass."""
        return forward(self.spec, self.weights, inputs)[1][-1]

    def weight_updates(self, inputs, targets) -> list:
        """Change of each forward weight matrix per unit learning rate, summed over the samples."""
        raise NotImplementedError

    def learn(self, inputs, targets) -> None:
        """One online step on a batch (the train loop passes single samples)."""
        for W, dW in zip(self.weights, self.weight_updates(inputs, targets)):
            W += self.lr * dW

    def prepare(self, inputs) -> None:
        """Set up before training from the training inputs (no targets); nothing by default."""

    def train(self, x_train, y_train, x_test, y_test, epochs: int, seed: int = 0, angles: bool = False) -> list:
        """Test MSE before training and after each epoch of samples in random order.

        ``angles``: also keep, per epoch, every sample's forward-weight change's
        angle to backprop's (:func:`~brian_errorcircuits.analysis.presentation_angles`)
        in ``epoch_angles`` (one array (samples, projections) per epoch).
        """
        self.prepare(x_train)
        rng = np.random.default_rng(seed)
        curve = [mse(self.predict(x_test), y_test)]
        self.epoch_angles = []
        for _ in bar(range(epochs), desc=type(self).__name__, unit="epoch", leave=False):
            epoch = []
            for i in rng.permutation(len(x_train)):
                before = [W.copy() for W in self.weights] if angles else None
                self.learn(x_train[i:i + 1], y_train[i:i + 1])
                if angles:
                    epoch.append(presentation_angles(
                        self.spec, [W[None] for W in before], [(W - B)[None] for W, B in zip(self.weights, before)],
                        x_train[i:i + 1], y_train[i:i + 1])[0])
            if angles:
                self.epoch_angles.append(np.array(epoch))
            curve.append(mse(self.predict(x_test), y_test))
        return curve

    def update_angles(self, inputs, targets) -> list:
        """Median over samples of each projection's update angle to backprop's, at the current weights."""
        weights = [np.broadcast_to(W, (len(inputs), *W.shape)) for W in self.weights]
        changes = [np.stack(d) for d in zip(*(self.weight_updates(inputs[i:i + 1], targets[i:i + 1])
                                              for i in range(len(inputs))))]
        return angle_medians(presentation_angles(self.spec, weights, changes, inputs, targets))
