"""Cart-pole control by a spiking error-neuron circuit (see brian_errorcircuits.experiments.cartpole).

Run: python experiments/cartpole.py [--out DIR] [--seed N] [--set episodes=10 ...]
Same as: errorcircuits run cartpole
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("cartpole")
