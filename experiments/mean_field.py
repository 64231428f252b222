"""Mean field of neuron-level spiking circuits (see brian_errorcircuits.experiments.mean_field).

Run: python experiments/mean_field.py [--out DIR] [--seed N] [--set population_sizes=1,4,16 ...]
Same as: errorcircuits run mean-field
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("mean-field")
