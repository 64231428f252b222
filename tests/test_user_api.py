"""The circuit as a library: Brian2 objects by area name, user objects in every run,
area names wherever an area index is accepted, save/load, the no-learning warning.

Simulations run on Brian2's numpy target (no compile), tiny circuits of
(2, 3, 1) units and 20 ms presentations; one save/load check builds a
``cpp_standalone`` binary.
"""
import json
import warnings

import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import (CircuitSpec, ErrorCircuit, Heterogeneity, NoLearningWarning, Projection,
                                 Recording, SpecError, VersionWarning, storage)

TIMING = dict(duration=20 * b2.ms, settle=5 * b2.ms)


def tiny_spec(**changes) -> CircuitSpec:
    fields = dict(layers=(2, 3, 1), mode="rate", eta=5 * b2.Hz, target="numpy", seed=3, area_names=("V1", "V2"))
    return CircuitSpec(**{**fields, **changes})


def task(n=2):
    x = np.random.default_rng(0).uniform(0, 1, (n, 2))
    return x, np.tanh(0.5 * x.sum(axis=1, keepdims=True))


class Sentinel(Exception):
    """Raised instead of simulating: the code under test got past its checks."""


# ------------------------------------------------------------------ user objects
def test_user_state_monitor_and_network_operation_take_part_in_every_train():
    """A StateMonitor and a network_operation added through a factory record the whole training run,
    each time it is built; the monitor records what the circuit's own recording records."""
    circuit = ErrorCircuit(tiny_spec())
    ticks, builds = [], []

    @circuit.add
    def extras(built):
        builds.append(built)
        apical = b2.StateMonitor(built.group("V1", "P"), "v_api", record=True, dt=1 * b2.ms, name="apical")

        @b2.network_operation(dt=5 * b2.ms, name="ticker")
        def tick(t):
            ticks.append(round(float(t / b2.ms), 6))

        return apical, tick

    x, y = task()
    training = circuit.train(x, y, x, y, 1, recording=Recording(variables=("v_api",), dt=1 * b2.ms), report=False,
                             **TIMING)
    run = training.run
    # test-0, train-1, test-1: 3 blocks of 2 presentations of 20 ms = 120 ms
    assert set(run.user_states) == {"apical"}  # a network_operation holds no variables
    assert builds[0].network["ticker"].name == "ticker"
    assert ticks == [5.0 * i for i in range(24)]
    apical = run.user_states["apical"]
    assert apical["v_api"].shape == (120, 3)  # get_states(): samples x neurons
    np.testing.assert_array_equal(apical["v_api"].T, run.states[1]["v_api"])  # exactly equal
    np.testing.assert_allclose(apical["t"], np.arange(120) * 1e-3, rtol=0, atol=1e-12)

    circuit.evaluate(x, **TIMING)  # a second run builds a new network: the factory is called again
    assert len(builds) == 2 and builds[1] is not builds[0]
    assert len(ticks) == 24 + 8  # 2 presentations of 20 ms, every 5 ms


def test_network_operation_under_standalone_is_refused_before_compiling(tmp_path):
    circuit = ErrorCircuit(tiny_spec(target="cpp_standalone"), build_dir=str(tmp_path / "build"))
    circuit.add(lambda built: b2.NetworkOperation(lambda: None, dt=1 * b2.ms, name="python_code"))
    weights = [W.copy() for W in circuit.weights]
    with pytest.raises(SpecError, match=r"network_operation 'python_code' .* cpp_standalone cannot"):
        circuit.evaluate(task()[0], **TIMING)
    assert circuit.runs == 0 and not (tmp_path / "build" / "main").exists()
    np.testing.assert_array_equal(circuit.weights[0], weights[0])


def test_a_factory_must_return_brian_objects():
    circuit = ErrorCircuit(tiny_spec())
    circuit.add(lambda built: [built.group("V2", "P"), "not an object"])
    with pytest.raises(SpecError, match=r"returned 'not an object'; add\(\) factories return Brian2 objects"):
        circuit.build(circuit.block(task()[0]))
    with pytest.raises(SpecError, match="add\\(\\) takes a function"):
        circuit.add(42)


def test_build_shows_groups_and_synapses_by_name_with_the_current_weights():
    spec = tiny_spec(layers=(2, 3, 2, 1), area_names=("V1", "V4 lateral", "IT"), feedback="feedback_alignment",
                     eta=(5 * b2.Hz,) * 3)
    circuit = ErrorCircuit(spec)
    built = circuit.build(circuit.block(task()[0], np.zeros((2, 1))))
    assert built.group("input", "P").N == 2 and built.group("V4 lateral", "E").name == "V4_lateral_error"
    assert built.group(3, "P") is built.group("IT", "P")
    forward = built.projection("V1", "V4 lateral")
    matrix = np.zeros((2, 3))
    matrix[forward.j[:], forward.i[:]] = forward.w[:]
    np.testing.assert_array_equal(matrix, circuit.weights[1])  # the weights the circuit holds, exactly
    assert built.projection("IT", "V4 lateral").name == "IT_to_V4_lateral_feedback"
    assert built.lateral("V1", "BPI").name == "V1_BPI"
    with pytest.raises(SpecError, match=r"no projection 'V1' -> 'IT' in this network; projections: \[\('input', 'V1'\)"):
        built.projection("V1", "IT")
    with pytest.raises(SpecError, match=r"area: 'V3' is not an area of this circuit \(areas are 0\.\.3, or by name "
                                        r"'input', 'V1', 'V4 lateral', 'IT'\)"):
        built.group("V3", "P")
    with pytest.raises(SpecError, match=r"area: 'input' is not an area .* \(areas are 1\.\.3"):
        built.group("input", "E")


# ------------------------------------------------------------------ area names
def test_spec_accepts_area_names_for_indices():
    spec = tiny_spec(layers=(2, 3, 2, 1), area_names=("V1", "V4", "IT"), eta=(5 * b2.Hz,) * 3,
                     projections=(Projection("input", "V1"), Projection("V1", "V4"), Projection("V4", "IT"),
                                  Projection("V1", "IT", 0.5)),
                     lesioned_feedback=(("IT", "V1"),)).validate()
    assert [(p.source, p.target, p.density) for p in spec.projections] == [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0),
                                                                          (1, 3, 0.5)]
    assert spec.lesioned_feedback == ((3, 1),)
    assert (spec.area_index("IT"), spec.area_index("input"), spec.area_index(2)) == (3, 0, 2)
    assert (spec.label("V4"), spec.area_name(1), spec.area_name("input")) == ("V4", "V1", "input")
    with pytest.raises(SpecError, match=r"^projection Projection\(source='V1', target='V9'.*'V9' is not an area"):
        tiny_spec(projections=(Projection("input", "V1"), Projection("V1", "V9")))
    with pytest.raises(SpecError, match=r"^area: True is not an area"):
        spec.area_index(True)


def test_run_takes_area_names_and_results_are_found_by_name():
    """silenced and spike_areas by name run exactly as by index; RunResult.area gathers an area's results."""
    spec = tiny_spec(mode="sampled").replace(neuron=dict(n_rep=3, n_err=3))
    x, y = task()
    circuit = ErrorCircuit(spec)
    by_index = circuit.run(circuit.block(x, y, **TIMING), Recording(spikes=True, spike_areas=(2,)), silenced=(1,))
    circuit = ErrorCircuit(spec)
    by_name = circuit.run(circuit.block(x, y, **TIMING), Recording(spikes=True, spike_areas=("V2",)), silenced=("V1",))
    assert set(by_name.spikes) == {(2, "P"), (2, "E")}
    np.testing.assert_array_equal(by_name.err_avg[2], by_index.err_avg[2])
    np.testing.assert_array_equal(by_name.spikes[(2, "E")]["t"], by_index.spikes[(2, "E")]["t"])
    assert np.all(by_name.err_avg[1] == 0)  # silenced
    area = by_name.area("V2")
    assert (area.name, area.index) == ("V2", 2) and set(area.spikes) == {"P", "E"}
    assert area.spikes["E"] is by_name.spikes[(2, "E")] and area.rep_avg is by_name.rep_avg[2]
    assert by_name.area("input").err_avg is None and by_name.area(0).name == "input"
    with pytest.raises(SpecError, match=r"^silenced: 'input', 'V7' are not areas of this circuit \(areas are 1\.\.2"):
        circuit.run(circuit.block(x, y, **TIMING), silenced=("input", "V7"))


# ------------------------------------------------------------------ no learning
@pytest.mark.parametrize("changes, factors, warns", [
    (dict(eta=0 * b2.Hz), None, True),
    (dict(eta=0 * b2.Hz, eta_lateral=1 * b2.Hz), None, False),
    (dict(), [0.0, 0.0], True),
    (dict(), [0.0, 0.5], False),
])
def test_train_warns_when_every_learning_rate_is_zero(changes, factors, warns, monkeypatch):
    circuit = ErrorCircuit(tiny_spec(**changes))

    def no_simulation(*args, **kwargs):
        raise Sentinel

    monkeypatch.setattr(circuit, "run", no_simulation)
    x, y = task()
    with warnings.catch_warnings(record=True) as caught, pytest.raises(Sentinel):
        warnings.simplefilter("always")
        circuit.train(x, y, x, y, 2, lr_factors=factors)
    no_learning = [w for w in caught if issubclass(w.category, NoLearningWarning)]
    assert len(no_learning) == int(warns)
    if warns:
        assert "every learning rate is 0" in str(no_learning[0].message) and no_learning[0].filename == __file__


# ------------------------------------------------------------------ save and load
def test_spec_round_trips_through_json_with_units():
    spec = tiny_spec(layers=(2, 3, 2, 1), area_names=("V1", "V4", "IT"), eta=(1 * b2.Hz, 0.3 * b2.Hz, 7 / b2.second),
                     dt=0.1 * b2.ms, heterogeneity_rep=Heterogeneity(0.1, 0.2), lateral_noise=0.3, eta_lateral=0.5 * b2.Hz,
                     lesioned_feedback=((3, 2),))
    spec = spec.replace(neuron={"g_l": 0.03 / b2.ms, "tau_input": 15 * b2.ms, "n_input": 7})
    text = json.dumps(spec.as_dict())
    again = CircuitSpec.from_dict(json.loads(text))
    assert again == spec
    assert float(again.neuron.g_l / b2.Hz) == float(spec.neuron.g_l / b2.Hz)  # 0.03 / ms = 30.000000000000004 Hz
    assert json.loads(text)["dt"] == {"value": 1e-4, "unit": "second"}
    with pytest.raises(SpecError, match=r"CircuitSpec has no field\(s\) \['colour'\]"):
        CircuitSpec.from_dict({**json.loads(text), "colour": "red"})


def trained_and_saved(spec, path, build_dir=None):
    circuit = ErrorCircuit(spec, build_dir=build_dir)
    x, y = task(3)
    circuit.train(x, y, x, y, 1, report=False, **TIMING)
    circuit.save(path)
    return circuit, x


def test_a_loaded_circuit_holds_every_value_and_evaluates_identically_numpy(tmp_path):
    spec = tiny_spec(mode="spiking", lateral_noise=0.1, feedback_noise=0.2, eta_lateral=1 * b2.Hz,
                     heterogeneity_err=Heterogeneity(0.1, 0.1), initial_voltage_spread=0.5)
    circuit, x = trained_and_saved(spec, tmp_path / "trained.npz")
    loaded = ErrorCircuit.load(tmp_path / "trained.npz")
    assert loaded.spec == circuit.spec and loaded.runs == circuit.runs == 1
    for key, value in circuit.arrays.as_flat().items():
        np.testing.assert_array_equal(loaded.arrays.as_flat()[key], value, err_msg=key)
    # weights, feedback weights, feedback noise; WIP and BPI of 2 areas; 6 values of 2 populations of 2 areas
    assert len(circuit.arrays.as_flat()) == 2 + 1 + 2 + 2 * 2 + 2 * 2 * 6
    expected, outputs = circuit.evaluate(x, **TIMING), loaded.evaluate(x, **TIMING)
    np.testing.assert_array_equal(outputs, expected)  # bit-identical: same values, same random numbers
    assert np.ptp(expected) > 0


def test_a_sparse_neuron_level_circuit_keeps_its_wiring_through_save_and_load(tmp_path):
    from brian_errorcircuits.populations import neuron_level

    spec, arrays = neuron_level(tiny_spec(), 3, connectivity=("in_degree", 4))
    circuit = ErrorCircuit.from_arrays(spec, arrays)
    circuit.save(tmp_path / "sparse.npz")
    loaded = ErrorCircuit.load(tmp_path / "sparse.npz")
    for saved, mask in zip(loaded.arrays.connectivity, circuit.arrays.connectivity):
        np.testing.assert_array_equal(saved, mask)
        assert saved.sum(axis=1).tolist() == [4] * len(saved)  # every neuron its 4 partners
    assert [p.eta_scale for p in loaded.spec.projections] == [p.eta_scale for p in spec.projections] != [1.0, 1.0]


@pytest.mark.standalone
def test_a_loaded_circuit_evaluates_identically_cpp_standalone(tmp_path):
    spec = tiny_spec(mode="sampled", target="cpp_standalone").replace(neuron=dict(n_rep=3, n_err=3))
    circuit, x = trained_and_saved(spec, tmp_path / "trained.npz", build_dir=str(tmp_path / "build"))
    loaded = ErrorCircuit.load(tmp_path / "trained.npz", build_dir=str(tmp_path / "build"))
    np.testing.assert_array_equal(loaded.evaluate(x, **TIMING), circuit.evaluate(x, **TIMING))


def test_loading_a_file_of_another_version_warns_and_bad_files_are_refused(tmp_path, monkeypatch):
    circuit = ErrorCircuit(tiny_spec())
    circuit.save(tmp_path / "c.npz")
    written_by = storage.provenance()
    monkeypatch.setattr(storage, "provenance", lambda: {**written_by, "package_version": "9.9"})
    with pytest.warns(VersionWarning, match=r"written with package_version 0\.1\.0 \(now 9\.9\)"):
        loaded = ErrorCircuit.load(tmp_path / "c.npz")
    np.testing.assert_array_equal(loaded.weights[1], circuit.weights[1])
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(SpecError, match=r"text\.npz: not a saved circuit"):
        ErrorCircuit.load(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", weights=np.zeros(2))
    with pytest.raises(SpecError, match=r"plain\.npz: not a saved circuit \(no 'circuit\.json' entry\)"):
        ErrorCircuit.load(tmp_path / "plain.npz")


# ------------------------------------------------------------------ experiments' files
def test_save_trained_writes_the_circuit_and_the_spikes_as_a_neo_file(tmp_path):
    neo = pytest.importorskip("neo")
    from brian_errorcircuits.experiments.base import save_trained

    circuit = ErrorCircuit(tiny_spec(mode="sampled").replace(neuron=dict(n_rep=3, n_err=3)))
    x, y = task()
    result = circuit.run(circuit.block(x, y, **TIMING), Recording(spikes=True))
    save_trained(tmp_path, {"save_spikes": True}, circuit, result)
    assert ErrorCircuit.load(tmp_path / "circuit.npz").runs == 1
    block = neo.io.PickleIO(str(tmp_path / "spikes.pkl")).read_block()
    saved = np.sort(np.concatenate([np.asarray(train.rescale("s").magnitude)
                                    for segment in block.segments for train in segment.spiketrains]))
    recorded = np.sort(np.concatenate([entry["t"] for entry in result.spikes.values()]))
    assert len(recorded) > 20  # 55 spikes in 40 ms of 3 generators per neuron
    np.testing.assert_allclose(saved, recorded, rtol=0, atol=1e-12)  # every spike, at its time


def test_save_spikes_without_neo_is_refused_before_the_run(monkeypatch):
    import sys

    from brian_errorcircuits.experiments.base import require_neo

    monkeypatch.setitem(sys.modules, "neo", None)  # import neo raises ImportError
    with pytest.raises(SpecError, match=r"save_spikes=true .* needs the neo package: pip install neo"):
        require_neo({"save_spikes": True})
    require_neo({"save_spikes": False})
