"""Spike statistics of neuron-level spiking circuits (see brian_errorcircuits.experiments.spike_statistics).

Run: python experiments/spike_statistics.py [--out DIR] [--seed N] [--set neurons_per_unit=10 ...]
Same as: errorcircuits run spike-statistics
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("spike-statistics")
