"""Rates from spikes, PSTHs and Neo export, on a short spiking run and on synthetic spikes."""
import dataclasses

import brian2 as b2
import numpy as np
import pytest

from brian_errorcircuits import CircuitSpec, ErrorCircuit, NeuronParams, Recording, Schedule, SpecError
from brian_errorcircuits.analysis import decoded_rates, population_rate, psth, schedule_segments, to_neo


#: The fixture's run records spikes of its second segment only, half of the run.
RECORDING = Recording(spikes=True, spike_segments=("second",))


@pytest.fixture(scope="module")
def spiking_run():
    """A 3-4-2 spiking circuit, 2 + 2 presentations of 100 ms with targets (numpy target, no compile),
    spikes recorded in the second segment (0.2-0.4 s); 30 neurons per input unit, 10 per
    representation unit and error sign."""
    spec = CircuitSpec(layers=(3, 4, 2), mode="sampled", seed=5, target="numpy",
                       neuron=NeuronParams(n_rep=10, n_err=10, n_input=30))
    circuit = ErrorCircuit(spec)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (4, 3)), rng.uniform(-0.8, 0.8, (4, 2))
    timing = dict(duration=100 * b2.ms, settle=20 * b2.ms)
    schedule = circuit.block(x[:2], y[:2], label="first", **timing) + circuit.block(x[2:], y[2:], label="second",
                                                                                     **timing)
    return circuit.run(schedule, RECORDING)


@pytest.fixture(scope="module")
def block(spiking_run):
    return to_neo(spiking_run, RECORDING)


def test_input_population_has_its_own_size(spiking_run):
    assert {key: entry["per_unit"] for key, entry in spiking_run.spikes.items()} == {
        (0, "P"): 30, (1, "P"): 10, (2, "P"): 10, (1, "E"): 20, (2, "E"): 20}


def test_spikes_are_recorded_in_the_chosen_segment_only(spiking_run):
    times = np.concatenate([entry["t"] for entry in spiking_run.spikes.values()])
    assert len(times) > 1000 and times.min() >= 0.2 and times.max() < 0.4


def test_spike_areas_limits_recording_and_neo_ids_stay_those_of_the_whole_circuit():
    """Only area 2 recorded; its cells keep their circuit-wide ids: 15 input, 20 + 40 area-1 cells come
    first (5 generators per neuron, 2 signs per error neuron), so area 2's start at 75."""
    spec = CircuitSpec(layers=(3, 4, 2), mode="sampled", seed=5, target="numpy", neuron=NeuronParams(n_rep=5, n_err=5))
    circuit = ErrorCircuit(spec)
    recording = Recording(spikes=True, spike_areas=(2,))
    run = circuit.run(circuit.block(np.full((1, 3), 0.5), duration=20 * b2.ms, settle=5 * b2.ms), recording)
    assert set(run.spikes) == {(2, "P"), (2, "E")}
    assert len(run.spikes[(2, "P")]["t"]) > 0
    (segment,) = to_neo(run, recording).segments
    ids = {population: [train.annotations["neuron_id"] for train in segment.spiketrains
                        if train.annotations["population"] == population]
           for population in ("representation", "error")}
    assert ids == {"representation": list(range(75, 85)), "error": list(range(85, 105))}
    with pytest.raises(SpecError, match=r"^spike_areas: 3 is not an area of this circuit \(areas are 0\.\.2"):
        circuit.run(circuit.block(np.full((1, 3), 0.5), duration=20 * b2.ms, settle=5 * b2.ms),
                    Recording(spikes=True, spike_areas=(2, 3)))


def test_neo_block_has_one_segment_per_recorded_segment_with_its_presentations(spiking_run, block):
    (segment,) = block.segments
    assert segment.name == "second"
    schedule = spiking_run.schedule
    for train in segment.spiketrains:
        assert (float(train.t_start.rescale("s")), float(train.t_stop.rescale("s"))) == pytest.approx((0.2, 0.4),
                                                                                                        abs=1e-12)
    (epoch,) = segment.epochs
    np.testing.assert_allclose(epoch.times.rescale("s").magnitude, [0.2, 0.3], atol=1e-12)
    np.testing.assert_allclose(epoch.durations.rescale("s").magnitude, [0.1, 0.1], atol=1e-12)
    assert list(epoch.labels) == ["second", "second"]
    shown = epoch.array_annotations
    np.testing.assert_array_equal(shown["presentation"], [2, 3])
    for u in range(3):
        np.testing.assert_array_equal(shown[f"input_{u}"], schedule.inputs[2:, u])
    for u in range(2):
        np.testing.assert_array_equal(shown[f"target_{u}"], schedule.targets[2:, u])
    np.testing.assert_array_equal(shown["target_on"], [True, True])
    np.testing.assert_array_equal(shown["learning"], [0.0, 0.0])


def test_neo_export_round_trips_spike_times(spiking_run, block):
    (segment,) = block.segments
    names = {0: "input", 1: "area1", 2: "area2"}
    groups = {(group.annotations["area"], group.annotations["population"]): group for group in block.groups}
    assert len(groups) == len(spiking_run.spikes)
    for (k, pop), entry in spiking_run.spikes.items():
        population = "input" if k == 0 else ("error" if pop == "E" else "representation")
        trains = groups[(names[k], population)].spiketrains
        assert [train.annotations["neuron"] for train in trains] == list(range(entry["n_neurons"]))
        for train in trains:
            n = train.annotations["neuron"]
            np.testing.assert_array_equal(train.rescale("s").magnitude, np.sort(entry["t"][entry["i"] == n]))
            assert train.annotations["unit"] == n // entry["per_unit"]
            if pop == "E":
                assert train.annotations["sign"] == entry["neuron_sign"][n]
        assert sum(len(train) for train in trains) == len(entry["t"])
    ids = sorted(train.annotations["neuron_id"] for train in segment.spiketrains)
    assert ids == list(range(sum(entry["n_neurons"] for entry in spiking_run.spikes.values())))


def test_elephant_mean_rates_equal_the_decoded_rates_of_the_recorded_segment(spiking_run, block):
    """Elephant's mean firing rate, averaged over a population's trains, is the population's spike
    count / (neurons x 0.2 s), as decoded_rates gives it; for error populations (+) minus (-) cells
    give the signed decoded rate.  Equal to rounding (rtol 1e-12).  Trains that spanned the whole
    0.4 s run (the export before Neo blocks) gave half of it."""
    mean_firing_rate = pytest.importorskip("elephant.statistics").mean_firing_rate
    groups = {(group.annotations["area"], group.annotations["population"]): group for group in block.groups}
    names = {0: "input", 1: "area1", 2: "area2"}
    for (k, pop), entry in spiking_run.spikes.items():
        population = "input" if k == 0 else ("error" if pop == "E" else "representation")
        trains = groups[(names[k], population)].spiketrains
        rates = np.array([float(mean_firing_rate(train).rescale("Hz")) for train in trains])
        units = entry["n_neurons"] // entry["per_unit"]
        decoded = decoded_rates(entry, units, [0.2, 0.4]).mean()
        if pop == "E":
            signs = np.array([train.annotations["sign"] for train in trains])
            assert rates[signs > 0].mean() - rates[signs < 0].mean() == pytest.approx(decoded, rel=1e-12)
        else:
            assert decoded > 5.0, "the check needs spikes"
            assert rates.mean() == pytest.approx(decoded, rel=1e-12)


def test_to_neo_needs_spikes(spiking_run):
    with pytest.raises(SpecError, match="needs spikes"):
        to_neo(dataclasses.replace(spiking_run, spikes={}), RECORDING)


def test_a_recurring_label_makes_two_segments():
    x = np.zeros((1, 2))
    schedule = (Schedule.block(x, label="a", n_outputs=1) + Schedule.block(np.zeros((2, 2)), label="b", n_outputs=1)
                + Schedule.block(x, label="a", n_outputs=1))
    assert schedule_segments(schedule) == [("a", 0, 1), ("b", 1, 3), ("a", 3, 4)]


def test_decoded_error_rates_follow_presentation_averages(spiking_run):
    """Signed spike-count rates of the output error neurons / rate_err ~ the decoded error trace.

    Both read the same spikes (one as counts, one through the 10 ms filter), so
    they agree up to the filter's spill-over across windows: within 0.1.
    """
    starts = np.array([0.2, 0.3])  # the recorded presentations
    edges = np.sort(np.concatenate([starts + 0.02, starts + 0.1]))
    rates = decoded_rates(spiking_run.spikes[(2, "E")], 2, edges)[::2]  # [start+settle, end) windows
    decoded = spiking_run.err_avg[2][2:]
    rate_err = float(spiking_run.spec.neuron.rate_err)
    np.testing.assert_allclose(rates / rate_err, decoded, atol=0.1)


def test_population_rate_and_psth_on_known_spikes():
    times = np.array([0.015, 0.025, 0.115, 0.125, 0.215, 0.225])  # 15 and 25 ms after each of three onsets
    centres, rates = population_rate(times, n_neurons=2, t_start=0.0, t_stop=0.3, bin_width=0.1)
    np.testing.assert_allclose(rates, [10.0, 10.0, 10.0])  # 2 spikes / (2 neurons * 0.1 s)
    centres, rates = psth(times, onsets=[0.0, 0.1, 0.2], window=(0.0, 0.04), bin_width=0.01, n_neurons=1)
    np.testing.assert_allclose(rates, [0.0, 100.0, 100.0, 0.0])
