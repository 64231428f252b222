"""Rates from spikes, PSTHs and Neo export, on a short spiking run and on synthetic spikes."""
import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, Recording, SpecError
from brian_errorcircuits.analysis import decoded_rates, population_rate, psth, to_neo


@pytest.fixture(scope="module")
def spiking_run():
    """A 3-4-2 spiking circuit, 4 presentations of 100 ms with targets (numpy target, no compile);
    30 neurons per input unit, 10 per representation unit and error sign."""
    spec = CircuitSpec(layers=(3, 4, 2), mode="sampled", seed=5, target="numpy",
                       neuron=NeuronParams(n_rep=10, n_err=10, n_input=30))
    circuit = ErrorCircuit(spec)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (4, 3)), rng.uniform(-0.8, 0.8, (4, 2))
    return circuit.run(circuit.block(x, y, duration=100 * b2.ms, settle=20 * b2.ms), Recording(spikes=True))


def test_input_population_has_its_own_size(spiking_run):
    assert {key: entry["per_unit"] for key, entry in spiking_run.spikes.items()} == {
        (0, "P"): 30, (1, "P"): 10, (2, "P"): 10, (1, "E"): 20, (2, "E"): 20}


def test_spike_areas_limits_recording_to_the_chosen_areas():
    spec = CircuitSpec(layers=(3, 4, 2), mode="sampled", seed=5, target="numpy", neuron=NeuronParams(n_rep=5, n_err=5))
    circuit = ErrorCircuit(spec)
    run = circuit.run(circuit.block(np.full((1, 3), 0.5), duration=20 * b2.ms, settle=5 * b2.ms),
                      Recording(spikes=True, spike_areas=(2,)))
    assert set(run.spikes) == {(2, "P"), (2, "E")}
    assert len(run.spikes[(2, "P")]["t"]) > 0
    with pytest.raises(SpecError, match=r"^spike_areas: 3 is not an area of this circuit \(areas are 0\.\.2"):
        circuit.run(circuit.block(np.full((1, 3), 0.5), duration=20 * b2.ms, settle=5 * b2.ms),
                    Recording(spikes=True, spike_areas=(2, 3)))


def test_neo_export_round_trips_spike_times(spiking_run):
    trains = to_neo(spiking_run)
    sizes = {key: entry["n_neurons"] for key, entry in spiking_run.spikes.items()}
    assert len(trains) == sum(sizes.values())
    by_area = {}
    for train in trains:
        by_area.setdefault((train.annotations["area"], train.annotations["population"]), []).append(train)
    names = {0: "input", 1: "area1", 2: "area2"}
    for (k, pop), entry in spiking_run.spikes.items():
        population = "input" if k == 0 else ("error" if pop == "E" else "representation")
        group = by_area[(names[k], population)]
        for train in group:
            n = train.annotations["neuron"]
            expected = np.sort(entry["t"][entry["i"] == n])
            np.testing.assert_array_equal(train.rescale("s").magnitude, expected)
            assert train.annotations["unit"] == n // (entry["n_neurons"] // spiking_run.spec.layers[k])
            if pop == "E":
                index = np.flatnonzero(entry["i"] == n)
                if len(index):
                    assert train.annotations["sign"] == entry["sign"][index[0]]
        assert sum(len(t) for t in group) == len(entry["t"])


def test_decoded_error_rates_follow_presentation_averages(spiking_run):
    """Signed spike-count rates of the output error neurons / rate_err ~ the decoded error trace.

    Both read the same spikes (one as counts, one through the 10 ms filter), so
    they agree up to the filter's spill-over across windows: within 0.1.
    """
    starts = np.arange(4) * 0.1
    edges = np.sort(np.concatenate([starts + 0.02, starts + 0.1]))
    rates = decoded_rates(spiking_run.spikes[(2, "E")], 2, edges)[::2]  # [start+settle, end) windows
    decoded = spiking_run.err_avg[2]
    rate_err = float(spiking_run.spec.neuron.rate_err)
    np.testing.assert_allclose(rates / rate_err, decoded, atol=0.1)


def test_population_rate_and_psth_on_known_spikes():
    times = np.array([0.015, 0.025, 0.115, 0.125, 0.215, 0.225])  # 15 and 25 ms after each of three onsets
    centres, rates = population_rate(times, n_neurons=2, t_start=0.0, t_stop=0.3, bin_width=0.1)
    np.testing.assert_allclose(rates, [10.0, 10.0, 10.0])  # 2 spikes / (2 neurons * 0.1 s)
    centres, rates = psth(times, onsets=[0.0, 0.1, 0.2], window=(0.0, 0.04), bin_width=0.01, n_neurons=1)
    np.testing.assert_allclose(rates, [0.0, 100.0, 100.0, 0.0])
