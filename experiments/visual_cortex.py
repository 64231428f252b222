"""Seven visual areas wired by the macaque projection table (see brian_errorcircuits.experiments.visual_cortex).

Run: python experiments/visual_cortex.py [--out DIR] [--seed N] [--set neurons_per_unit=50 ...]
Same as: errorcircuits run visual-cortex
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("visual-cortex")
