"""Conditions of one circuit shape generate the same cpp_standalone code, so they share one build.

Code generation only (nothing is compiled): every generated source file is
compared; only ``main.cpp`` (values set before the run, run durations) may differ.
"""
import gc
from pathlib import Path

import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, Recording
from brian_errorcircuits.circuit import brian_session, spike_recording_calls
from brian_errorcircuits.connectome import load_table
from brian_errorcircuits.network import build_network

SIZES = (3, 3, 2, 2)  # V1, V2, V4, TEO of the 7-area table (skip projections, several routes per area)


def table_spec(**fields) -> CircuitSpec:
    fields = {"mode": "spiking", "seed": 2, "eta": (3 * b2.Hz,) * len(SIZES), "target": "cpp_standalone",
              "neuron": NeuronParams(n_rep=1, n_err=1), **fields}
    return CircuitSpec.from_table(load_table("macaque_visual_7areas"), SIZES, 4, **fields)


def generated_code(circuit: ErrorCircuit, schedule, recording: Recording, build_dir: Path, silenced=()) -> dict:
    """{file: source} of the cpp_standalone project ``circuit.run`` would compile (main.cpp apart)."""
    gc.collect()  # as ErrorCircuit.run does: a previous network still alive would rename this one's objects
    with brian_session(circuit.spec, circuit.runs, str(build_dir)):
        built = build_network(circuit.spec, circuit.arrays, schedule, recording, silenced,
                              schedule_rows=circuit.schedule_rows)
        for presentations, record in spike_recording_calls(circuit.spec, schedule, recording):
            for monitor in built.spike_monitors.values():
                monitor.active = record
            built.network.run(presentations * schedule.duration, namespace={})
        b2.device.build(directory=str(build_dir), compile=False, run=False, with_output=False)
    sources = [path for path in build_dir.rglob("*") if path.suffix in (".cpp", ".h") or path.name == "makefile"]
    return {str(path.relative_to(build_dir)): path.read_text() for path in sources if path.name != "main.cpp"}


def schedule_of(circuit: ErrorCircuit, presentations: int, duration=4 * b2.ms, **flags):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (presentations, 4)), rng.uniform(-0.5, 0.5, (presentations, SIZES[-1]))
    return circuit.block(x, y, duration=duration, settle=duration / 4, **flags)


@pytest.mark.parametrize("feedback", ["backprop", "feedback_alignment"])
def test_cut_error_routes_and_silenced_areas_leave_the_code_unchanged(feedback, tmp_path):
    intact = ErrorCircuit(table_spec(feedback=feedback))
    cut = ErrorCircuit(table_spec(feedback=feedback, lesioned_feedback=((4, 3), (3, 1))
                                  if feedback == "backprop" else ((4, 1), (3, 2))))
    recording = Recording(spikes=True)
    code = generated_code(intact, schedule_of(intact, 3), recording, tmp_path / "intact")
    assert len(code) > 20  # every code object's files
    assert generated_code(cut, schedule_of(cut, 3), recording, tmp_path / "cut", silenced=(2,)) == code


def test_schedules_padded_to_common_rows_share_their_code(tmp_path):
    circuit = ErrorCircuit(table_spec())
    recording = Recording(spikes=True, spike_segments=("a",))
    short = schedule_of(circuit, 3, label="a") + schedule_of(circuit, 2, label="b", learning=True)
    long = schedule_of(circuit, 2, label="a") + schedule_of(circuit, 11, label="b", learning=True)
    unpadded = generated_code(circuit, short, recording, tmp_path / "short-unpadded")
    assert generated_code(circuit, long, recording, tmp_path / "long-unpadded") != unpadded  # 8 vs 16 rows
    circuit.schedule_rows = 13
    code = generated_code(circuit, short, recording, tmp_path / "short")
    assert generated_code(circuit, long, recording, tmp_path / "long") == code


def test_spikes_of_some_segments_are_recorded_in_one_call_with_the_same_code(tmp_path):
    """Neuron-level spiking: recording one stretch or three takes one run call, so the code is the same."""
    circuit = ErrorCircuit(table_spec())
    circuit.schedule_rows = 8
    recording = Recording(spikes=True, spike_segments=("a",))
    one = schedule_of(circuit, 3, label="a")
    three = schedule_of(circuit, 1, label="a") + schedule_of(circuit, 1, label="b") + schedule_of(circuit, 1, label="a")
    assert spike_recording_calls(circuit.spec, three, recording) == [(3, True)]
    assert generated_code(circuit, three, recording, tmp_path / "three") == generated_code(
        circuit, one, recording, tmp_path / "one")


def test_recorded_segments_hold_exactly_the_spikes_of_a_full_recording():
    """The gated events repeat the neurons' own firing: a run recording segment 'a' only has the
    spikes of a run recording everything, in 'a''s presentations, and the run is otherwise the same."""
    spec = table_spec(target="numpy")
    results = {}
    for segments in (None, ("a",)):
        circuit = ErrorCircuit(spec)
        duration = 40 * b2.ms
        schedule = (schedule_of(circuit, 1, duration, label="a") + schedule_of(circuit, 2, duration, label="b",
                                                                               learning=True)
                    + schedule_of(circuit, 1, duration, label="a"))
        results[segments] = circuit.run(schedule, Recording(spikes=True, spike_segments=segments))
    full, gated = results[None], results[("a",)]
    T = float(full.schedule.duration)
    recorded = np.isin(full.schedule.labels, ["a"])
    inside = outside = 0
    for key, entry in full.spikes.items():
        kept = recorded[(entry["t"] / T + 1e-9).astype(int)]
        inside, outside = inside + kept.sum(), outside + (~kept).sum()
        np.testing.assert_array_equal(gated.spikes[key]["t"], entry["t"][kept])
        np.testing.assert_array_equal(gated.spikes[key]["i"], entry["i"][kept])
    assert inside > 50 and outside > 50  # spikes inside and outside the segments
    for a, b in zip(full.weights_after, gated.weights_after):
        np.testing.assert_array_equal(a, b)
