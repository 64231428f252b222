"""Shared assertion of the rate-mode tests: a simulation against the numpy reference."""
import numpy as np


def assert_matches_reference(spec, result, expected, reference, rtol=1e-6):
    """Voltages (``u_P``, ``u_E``, recorded every step) and learned weights of ``result`` agree with
    the reference's ``expected`` trace and weights to ``rtol`` of their largest magnitude; the run
    must have had non-trivial voltages and plasticity that acted."""
    for k in range(1, spec.n_areas + 1):
        for var in ("u_P", "u_E"):
            simulated, oracle = result.states[k][var].T, expected[var][k]
            scale = np.max(np.abs(oracle))
            assert scale > 1e-3, "the comparison needs non-trivial voltages"
            assert np.max(np.abs(simulated - oracle)) / scale <= rtol, (k, var)
    for learned, oracle, before in zip(result.weights_after, reference.weights, result.weights_before):
        assert np.max(np.abs(learned - before)) > 1e-5, "plasticity must have acted"
        assert np.max(np.abs(learned - oracle)) <= rtol * np.max(np.abs(oracle))
