"""Sparse wiring of neuron-level circuits: mask statistics, seeding, fan-in normalisation, checks."""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit
from brian_errorcircuits.arrays import CircuitArrays
from brian_errorcircuits.connectivity import connection_probability, draw_wiring
from brian_errorcircuits.populations import neuron_level
from brian_errorcircuits.spec import Projection, SpecError

#: a skip projection 1 -> 3 and two sparse projections; 4 -> 6 -> 5 -> 3 units
UNITS = CircuitSpec(layers=(4, 6, 5, 3), mode="rate", eta=4 * b2.Hz, seed=5,
                    projections=(Projection(0, 1), Projection(1, 2, 0.3), Projection(2, 3), Projection(1, 3, 0.1)))


def test_density_sets_the_connection_probability_of_every_pair():
    """Realised density of each projection within 4 binomial standard deviations of its density;
    dense (None) where the density is 1; each pair an independent draw, so the in-degrees spread."""
    m = 20
    spec, arrays = neuron_level(UNITS, m, connectivity="density")
    for p, mask in zip(UNITS.projections, arrays.connectivity):
        if p.density == 1:
            assert mask is None
            continue
        pairs = mask.size
        assert abs(mask.mean() - p.density) <= 4 * np.sqrt(p.density * (1 - p.density) / pairs), (p, mask.mean())
        assert np.ptp(mask.sum(axis=1)) > 0, "Bernoulli wiring: in-degrees differ between neurons"
    assert arrays.synapse_counts() == [W.size if mask is None else int(mask.sum())
                                       for W, mask in zip(arrays.weights, arrays.connectivity)]


def test_fixed_in_degree_gives_every_neuron_exactly_its_partners():
    """('in_degree', K): every neuron of the target draws exactly round(K x density) (>= 1) distinct
    partners from the source area: K = 12 -> 12 on density-1 projections, 4 at 0.3, 1 at 0.1."""
    spec, arrays = neuron_level(UNITS, 10, connectivity=("in_degree", 12))
    expected = {1.0: 12, 0.3: 4, 0.1: 1}
    for p, mask in zip(UNITS.projections, arrays.connectivity):
        assert np.all(mask.sum(axis=1) == expected[p.density]), p
        source_neurons = mask.shape[1]
        assert connection_probability(("in_degree", 12), p, source_neurons) == expected[p.density] / source_neurons
    # every source neuron is chosen by someone: partners are spread over the whole area, not the first K
    assert np.all(arrays.connectivity[0].any(axis=0))


def test_wiring_follows_its_seed_on_a_stream_of_its_own():
    """Same seed: identical masks; another seed: other masks; switching sparsity on changes no
    other value: every synapse of the sparse circuit is the dense circuit's weight times 1/q (to
    rounding: W / (m q) against (W / m) / q), laterals and per-neuron values are equal."""
    _, first = neuron_level(UNITS, 6, connectivity="density")
    _, again = neuron_level(UNITS, 6, connectivity="density")
    _, other = neuron_level(UNITS.replace(seed=6), 6, connectivity="density")
    _, dense = neuron_level(UNITS, 6)
    for a, b, c in zip(first.connectivity, again.connectivity, other.connectivity):
        if a is not None:
            assert np.array_equal(a, b) and not np.array_equal(a, c)
    for p, W_sparse, W_dense, mask in zip(UNITS.projections, first.weights, dense.weights, first.connectivity):
        q = 1.0 if mask is None else p.density
        np.testing.assert_allclose(W_sparse, W_dense / q * (True if mask is None else mask), rtol=1e-14, atol=0)
    for k in range(1, UNITS.n_areas + 1):
        np.testing.assert_array_equal(first.lateral[k]["WIP"], dense.lateral[k]["WIP"])
        np.testing.assert_array_equal(first.neurons[k]["P"]["slope_P"], dense.neurons[k]["P"]["slope_P"])


def test_fan_in_normalisation_keeps_the_unit_level_mean_field():
    """W_uv / (m q) per synapse: the summed input of a unit's neurons, averaged over them, equals the
    unit-level input W r within 4 standard deviations of the binomial synapse count (m = 40; a
    normalisation by m alone would miss by the factor q = 0.3 or 0.1: 18 and 12 sd).  Learning rates
    are eta / (m q), so the m q synapses' summed change is the unit-level change."""
    m = 40
    units = CircuitArrays.draw(UNITS)
    spec, arrays = neuron_level(UNITS, m, units, connectivity="density")
    rates = np.random.default_rng(0).uniform(0.2, 1.0, size=max(UNITS.layers))
    for p, W_units, W, mask in zip(UNITS.projections, units.weights, arrays.weights, arrays.connectivity):
        r = rates[:UNITS.layers[p.source]]
        summed = (W @ np.repeat(r, m)).reshape(-1, m).mean(axis=1)  # per target unit
        q = p.density
        sd = np.sqrt((W_units ** 2) @ (r ** 2) * (1 - q) / (m * m * q))
        assert np.all(np.abs(summed - W_units @ r) <= 4 * sd + 1e-12), (p, summed, W_units @ r)
        eta = float(spec.projection_eta(spec.projections[UNITS.projections.index(p)]))
        assert eta == pytest.approx(4.0 / (m * q), rel=1e-12)
        assert mask is None or q < 1


@pytest.mark.parametrize("connectivity, message", [
    ("sparse", "choose 'dense', 'density'"),
    (("in_degree", 0), "K a whole number"),
    (("in_degree", 25), "needs 25 distinct partners"),  # the input has 4 units x 6 neurons
])
def test_bad_wiring_is_refused_before_anything_compiles(connectivity, message):
    with pytest.raises(SpecError, match=message):
        neuron_level(UNITS, 6, connectivity=connectivity)


def test_density_above_one_is_no_probability_and_eta_scale_is_checked():
    with pytest.raises(SpecError, match="no connection probability"):
        draw_wiring("density", Projection(0, 1, 2.0), (4, 4), np.random.default_rng(0))
    with pytest.raises(SpecError, match="eta_scale"):
        CircuitSpec(layers=(2, 2), projections=(Projection(0, 1, eta_scale=-1.0),)).validate()


def test_given_masks_are_checked_for_shape_and_for_absent_synapses():
    spec = CircuitSpec(layers=(3, 4, 2), seed=1)
    mask = np.eye(4, 3, dtype=bool)
    with pytest.raises(SpecError, match="boolean matrix of shape"):
        CircuitArrays.draw(spec, connectivity=[mask.T, None])
    with pytest.raises(SpecError, match="boolean matrix"):
        CircuitArrays.draw(spec, connectivity=[mask.astype(float), None])
    with pytest.raises(SpecError, match="nonzero where its connectivity mask has no synapse"):
        CircuitArrays.draw(spec, weights=[np.ones((4, 3)), np.ones((2, 4))], connectivity=[mask, None])
    drawn = CircuitArrays.draw(spec, connectivity=[mask, None])
    dense = CircuitArrays.draw(spec)
    np.testing.assert_array_equal(drawn.weights[0], np.where(mask, dense.weights[0], 0))
    with pytest.raises(SpecError, match="without connectivity masks"):
        neuron_level(spec, 2, drawn)
    assert ErrorCircuit(spec, connectivity=[mask, None]).arrays.synapse_counts() == [3, 8]
