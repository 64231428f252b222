"""Spiking and rate cortical error-neuron microcircuits for Brian2.

Representation neurons (soma, basal, apical compartments) and error neurons
(soma, dendrite gated by the partner's gain) per area; errors travel down
through error neurons and local dendritic-prediction plasticity approximates
backpropagation continuously (Max et al., PLoS Comput Biol 2026).  The
equations and the three modes (rate, spiking, sampled) are in docs/model.md.
"""
from .circuit import AreaResult, DivergenceError, ErrorCircuit, NoLearningWarning, RunResult, TrainingResult, cosine
from .network import Recording
from .schedule import Schedule
from .arrays import CircuitArrays
from .spec import CircuitSpec, Heterogeneity, NeuronParams, Projection, SpecError
from .storage import VersionWarning

__all__ = [
    "AreaResult", "CircuitArrays", "CircuitSpec", "DivergenceError", "ErrorCircuit", "Heterogeneity", "NeuronParams",
    "NoLearningWarning", "Projection", "Recording", "RunResult", "Schedule", "SpecError", "TrainingResult",
    "VersionWarning", "cosine",
]
__version__ = "0.1.0"
