"""Slow input synapses (NeuronParams.tau_input): a fading memory of the input in both modes."""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, Recording, SpecError


def basal_drive(mode, tau_input, on_ms=60, off_ms=60, **neuron):
    """v_bas of a 1-1-1 circuit with input weight 1: the input signal its synapses deliver."""
    spec = CircuitSpec(layers=(1, 1, 1), mode=mode, eta=(0 * b2.Hz,) * 2, dt=0.1 * b2.ms, target="numpy",
                       neuron=NeuronParams(tau_input=tau_input, **neuron), seed=2)
    circuit = ErrorCircuit(spec, weights=[np.ones((1, 1)), np.ones((1, 1))])
    step = 20 * b2.ms
    inputs = np.repeat([[1.0], [0.0]], [on_ms // 20, off_ms // 20], axis=0)
    result = circuit.run(circuit.block(inputs, duration=step, settle=0 * b2.ms),
                         Recording(variables=("v_bas",), dt=spec.dt))
    return result.states["t"], result.states[1]["v_bas"][0]


def test_rate_input_rises_and_fades_with_tau_input():
    """Closed form: 1 - exp(-t/tau) while on, then exponential decay; Euler error at dt/tau = 0.005 < 1e-2."""
    tau = 20e-3
    t, drive = basal_drive("rate", tau * b2.second)
    t_on = 60e-3
    expected = np.where(t < t_on, 1 - np.exp(-t / tau), (1 - np.exp(-t_on / tau)) * np.exp(-(t - t_on) / tau))
    # v_bas reads the signal of the step before (the sweep's order): compare with a one-step shift
    np.testing.assert_allclose(drive[1:], expected[:-1], atol=1e-2)


def test_rate_input_unfiltered_by_default():
    t, drive = basal_drive("rate", None)
    np.testing.assert_allclose(drive[(t > 1e-3) & (t < 59e-3)], 1.0)
    np.testing.assert_allclose(drive[t > 61e-3], 0.0)


def test_spiking_input_trace_keeps_its_mean_and_fades_slowly():
    """Spike trains filtered with tau_input = 50 ms: mean level ~ the rate fraction, a slow decay after."""
    t, drive = basal_drive("sampled", 50 * b2.ms, on_ms=200, off_ms=40, n_rep=40)
    late_on = drive[(t > 0.15) & (t < 0.2)].mean()
    # 40 neurons x 100 Hz x 50 ms ~ 200 spikes per time constant: ~7 % noise, 1 - exp(-3) = 0.95 risen
    assert 0.8 < late_on < 1.1
    after = drive[(t > 0.215) & (t < 0.225)].mean()  # 15-25 ms after offset: exp(-0.4) = 0.67 of the level
    assert 0.45 < after / late_on < 0.85


def test_tau_input_must_be_a_positive_time():
    with pytest.raises(SpecError, match="tau_input"):
        NeuronParams(tau_input=-5 * b2.ms).validate()
    with pytest.raises(SpecError, match="tau_input"):
        NeuronParams(tau_input=5 * b2.Hz).validate()
