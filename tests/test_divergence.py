"""A run whose numbers run away to NaN / infinity ends in DivergenceError, never in NaN results.

One tiny rate circuit (2-2-1, linear activations, absurd learning rates) on
Brian2's numpy target, so nothing compiles; it overflows within the first
training epoch.
"""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, DivergenceError, ErrorCircuit, NeuronParams, SpecError

TIMING = dict(duration=5 * b2.ms, settle=1 * b2.ms)


def runaway_circuit():
    spec = CircuitSpec(layers=(2, 2, 1), mode="rate", eta=(1e6 * b2.Hz, 1e6 * b2.Hz), target="numpy", seed=0,
                       neuron=NeuronParams(activation="linear", output_activation="linear"))
    return ErrorCircuit(spec)


def test_diverging_training_names_area_epoch_presentation_and_last_finite_state():
    """Schedule: test-0 (3 presentations), then train-1: the first presentation after train-1's first overflows.

    The error (a SpecError, so the CLI reports it in one line) names the first
    area and population that overflowed, the epoch's segment and the
    presentation, the last finite averages, and the weights that the circuit
    keeps (those before the run).
    """
    circuit = runaway_circuit()
    before = [W.copy() for W in circuit.weights]
    x, y = np.full((3, 2), 0.8), np.full((3, 1), 5.0)
    with pytest.raises(DivergenceError) as caught:
        circuit.train(x, y, x, y, epochs=2, report=False, **TIMING)
    error = caught.value
    assert isinstance(error, SpecError)
    assert (error.where, error.label, error.presentation) == ("area 'area1' (representation neurons)", "train-1", 4)
    assert str(error).startswith(
        "the run diverged: area 'area1' (representation neurons) has non-finite presentation averages from "
        "presentation 4 on (segment 'train-1', its presentation 1); last finite: presentation 3 "
        "(segment 'train-1', its presentation 0), averages in [")
    norms = ", ".join(f"{np.linalg.norm(W):.3g}" for W in before)
    assert str(error).endswith(f"the circuit keeps its weights from before the run (norms {norms}); lower eta or dt")
    for kept, original in zip(circuit.weights, before):
        np.testing.assert_array_equal(kept, original)
    assert circuit.runs == 0
