"""Cart-pole control by imitation of a linear controller (Max et al. 2026, Fig. 2a protocol).

The network learns the force of the fixed linear controller
F = 1.0 x + 4.2 x' + 62.8 theta + 16.3 theta' (N; state in m, m/s, rad,
rad/s) from random states, then drives the cart-pole in closed loop.

Dynamics: gymnasium's ``CartPoleEnv`` (its constants and Euler integrator,
20 ms per step), made continuous by :class:`ContinuousCartPole`: each step
sets ``force_mag`` to ``|F|`` and takes the discrete action of F's sign, so
gymnasium applies exactly F.  gymnasium's own termination (``|theta| > 12 deg``)
is ignored; failure is ``|x| > 2.4 m`` or ``|theta| > 70 deg`` (:func:`failed`).

Encoding (spiking inputs are rates in [0, 1]): each state variable s goes to
an on/off pair of input units, [s]_+ / bound and [-s]_+ / bound, clipped to
[0, 1] (states beyond +-bound saturate).  The circuit has no biases, and
with this code the upright state at rest is silence on every input, so the
force is zero there by construction instead of resting on a learned offset
(an offset of 1 N already shifts the cart's rest position by 1 m, since the
controller's position gain is only 1 N/m).  Hence 8 input units for the 4
state variables.  Output: target = F / force_scale clipped to
[-target_limit, target_limit] (inside tanh's range); the force is the
output times force_scale.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv

#: gains of the linear controller on (x, x', theta, theta')
CONTROLLER_GAINS = np.array([1.0, 4.2, 62.8, 16.3])
#: force (N) at output 1 (the original scales the controller's force by 1/76.6)
FORCE_SCALE_N = 76.6
X_LIMIT_M = 2.4
THETA_LIMIT_DEG = 70.0
STATE_NAMES = ("x", "x_dot", "theta", "theta_dot")


def controller_force(states) -> np.ndarray:
    """Force (N) of the linear controller for states of shape (..., 4)."""
    return np.asarray(states, float) @ CONTROLLER_GAINS


def failed(state) -> bool:
    """The cart left the track (``|x| > 2.4 m``) or the pole fell (``|theta| > 70 deg``)."""
    return bool(abs(state[0]) > X_LIMIT_M or abs(np.degrees(state[2])) > THETA_LIMIT_DEG)


def encode_states(states, bound: float = 1.5) -> np.ndarray:
    """Input rates in [0, 1]: on units [s]_+/bound then off units [-s]_+/bound, clipped.

    Shape (..., 4) -> (..., 8).
    """
    scaled = np.asarray(states, float) / bound
    return np.clip(np.concatenate([scaled, -scaled], axis=-1), 0.0, 1.0)


def sample_states(n: int, bound: float, rng) -> np.ndarray:
    """``n`` states uniform in [-bound, bound]^4."""
    return rng.uniform(-bound, bound, size=(n, 4))


@dataclass(frozen=True)
class CartPoleData:
    """Encoded states and scaled controller forces for training and testing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def make_cartpole_data(n_train=500, n_test=100, seed=0, bound=1.5, force_scale=FORCE_SCALE_N,
                       target_limit=0.9, mirrored=False) -> CartPoleData:
    """States uniform in [-bound, bound]^4 and the controller's force as targets (shape (n, 1)).

    ``mirrored``: the last n_train // 2 training states are the first ones negated (the
    controller is odd, so each pair asks for opposite forces; an odd n_train leaves the
    middle state unpaired).
    """
    rng = np.random.default_rng(seed)
    states = sample_states(n_train + n_test, bound, rng)
    if mirrored:
        pairs = n_train // 2
        states[n_train - pairs:n_train] = -states[:pairs]
    targets = np.clip(controller_force(states) / force_scale, -target_limit, target_limit)[:, None]
    inputs = encode_states(states, bound)
    return CartPoleData(inputs[:n_train], targets[:n_train], inputs[n_train:], targets[n_train:])


class ContinuousCartPole(CartPoleEnv):
    """gymnasium's cart-pole driven by a real-valued force, its state set directly.

    :meth:`push` sets ``force_mag`` = ``|force|`` and steps with the action of the
    force's sign (gymnasium applies +force_mag for action 1, -force_mag for
    0), keeping gymnasium's constants and integrator.  gymnasium's
    termination flag (12 degrees) is ignored and its "stepped after
    termination" bookkeeping is cleared each step; use :func:`failed`.
    """

    def set_state(self, state) -> None:
        self.state = np.array(state, dtype=np.float64)
        self.steps_beyond_terminated = None

    def push(self, force: float) -> np.ndarray:
        """Apply ``force`` (N) for one step (``tau`` = 20 ms); the new state (float64)."""
        self.force_mag = abs(float(force))
        self.steps_beyond_terminated = None
        self.step(int(force >= 0))
        return np.array(self.state, dtype=np.float64)


@dataclass
class Trajectory:
    """One episode: states (steps + 1, 4) from the start, forces (steps,) in N, and whether it failed."""

    states: list = field(default_factory=list)
    forces: list = field(default_factory=list)
    failed: bool = False

    @property
    def steps(self) -> int:
        return len(self.forces)


class CartPolePlant:
    """The cart-pole as a closed-loop plant: encoded state out, scaled force in.

    Implements :class:`brian_errorcircuits.closed_loop.Plant`; every reset
    starts a new :class:`Trajectory` in ``trajectories``.
    """

    def __init__(self, bound: float = 1.5, force_scale: float = FORCE_SCALE_N):
        self.env = ContinuousCartPole()
        self.bound = bound
        self.force_scale = force_scale
        self.trajectories = []

    def reset(self, start) -> np.ndarray:
        self.env.set_state(start)
        self.trajectories.append(Trajectory(states=[np.array(start, float)]))
        return encode_states(self.env.state, self.bound)

    def step(self, outputs) -> tuple:
        trajectory = self.trajectories[-1]
        force = float(np.ravel(outputs)[0]) * self.force_scale
        state = self.env.push(force)
        trajectory.states.append(state)
        trajectory.forces.append(force)
        trajectory.failed = failed(state)
        return encode_states(state, self.bound), trajectory.failed


def run_policy(plant: CartPolePlant, policy, start, max_steps: int) -> Trajectory:
    """Drive ``plant`` from ``start`` with ``policy(state) -> output`` (in the circuit's output units)."""
    plant.reset(start)
    for _ in range(max_steps):
        _, ended = plant.step(policy(plant.env.state))
        if ended:
            break
    return plant.trajectories[-1]


def controller_policy(force_scale: float = FORCE_SCALE_N):
    """The linear controller in the circuit's output units (no saturation)."""
    return lambda state: controller_force(state) / force_scale
