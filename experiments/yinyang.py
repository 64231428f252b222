"""Yin-Yang classification in a spiking error-neuron circuit (see brian_errorcircuits.experiments.yinyang).

Run: python experiments/yinyang.py [--out DIR] [--seed N] [--set epochs=10 ...]
Same as: errorcircuits run yinyang
"""
from brian_errorcircuits.experiments.base import main

if __name__ == "__main__":
    main("yinyang")
