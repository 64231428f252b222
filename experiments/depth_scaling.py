"""Run the depth-scaling experiment (see brian_errorcircuits.experiments.depth_scaling).

Run: python experiments/depth_scaling.py [--out DIR] [--seed N] [--set key=value ...]
Same as: errorcircuits run depth-scaling
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("depth-scaling")
