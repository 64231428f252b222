"""Delayed match-to-sample in a spiking error-neuron circuit (see brian_errorcircuits.experiments.dms).

Run: python experiments/dms.py [--out DIR] [--seed N] [--mode rate] [--set epochs=20 ...]
Same as: errorcircuits run dms
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("dms")
