"""Run the populations experiment (see brian_errorcircuits.experiments.populations).

Run: python experiments/populations.py [--out DIR] [--seed N] [--set key=value ...]
Same as: errorcircuits run populations
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("populations")
