"""Multi-area circuits built from projection-density tables.

Rate mode on Brian2's numpy target: these short runs cost less than a Cython
compile of every projection (the Cython target is covered in test_dynamics).
"""
import warnings

import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, Recording, SpecError, cosine
from brian_errorcircuits.analysis import angle_medians, training_angles
from brian_errorcircuits.connectome import ProjectionTable, load_table
from brian_errorcircuits.reference import RateReference, backprop_deltas
from brian_errorcircuits.experiments import depth_scaling
from brian_errorcircuits.spec import DeadEndWarning, Projection
from brian_errorcircuits.tasks.teacher_student import make_teacher_student

SIZES = (6, 5, 4, 3)  # V1, V2, V4, TEO: skip projections V1 -> V4 and V2 -> TEO


def visual_spec(**fields):
    base = dict(mode="rate", eta=(3 * b2.Hz,) * len(SIZES), dt=0.1 * b2.ms, seed=2, target="numpy")
    base.update(fields)
    return CircuitSpec.from_table(load_table("macaque_visual_7areas"), SIZES, 4, **base)


def test_table_projections_follow_rows_as_sources():
    spec = visual_spec()
    up = {(p.source, p.target): p.density for p in spec.projections}
    down = {(p.source, p.target): p.density for p in spec.feedback_projections}
    assert spec.area_names == ("V1", "V2", "V4", "TEO")
    assert up == {(0, 1): 1.0, (1, 2): 1.0, (1, 3): 0.0316, (2, 3): 1.0, (2, 4): 0.316, (3, 4): 1.0}
    assert down == {(2, 1): 1.0, (3, 1): 0.316, (3, 2): 0.316, (4, 1): 0.1, (4, 2): 0.0316, (4, 3): 1.0}


def test_doubling_one_table_entry_changes_exactly_one_weight_block():
    table = load_table("macaque_visual_7areas")
    doubled = table.with_density("V2", "TEO", 2 * table.density("V2", "TEO"))
    original = ErrorCircuit(CircuitSpec.from_table(table, SIZES, 4, seed=1))
    changed = ErrorCircuit(CircuitSpec.from_table(doubled, SIZES, 4, seed=1))
    changed_blocks = [p for p, a, b in zip(original.spec.projections, original.weights, changed.weights)
                      if not np.array_equal(a, b)]
    assert [(p.source, p.target) for p in changed_blocks] == [(2, 4)]
    index = original.spec.projections.index(changed_blocks[0])
    np.testing.assert_array_equal(changed.weights[index], 2 * original.weights[index])


def test_strict_hierarchy_table_reproduces_layered_circuit_exactly():
    layers = (4, 6, 5, 3)
    layered = CircuitSpec(layers=layers, mode="rate", eta=(2 * b2.Hz,) * 3, seed=3, target="numpy")
    tabled = CircuitSpec.from_table(ProjectionTable.hierarchy(3), layers[1:], layers[0], mode="rate",
                                    eta=(2 * b2.Hz,) * 3, seed=3, target="numpy")
    assert tabled.projections == layered.projections
    runs = []
    for spec in (layered, tabled):
        circuit = ErrorCircuit(spec)
        rng = np.random.default_rng(0)
        x, y = rng.uniform(0, 1, (2, 4)), rng.uniform(-0.5, 0.5, (2, 3))
        runs.append(circuit.run(circuit.block(x, y, learning=True, duration=20 * b2.ms, settle=5 * b2.ms)))
    for a, b in zip(runs[0].weights_after, runs[1].weights_after):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(runs[0].err_avg[1:], runs[1].err_avg[1:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("feedback, lesioned", [("backprop", ()), ("feedback_alignment", ()),
                                                ("backprop", ((3, 1),)), ("feedback_alignment", ((3, 1),))])
def test_skip_connections_match_numpy_reference(feedback, lesioned):
    """With skip projections in both directions (and with the V4 -> V1 error route cut):
    relative error <= 1e-6 over 600 steps."""
    spec = visual_spec(feedback=feedback, lesioned_feedback=lesioned)
    circuit = ErrorCircuit(spec)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (3, 4)), rng.uniform(-0.5, 0.5, (3, 3))
    schedule = circuit.block(x, y, learning=True, duration=20 * b2.ms, settle=5 * b2.ms)
    reference = RateReference(spec, circuit.weights, circuit.feedback_weights)
    result = circuit.run(schedule, Recording(variables=("u_P", "u_E"), dt=spec.dt))
    expected = reference.run(schedule)
    for k in range(1, spec.n_areas + 1):
        for var in ("u_P", "u_E"):
            oracle = expected[var][k]
            assert np.max(np.abs(result.states[k][var].T - oracle)) <= 1e-6 * np.max(np.abs(oracle)), (k, var)
    for learned, oracle in zip(result.weights_after, reference.weights):
        assert np.max(np.abs(learned - oracle)) <= 1e-6 * np.max(np.abs(oracle))


def test_skip_connections_carry_backprop_errors():
    """Rate mode, backprop feedback through skip projections: hidden error neurons vs exact
    backprop on the same DAG.  cosine >= 0.99 per hidden area (the nudged operating point
    differs slightly from the free one, more so in lower areas)."""
    spec = visual_spec(eta=(0 * b2.Hz,) * len(SIZES), dt=0.25 * b2.ms)
    circuit = ErrorCircuit(spec)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (10, 4)), rng.uniform(-0.8, 0.8, (10, 3))
    result = circuit.run(circuit.block(x, y, duration=100 * b2.ms, settle=50 * b2.ms))
    deltas = backprop_deltas(spec, circuit.weights, x, y)
    for k in range(1, spec.n_areas):
        assert cosine(result.err_avg[k], deltas[k]) >= 0.99, k


def test_lesioning_every_error_route_into_an_area_silences_its_error_neurons():
    """V4's errors come only from TEO (route 4 -> 3); cut it and V4's error neurons fall
    silent, while V2 (which still hears V4 and TEO) keeps an error."""
    spec = visual_spec(eta=(0 * b2.Hz,) * len(SIZES), lesioned_feedback=((4, 3),))
    assert (4, 3) not in {route[:2] for route in spec.error_routes()}
    circuit = ErrorCircuit(spec)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (3, 4)), rng.uniform(-0.8, 0.8, (3, 3))
    result = circuit.run(circuit.block(x, y, duration=40 * b2.ms, settle=20 * b2.ms))
    assert np.abs(result.err_avg[3]).max() == 0
    assert np.abs(result.err_avg[2]).max() > 1e-3


def test_unknown_lesion_route_is_rejected():
    with pytest.raises(SpecError, match=r"lesioned_feedback: \(1, 3\) is not a top-down error route"):
        visual_spec(lesioned_feedback=((1, 3),)).validate()


@pytest.mark.parametrize("projections, message", [
    ((Projection(0, 1), Projection(2, 1)), "must point upward"),
    ((Projection(0, 1), Projection(1, 5)), "outside"),
    ((Projection(0, 1), Projection(1, 2, 0.0)), "density > 0"),
    ((Projection(0, 1), Projection(0, 1), Projection(1, 2)), "appears twice"),
    ((Projection(0, 2),), "'area1' receives no bottom-up projection"),
])
def test_bad_projections_are_rejected(projections, message):
    with pytest.raises(SpecError, match=message):
        CircuitSpec(layers=(3, 4, 2), projections=projections).validate()


def test_duplicate_area_names_are_rejected():
    with pytest.raises(SpecError, match="not unique"):
        CircuitSpec(layers=(3, 4, 2), area_names=("V1", "V1")).validate()


def test_weights_are_sampled_only_when_asked_and_follow_the_learned_matrices():
    spec = visual_spec()
    circuit = ErrorCircuit(spec)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1, (2, 4)), rng.uniform(-0.5, 0.5, (2, 3))
    schedule = circuit.block(x, y, learning=True, duration=20 * b2.ms, settle=5 * b2.ms)
    assert "weights" not in circuit.run(schedule).states
    before = [W.copy() for W in circuit.weights]
    result = circuit.run(schedule, Recording(weights=True, dt=5 * b2.ms))
    assert len(result.states["t"]) == 8
    for samples, W0, W1 in zip(result.states["weights"], before, result.weights_after):
        assert samples.shape == (8, *W0.shape)
        np.testing.assert_array_equal(samples[0], W0)
        assert np.abs(samples[-1] - W1).max() < np.abs(samples[0] - W1).max()


def test_weight_updates_with_skip_projections_follow_backprop_through_training():
    """The depth-scaling circuit at 3 areas (8-4-2-1, table skips), rate mode, first epoch of
    training: every projection's weight change per presentation within 10 degrees of backprop's
    update (median over presentations; measured at most 6.9; random feedback: 132 and 135 for the two
    lowest projections)."""
    params = dict(depth_scaling.DEFAULTS, rate_target="numpy")
    spec = depth_scaling.make_spec(params, 3, "rate", seed=0)
    data = make_teacher_student(spec.layers, n_train=8, n_test=4, seed=0,
                                projections=[(p.source, p.target, p.density) for p in spec.projections])
    training = ErrorCircuit(spec).train(data.x_train, data.y_train, data.x_test, data.y_test, epochs=1,
                                        duration=50 * b2.ms, settle=12.5 * b2.ms, report=False,
                                        recording=Recording(weights=True, dt=50 * b2.ms))
    angles = training_angles(training.run)["train-1"]
    assert angles.shape == (8, len(spec.projections))
    assert max(angle_medians(angles)) < 10, angle_medians(angles)


def test_dead_end_areas_are_named_in_a_warning():
    """An area with no bottom-up path to the output never hears an error: the spec says so by name
    (TEpd in the shipped 7-area table), and a strict hierarchy raises no warning."""
    spec = CircuitSpec.from_table(load_table("macaque_visual_7areas"), (4, 4, 3, 3, 3, 2, 2), 4)
    assert spec.dead_end_areas() == ("TEpd",)
    with pytest.warns(DeadEndWarning, match=r"'TEpd' send nothing toward the output area 'DP'"):
        spec.validate()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CircuitSpec(layers=(3, 4, 4, 2)).validate()
