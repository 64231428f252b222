"""Neuron-level circuits: populations of neurons whose mean field is the unit-level circuit."""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, Recording, cosine
from brian_errorcircuits.analysis import to_neo
from brian_errorcircuits.populations import neuron_level, unit_means
from brian_errorcircuits.reference import backprop_deltas
from brian_errorcircuits.spec import Projection, SpecError


def task(n, spec, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, spec.input_units)), rng.uniform(-0.8, 0.8, (n, spec.output_units))


@pytest.mark.parametrize("feedback", ["backprop", "feedback_alignment"])
def test_tied_population_rate_circuit_is_the_unit_level_circuit(feedback):
    """Mean field: 3 neurons per unit, tied weights, eta / 3, skip projection; after 4 learning
    presentations and 2 more, outputs, per-unit error signals and unit weights (sums over the
    m x m blocks) equal the unit-level rate circuit's to 1e-10 relative (same arithmetic
    in another order: observed ~1e-15)."""
    units = CircuitSpec(layers=(3, 5, 4, 2), mode="rate", feedback=feedback, eta=(4 * b2.Hz,) * 3,
                        projections=(Projection(0, 1), Projection(1, 2), Projection(2, 3), Projection(1, 3)),
                        dt=0.25 * b2.ms, seed=6, target="numpy")
    unit_circuit = ErrorCircuit(units)
    spec, arrays = neuron_level(units, 3, unit_circuit.arrays)
    population = ErrorCircuit.from_arrays(spec, arrays)
    x, y = task(6, units)
    timing = dict(duration=20 * b2.ms, settle=5 * b2.ms)

    def schedule(circuit):
        return circuit.block(x[:4], y[:4], learning=True, **timing) + circuit.block(x[4:], y[4:], **timing)

    expected, result = unit_circuit.run(schedule(unit_circuit)), population.run(schedule(population))
    np.testing.assert_allclose(result.outputs, expected.outputs, rtol=1e-10, atol=1e-12)
    for k in range(1, units.n_areas + 1):
        np.testing.assert_allclose(unit_means(result.err_avg[k], 3), expected.err_avg[k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(unit_means(result.rep_avg[k], 3), expected.rep_avg[k], rtol=1e-10, atol=1e-12)
    for W_units, W_neurons, before in zip(expected.weights_after, result.weights_after, expected.weights_before):
        assert np.abs(W_units - before).max() > 1e-4, "plasticity must have acted"
        summed = W_neurons.reshape(W_units.shape[0], 3, W_units.shape[1], 3).sum(axis=(1, 3)) / 3
        np.testing.assert_allclose(summed, W_units, rtol=1e-10, atol=1e-12)


def test_neuron_level_needs_a_unit_level_spec_and_a_whole_population():
    units = CircuitSpec(layers=(4, 4, 2))
    with pytest.raises(SpecError, match="neurons_per_unit=0"):
        neuron_level(units, 0)
    with pytest.raises(SpecError, match="unit-level spec"):
        neuron_level(units.replace(layers=(4, 4, 4), output_units=2), 2)


def test_spiking_neurons_fire_from_their_own_rates():
    """Every neuron its own Poisson process: over 2 s, each input neuron's count matches its rate
    (rate_max x input, within 5 sd), and each error neuron fires positive- or negative-error spikes
    mostly by the sign of its average error (the output it compares with the target is itself a
    noisy spike trace, so a few spikes of the other sign are expected: >= 75 % of the right sign)."""
    spec = CircuitSpec(layers=(4, 6, 2), mode="spiking", target="numpy", seed=2, eta=(0 * b2.Hz,) * 2)
    circuit = ErrorCircuit(spec)
    x, y = np.array([[0.1, 0.4, 0.7, 1.0]]), np.array([[0.9, -0.9]])
    recording = Recording(spikes=True)
    result = circuit.run(circuit.block(x, y, duration=2 * b2.second, settle=0.5 * b2.second), recording)
    counts = np.bincount(result.spikes[(0, "P")]["i"], minlength=4)
    expected = 100 * x[0] * 2.0
    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected)), counts
    errors = result.spikes[(2, "E")]
    for j, target_sign in enumerate(np.sign(result.err_avg[2][0])):
        signs = errors["sign"][errors["unit"] == j]
        assert len(signs) > 20 and np.mean(signs == target_sign) >= 0.75, (j, np.mean(signs == target_sign))
    # Neo: one segment (the whole run); one train per neuron, two per error neuron (its + and - spikes)
    (segment,) = to_neo(result, recording).segments
    trains = segment.spiketrains
    assert len(trains) == 4 + 6 + 2 * 6 + 2 + 2 * 2
    inputs = [t for t in trains if t.annotations["population"] == "input"]
    assert [len(t) for t in inputs] == list(counts)
    minus = [t for t in trains if t.annotations["area"] == "area2" and t.annotations.get("sign") == -1]
    assert sum(len(t) for t in minus) == int(np.sum(errors["sign"] < 0))


def test_neuron_level_spiking_errors_align_with_backprop_per_unit():
    """Untrained 4-10-2 circuit, 20 neurons per unit, 10 presentations of 200 ms: the hidden error
    signals decoded per unit point along exact backprop's deltas (cosine >= 0.9; observed ~0.97)."""
    units = CircuitSpec(layers=(4, 10, 2), seed=3)
    spec, arrays = neuron_level(units, 20, mode="spiking", target="numpy", eta=(0 * b2.Hz,) * 2)
    circuit = ErrorCircuit.from_arrays(spec, arrays)
    x, y = task(10, units)
    result = circuit.run(circuit.block(x, y, duration=200 * b2.ms, settle=50 * b2.ms))
    deltas = backprop_deltas(units, ErrorCircuit(units).weights, x, y)
    assert cosine(unit_means(result.err_avg[1], 20), deltas[1]) >= 0.9


def test_input_spikes_reach_the_basal_dendrite_event_by_event():
    """Event-driven transmission (no per-step sum over synapses) gives the same basal input as
    summing weight x presynaptic trace: with frozen weights, area 1's ``v_bas`` sampled every step
    equals W @ (input traces rebuilt from the recorded input spikes: Euler decay, then +1/(rate_max
    tau) per spike) to 1e-12 (the same arithmetic in another order)."""
    spec = CircuitSpec(layers=(5, 4, 2), mode="spiking", target="numpy", seed=3, eta=(0 * b2.Hz,) * 2,
                       dt=0.25 * b2.ms)
    circuit = ErrorCircuit(spec)
    x, y = task(2, spec)
    result = circuit.run(circuit.block(x, y, duration=100 * b2.ms, settle=5 * b2.ms),
                         Recording(spikes=True, spike_areas=(0,), variables=("v_bas",), dt=spec.dt))
    dt, tau = float(spec.dt), float(spec.neuron.tau_syn)
    steps = len(result.states["t"])
    spikes = np.zeros((steps, spec.layers[0]))
    inputs = result.spikes[(0, "P")]
    np.add.at(spikes, (np.round(inputs["t"] / dt).astype(int), inputs["i"]), 1.0)
    assert spikes.sum() > 30, "the test needs input spikes"
    traces = np.zeros_like(spikes)  # trace after each step's update and spikes
    for n in range(steps):
        traces[n] = (traces[n - 1] * (1 - dt / tau) if n else 0) + spikes[n] / (float(spec.neuron.rate_max) * tau)
    sampled = result.states[1]["v_bas"].T  # sampled at the start of each step: the previous step's traces
    np.testing.assert_allclose(sampled[1:], traces[:-1] @ circuit.weights[0].T, rtol=1e-12, atol=1e-14)
