"""Run the predictions experiment (see brian_errorcircuits.experiments.predictions).

Run: python experiments/predictions.py [--out DIR] [--seed N] [--set key=value ...]
Same as: errorcircuits run predictions
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("predictions")
