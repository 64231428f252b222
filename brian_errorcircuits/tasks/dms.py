"""Delayed match-to-sample trials (Max et al. 2026, Fig. 2b protocol).

A trial is a sequence of presentations of equal length: ``fixation``
presentations without stimulus, the first stimulus (+1 or -1), a random
delay of 1.. presentations without stimulus, and the second stimulus.  The
answer is +1 when the two stimuli match and -1 when they differ; it is the
target of the second-stimulus presentation only (the *response*), which is
also where the output is scored.

Firing rates cannot be negative, so a stimulus s reaches the network on two
input channels, one per sign: s = +1 is (1, 0), s = -1 is (0, 1), no stimulus
(0, 0).  A single channel carrying s as an offset around a baseline would do
as well for the rates, but it would make the circuit's map from stimulus to
output odd-symmetric up to that baseline, and match / non-match is an even
function of the stimuli (it is their product).  A third channel is the
fixation point, visible throughout every trial (rate ``fixation_rate``): the
circuit has no biases, and this constant input is what it builds its
thresholds from.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (first, second) stimulus of the four trial kinds; each kind appears equally often
TRIAL_KINDS = ((1, 1), (-1, -1), (1, -1), (-1, 1))


@dataclass(frozen=True)
class DMSTrials:
    """Trials laid out presentation by presentation.

    ``inputs`` (P, 3) rates of the (+) and (-) stimulus channels and the
    fixation point; ``targets``
    (P, 1) the answer on response presentations, 0 elsewhere; ``response``
    (P,) marks the second-stimulus presentations (target on, output scored);
    ``trial`` (P,) the trial each presentation belongs to.  Per trial:
    ``first``, ``second`` (+1 / -1), ``delay`` (presentations) and ``answer``.
    """

    inputs: np.ndarray
    targets: np.ndarray
    response: np.ndarray
    trial: np.ndarray
    first: np.ndarray
    second: np.ndarray
    delay: np.ndarray

    @property
    def answer(self) -> np.ndarray:
        """+1 where the stimuli match, -1 where they differ (one per trial)."""
        return self.first * self.second

    def __len__(self) -> int:
        return len(self.first)


def encode(stimulus: float, fixation_rate: float = 1.0) -> np.ndarray:
    """Rates of the (+), (-) and fixation channels for a stimulus +1, -1 or 0 (none)."""
    return np.array([max(stimulus, 0.0), max(-stimulus, 0.0), fixation_rate])


def make_dms_trials(n_trials: int, seed: int = 0, fixation: int = 1, delays=(1, 2, 3),
                    fixation_rate: float = 1.0) -> DMSTrials:
    """``n_trials`` trials in random order, the four kinds (match ++ / --, non-match +- / -+) balanced.

    The order is randomised in blocks of four trials holding each kind once, so
    that no long run of one answer biases an online learner (block
    randomisation, as in behavioural experiments).

    ``fixation`` presentations open each trial; each delay is drawn uniformly
    from ``delays`` (in presentations); the fixation point is on at
    ``fixation_rate`` throughout.  With ``n_trials`` a multiple of 4 the
    kinds are exactly balanced, otherwise to within one trial.
    """
    if n_trials < 1 or fixation < 0 or not delays or min(delays) < 0 or not 0 <= fixation_rate <= 1:
        raise ValueError(f"need n_trials >= 1, fixation >= 0, delays >= 0 and a fixation rate in [0, 1]; "
                         f"got {n_trials}, {fixation}, {delays}, {fixation_rate}")
    rng = np.random.default_rng(seed)
    blocks = -(-n_trials // len(TRIAL_KINDS))
    kinds = np.concatenate([rng.permutation(len(TRIAL_KINDS)) for _ in range(blocks)])[:n_trials]
    first, second = np.array([TRIAL_KINDS[k] for k in kinds], float).T
    delay = rng.choice(np.asarray(delays, int), size=n_trials)
    inputs, targets, response, trial = [], [], [], []
    for n, (s1, s2, d) in enumerate(zip(first, second, delay)):
        stimuli = [0.0] * fixation + [s1] + [0.0] * d + [s2]
        inputs += [encode(s, fixation_rate) for s in stimuli]
        targets += [0.0] * (len(stimuli) - 1) + [s1 * s2]
        response += [False] * (len(stimuli) - 1) + [True]
        trial += [n] * len(stimuli)
    return DMSTrials(np.array(inputs), np.array(targets)[:, None], np.array(response), np.array(trial),
                     first, second, delay)
