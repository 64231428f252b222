"""Cart-pole task (gymnasium dynamics with a real-valued force) and closed-loop runs."""
import brian2 as b2
import numpy as np
import pytest
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, SpecError
from brian_errorcircuits.closed_loop import closed_loop
from brian_errorcircuits.reference import forward
from brian_errorcircuits.tasks.cartpole import (CartPolePlant, ContinuousCartPole, controller_policy,
                                                encode_states, failed, make_cartpole_data, run_policy)


def test_linear_controller_balances_from_small_start():
    trajectory = run_policy(CartPolePlant(), controller_policy(), [0.2, 0.0, 0.1, 0.0], max_steps=1000)
    assert not trajectory.failed and trajectory.steps == 1000
    end = trajectory.states[-1]
    assert abs(end[0]) < 0.05 and abs(end[2]) < 1e-3  # back at the centre, upright


def test_zero_force_lets_the_pole_fall():
    trajectory = run_policy(CartPolePlant(), lambda state: np.zeros(1), [0.0, 0.0, 0.1, 0.0], max_steps=1000)
    assert trajectory.failed
    assert 20 < trajectory.steps < 100  # about 1 s to fall from 6 degrees
    assert np.degrees(trajectory.states[-1][2]) > 70 and abs(trajectory.states[-1][0]) < 2.4


def test_failure_limits_are_ours_not_gymnasiums():
    assert not failed([0.0, 0.0, np.radians(30), 0.0])  # gymnasium would stop at 12 degrees
    assert not failed([2.39, 5.0, np.radians(69.9), -5.0])
    assert failed([2.41, 0.0, 0.0, 0.0]) and failed([-2.41, 0.0, 0.0, 0.0])
    assert failed([0.0, 0.0, np.radians(70.1), 0.0]) and failed([0.0, 0.0, -np.radians(70.1), 0.0])


@pytest.mark.parametrize("force", [-37.5, 0.0, 12.0])
def test_push_applies_the_force_with_gymnasiums_integrator(force):
    start = [0.1, -0.2, 0.05, 0.3]
    env = ContinuousCartPole()
    env.set_state(start)
    state = env.push(force)
    reference = CartPoleEnv()  # the discrete env with force_mag = |force|: the same step
    reference.reset(seed=0)
    reference.state = np.array(start)
    reference.force_mag = abs(force)
    reference.step(int(force >= 0))
    np.testing.assert_allclose(state, reference.state, rtol=0, atol=1e-12)
    free = ContinuousCartPole()
    free.set_state(start)
    # one step of force F changes the cart's velocity by tau F / (total mass), less the pole's reaction
    assert np.sign(state[1] - free.push(0.0)[1]) == np.sign(force)


def test_encoding_is_on_off_pairs_in_unit_range():
    rates = encode_states([[0.75, -1.5, 3.0, 0.0]], bound=1.5)
    np.testing.assert_allclose(rates, [[0.5, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    assert np.all(encode_states(np.zeros(4)) == 0)  # upright at rest: every input silent


def test_data_targets_are_scaled_controller_forces():
    data = make_cartpole_data(n_train=200, n_test=50, seed=1, target_limit=0.9)
    assert data.x_train.shape == (200, 8) and data.y_test.shape == (50, 1)
    states = 1.5 * (data.x_train[:, :4] - data.x_train[:, 4:])  # decode the on/off pairs
    expected = np.clip(states @ [1.0, 4.2, 62.8, 16.3] / 76.6, -0.9, 0.9)
    np.testing.assert_allclose(data.y_train[:, 0], expected, atol=1e-12)


def test_mirrored_data_pairs_each_state_with_its_negation():
    data = make_cartpole_data(n_train=10, n_test=4, seed=1, mirrored=True)
    np.testing.assert_array_equal(data.x_train[5:], data.x_train[:5][:, [4, 5, 6, 7, 0, 1, 2, 3]])
    np.testing.assert_array_equal(data.y_train[5:], -data.y_train[:5])
    odd = make_cartpole_data(n_train=9, n_test=4, seed=1, mirrored=True)
    np.testing.assert_array_equal(odd.y_train[5:], -odd.y_train[:4])


class ConstantPlant:
    """Holds the input fixed, records the circuit's outputs, ends the episode after ``stop_after`` steps."""

    def __init__(self, rates, stop_after=None):
        self.rates, self.stop_after, self.outputs = np.asarray(rates), stop_after, []

    def reset(self, start):
        self.outputs = []
        return self.rates

    def step(self, outputs):
        self.outputs.append(outputs)
        return self.rates, len(self.outputs) == self.stop_after


def rate_circuit():
    spec = CircuitSpec(layers=(2, 3, 1), mode="rate", target="numpy", dt=0.5 * b2.ms, seed=2)
    return ErrorCircuit(spec, weights=[[[1.0, -0.5], [0.3, 0.8], [-1.2, 0.4]], [[0.9, -0.7, 0.5]]])


def test_closed_loop_output_is_the_circuits_forward_function():
    circuit = rate_circuit()
    rates = np.array([0.6, 0.2])
    episodes = closed_loop(circuit, ConstantPlant(rates), starts=[None], step=20 * b2.ms, max_steps=15)
    assert episodes[0].steps == 15 and not episodes[0].ended_early
    expected = forward(circuit.spec, circuit.weights, rates[None, :])[1][-1][0]
    # rate mode with prospective rates (Latent Equilibrium) answers within the first step
    np.testing.assert_allclose(episodes[0].outputs[:, 0], expected[0], atol=1e-3)


def test_closed_loop_stops_when_the_plant_ends_the_episode():
    plant = ConstantPlant([0.1, 0.9], stop_after=3)
    episodes = closed_loop(rate_circuit(), plant, starts=[None, None], step=5 * b2.ms, max_steps=50)
    assert [e.steps for e in episodes] == [3, 3] and all(e.ended_early for e in episodes)
    # both episodes start settled on the same input (membranes relax with 1 / g_tot ~ 5 ms)
    np.testing.assert_allclose(episodes[0].outputs, episodes[1].outputs, atol=1e-4)


def test_closed_loop_refuses_standalone_and_bad_rates():
    circuit = rate_circuit()
    standalone = ErrorCircuit(circuit.spec.replace(target="cpp_standalone"), weights=circuit.weights)
    with pytest.raises(SpecError, match="cython"):
        closed_loop(standalone, ConstantPlant([0.5, 0.5]), starts=[None], max_steps=2)
    with pytest.raises(SpecError, match=r"\[0, 1\]"):
        closed_loop(circuit, ConstantPlant([0.5, 1.5]), starts=[None], max_steps=2)



def test_closed_loop_spikes_are_per_neuron_and_timed_from_the_episode():
    spec = CircuitSpec(layers=(2, 1, 1), mode="sampled", target="numpy", seed=1,
                       neuron=NeuronParams(n_rep=4, n_err=4))
    episodes = closed_loop(ErrorCircuit(spec), ConstantPlant([1.0, 1.0]), starts=[None, None],
                           step=5 * b2.ms, max_steps=8, spike_episodes=(1,))
    assert episodes[0].spikes == {}
    inputs = episodes[1].spikes[(0, "P")]  # 8 input neurons at 100 Hz for 45 ms: ~36 spikes
    assert len(np.unique(inputs["i"])) >= 6 and 15 < len(inputs["i"]) < 70
    assert 0 <= inputs["t"].min() and inputs["t"].max() < 9 * 0.005
