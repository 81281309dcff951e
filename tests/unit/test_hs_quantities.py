"""The measures the nomenclature divides goods by (``clearance.domain.hs.quantities``): a tariff
text's bounds, a description's measures, and how they change a classification."""

from __future__ import annotations

import msgspec

from clearance.domain.hs import bundled_classifier
from clearance.domain.hs.facets import facets_of
from clearance.domain.hs.quantities import Bound, bounds_of, measures_of, out_of_range
from clearance.domain.hs.text import query_terms


def test_a_tariff_text_bounds_a_measure() -> None:
    engines = "Engines; of a cylinder capacity exceeding 50cc but not exceeding 250cc"
    assert bounds_of(engines) == (Bound("volume", low=0.05, high=0.25),)
    cars = "Vehicles; spark-ignition engine, cylinder capacity over 1000 but not over 1500cc"
    assert bounds_of(cars) == (Bound("volume", low=1.0, high=1.5),)
    vacuum = (
        "Vacuum cleaners, of a power not exceeding 1,500 W and having a dust bag or other "
        "receptacle capacity not exceeding 20L"
    )
    assert bounds_of(vacuum) == (Bound("power", high=1500.0), Bound("volume", high=20.0))
    glues = "Glues; put up for retail sale as glues or adhesives, not exceeding a net weight of 1kg"
    assert bounds_of(glues) == (Bound("weight", high=1.0),)
    drones = "Unmanned aircraft; of a take-off weight of more than 250g but not more than 7kg"
    assert bounds_of(drones) == (Bound("weight", low=0.25, high=7.0),)
    assert bounds_of("Transformers; exceeding 1kVA but not exceeding 16kVA") == (
        Bound("apparent_power", low=1000.0, high=16000.0),
    )


def test_a_bound_includes_its_limit_or_not_as_the_text_says() -> None:
    drums = bounds_of("Tanks, casks, drums; 50l or more capacity but not exceeding 300l")
    assert drums == (Bound("volume", low=50.0, high=300.0, low_included=True),)
    cans = bounds_of("Cans; less than 50l capacity")
    assert cans == (Bound("volume", high=50.0, high_included=False),)
    assert out_of_range(measures_of("a 50l drum"), cans)
    assert not out_of_range(measures_of("a 50l drum"), drums)
    pigs = bounds_of("Swine; live, weighing 50kg or more")
    assert pigs == (Bound("weight", low=50.0, low_included=True),)


def test_lengths_rates_capacities_and_contents_bound_nothing() -> None:
    # a thickness, a width or a diameter: the text must say which, so millimetres are not read
    assert bounds_of("Plates; of a thickness not exceeding 0.2mm") == ()
    assert bounds_of("Fabrics; weighing not more than 200 g/m2") == ()
    newsprint = "Newsprint; of a weight, per m2, of more than 57g but not more than 65g"
    assert bounds_of(newsprint) == ()
    # a description's weight is the goods', not a washing machine's linen or a packing's tea
    assert bounds_of("Washing machines; of a dry linen capacity not exceeding 10kg") == ()
    assert bounds_of("Tea, green; in immediate packings of a content not exceeding 3kg") == ()


def test_a_description_gives_its_measures_in_base_units() -> None:
    assert measures_of("a 1,500 cc gasoline engine") == {("volume", 1.5)}
    assert measures_of("DC motor 1.5kW, 12V") == {("power", 1500.0), ("voltage", 12.0)}
    assert measures_of("Công suất tối đa 18 KW, bình 0,5 lít") == {
        ("power", 18000.0),
        ("volume", 0.5),
    }
    assert measures_of("220V/50Hz 60W") == {("voltage", 220.0), ("power", 60.0)}
    assert measures_of("LED strip 4.8W/m, 4.8 W / m") == frozenset()  # a rate
    assert measures_of("size L, 3 pieces") == frozenset()
    assert measures_of("drone 2.4G, 5G") == frozenset()  # a radio band, no gram


def test_numbers_as_english_and_vietnamese_write_them() -> None:
    assert measures_of("Trọng lượng 1.234,5 kg") == {("weight", 1234.5)}
    assert measures_of("máy phát điện 2.500.000 VA") == {("apparent_power", 2_500_000.0)}
    assert measures_of("generator 0,750 kVA") == {("apparent_power", 750.0)}
    # "1.500" is a thousand and a half in Vietnamese, one and a half in English: both readings
    assert measures_of("động cơ xe máy 1.500 cc") == {("volume", 1.5), ("volume", 0.0015)}
    assert measures_of("1.2.3 kg") == frozenset()  # no number: nothing, and no error


def test_a_measure_is_out_of_range_or_not() -> None:
    bounds = bounds_of("Engines; of a cylinder capacity exceeding 250cc but not exceeding 1000cc")
    assert not out_of_range(measures_of("650cc"), bounds)
    assert out_of_range(measures_of("1,500 cc"), bounds)
    assert out_of_range(measures_of("250cc"), bounds)  # "exceeding 250cc" leaves 250 out
    assert not out_of_range(measures_of("12V"), bounds)  # another measure: nothing said
    assert not out_of_range(measures_of("650cc and 50cc"), bounds)  # one value in range
    assert not out_of_range(measures_of("1.5L engine"), bounds_of("exceeding 1000cc"))
    # a number read two ways is out of range only when both readings are
    assert not out_of_range(measures_of("1.500 cc"), bounds_of("not exceeding 50cc"))


def _top(text: str, out_of_range_weight: float | None = None) -> str:
    classifier = bundled_classifier()
    params = classifier.model.params
    if out_of_range_weight is not None:
        params = msgspec.structs.replace(params, out_of_range=out_of_range_weight)
    ranked = classifier.rank(
        query_terms(text), 1, params=params, facets=facets_of(text).said, measures=measures_of(text)
    )
    return ranked[0][0]


def test_a_measure_out_of_range_takes_the_goods_to_the_subheading_it_fits() -> None:
    assert bundled_classifier().model.params.out_of_range > 0
    # 85.01: "DC, of an output exceeding 750W but not exceeding 75kW"
    assert _top("DC motor 1.5kW") == "850132"
    assert _top("DC motor 1.5kW", out_of_range_weight=0.0) != "850132"
    # 87.11: "of a cylinder capacity not exceeding 50cc"
    assert _top("scooter 49cc") == "871110"
    assert _top("scooter 49cc", out_of_range_weight=0.0) != "871110"


def test_suggest_reads_the_measures_and_caches_by_them() -> None:
    classifier = bundled_classifier()
    # the same terms ("scooter", "cc"): only the measures tell the two apart
    assert query_terms("scooter 49 cc") == query_terms("scooter 650 cc")
    small = classifier.suggest("scooter 49 cc")[0].hs_code
    large = classifier.suggest("scooter 650 cc")[0].hs_code
    assert small == "871110"
    assert large != small
    # a description the measures cannot read is classified, not an error
    assert classifier.suggest("Trọng lượng 1.2.3 kg, 1.234,5 kg")
