"""cpp_standalone gives the results of the Cython runtime, and learns.

Small networks, so each standalone build stays short; builds go to tmp_path.
"""
import gc
import os

import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, Recording

pytestmark = pytest.mark.standalone


def run_on(target, mode, tmp_path, learning=True):
    spec = CircuitSpec(layers=(3, 4, 2), mode=mode, eta=(20 * b2.Hz, 20 * b2.Hz), seed=11, target=target,
                       neuron=NeuronParams(n_rep=5, n_err=5))
    circuit = ErrorCircuit(spec, build_dir=str(tmp_path / f"{target}-{mode}"))
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1, (4, 3)), rng.uniform(-0.5, 0.5, (4, 2))
    record = Recording(spikes=mode == "sampled")
    return circuit.run(circuit.block(x, y, learning=learning, duration=40 * b2.ms, settle=10 * b2.ms), record)


@pytest.mark.parametrize("mode", ["rate", "sampled"])
def test_standalone_equals_cython(mode, tmp_path):
    """Same seed, same schedule: cpp_standalone and Cython agree.

    Both targets draw Brian2's random numbers from the same generator, so
    spike trains are identical; floating-point results agree to 1e-9
    relative (compilers may order sums differently).
    """
    cython = run_on("cython", mode, tmp_path)
    standalone = run_on("cpp_standalone", mode, tmp_path)
    for a, b in zip(cython.weights_after, standalone.weights_after):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    for a, b in zip(cython.err_avg[1:], standalone.err_avg[1:]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    for key in cython.spikes:
        np.testing.assert_array_equal(cython.spikes[key]["i"], standalone.spikes[key]["i"])
    for before, after in zip(standalone.weights_before, standalone.weights_after):
        assert np.abs(after - before).max() > 0, "plasticity acted in standalone"
    # the binary flushes subnormal numbers to zero (linked with -ffast-math): decayed traces cost nothing
    link_flags = [line for line in (tmp_path / f"cpp_standalone-{mode}" / "makefile").read_text().splitlines()
                  if line.startswith("LFLAGS")]
    assert "-ffast-math" in link_flags[0].split()


def test_own_build_folder_is_reused_and_removed_with_the_circuit():
    """Without ``build_dir`` a circuit builds in one temporary folder of its own, gone with the circuit."""
    spec = CircuitSpec(layers=(2, 2), mode="rate", seed=0, target="cpp_standalone")
    circuit = ErrorCircuit(spec)
    block = circuit.block(np.full((2, 2), 0.5), np.zeros((2, 2)), learning=True, duration=5 * b2.ms,
                          settle=1 * b2.ms)
    circuit.run(block)
    folder = circuit.build_dir
    circuit.run(block)
    assert circuit.build_dir == folder and os.path.isdir(folder)
    del circuit
    gc.collect()
    assert not os.path.exists(folder)
