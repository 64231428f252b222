"""Run the heterogeneity experiment (see brian_errorcircuits.experiments.heterogeneity).

Run: python experiments/heterogeneity.py [--out DIR] [--seed N] [--set key=value ...]
Same as: errorcircuits run heterogeneity
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("heterogeneity")
