"""The measures the nomenclature divides goods by (``clearance.domain.hs.quantities``): a tariff
text's bounds, a description's quantities, and how they change a classification."""

from __future__ import annotations

import msgspec

from clearance.domain.hs import bundled_classifier
from clearance.domain.hs.facets import facets_of
from clearance.domain.hs.quantities import Bound, bounds_of, fit, quantities_of
from clearance.domain.hs.text import query_terms


def test_a_tariff_text_bounds_a_measure() -> None:
    engines = "Engines; of a cylinder capacity exceeding 50cc but not exceeding 250cc"
    assert bounds_of(engines) == (Bound("cylinder", 50.0, 250.0),)
    cars = "Vehicles; spark-ignition engine, cylinder capacity over 1000 but not over 1500cc"
    assert bounds_of(cars) == (Bound("cylinder", 1000.0, 1500.0),)
    vacuum = (
        "Vacuum cleaners, of a power not exceeding 1,500 W and having a dust bag or other "
        "receptacle capacity not exceeding 20L"
    )
    assert bounds_of(vacuum) == (Bound("power", None, 1500.0), Bound("volume", None, 20.0))
    glues = "Glues; put up for retail sale as glues or adhesives, not exceeding a net weight of 1kg"
    assert bounds_of(glues) == (Bound("weight", None, 1.0),)
    drones = "Unmanned aircraft; of a take-off weight of more than 250g but not more than 7kg"
    assert bounds_of(drones) == (Bound("weight", 0.25, 7.0),)
    assert bounds_of("Transformers; exceeding 1kVA but not exceeding 16kVA") == (
        Bound("apparent_power", 1000.0, 16000.0),
    )


def test_lengths_and_rates_bound_nothing() -> None:
    # a thickness, a width or a diameter: the text must say which, so millimetres are not read
    assert bounds_of("Plates; of a thickness not exceeding 0.2mm") == ()
    assert bounds_of("Fabrics; weighing not more than 200 g/m2") == ()


def test_a_description_gives_its_measures_in_base_units() -> None:
    assert quantities_of("a 1,500 cc gasoline engine") == {("cylinder", 1500.0)}
    assert quantities_of("DC motor 1.5kW, 12V") == {("power", 1500.0), ("voltage", 12.0)}
    assert quantities_of("Công suất tối đa 18 KW, bình 0,5 lít") == {
        ("power", 18000.0),
        ("volume", 0.5),
    }
    assert quantities_of("LED strip 4.8W/m") == frozenset()  # a rate, not the goods' power
    assert quantities_of("size L, 3 pieces") == frozenset()


def test_a_measure_fits_its_bound_or_not() -> None:
    bounds = bounds_of("Engines; of a cylinder capacity exceeding 250cc but not exceeding 1000cc")
    assert fit(quantities_of("650cc"), bounds) == 1
    assert fit(quantities_of("1,500 cc"), bounds) == -1
    assert fit(quantities_of("250cc"), bounds) == -1  # "exceeding 250cc" leaves 250 out
    assert fit(quantities_of("12V"), bounds) == 0  # another measure: nothing said
    assert fit(quantities_of("650cc and 50cc"), bounds) == 1  # one value in range is enough


def _top(text: str, quantity_fit: float | None = None) -> str:
    classifier = bundled_classifier()
    params = classifier.model.params
    if quantity_fit is not None:
        params = msgspec.structs.replace(params, quantity_fit=quantity_fit)
    ranked = classifier.rank(
        query_terms(text),
        1,
        params=params,
        facets=facets_of(text).said,
        quantities=quantities_of(text),
    )
    return ranked[0][0]


def test_a_measure_out_of_range_takes_the_goods_to_the_subheading_it_fits() -> None:
    assert bundled_classifier().model.params.quantity_fit > 0
    # 85.01: "DC, of an output exceeding 750W but not exceeding 75kW"
    assert _top("DC motor 1.5kW") == "850132"
    assert _top("DC motor 1.5kW", quantity_fit=0.0) != "850132"
    # 87.11: "of a cylinder capacity not exceeding 50cc"
    assert _top("scooter 49cc") == "871110"
    assert _top("scooter 49cc", quantity_fit=0.0) != "871110"


def test_suggest_reads_the_measures_and_caches_by_them() -> None:
    classifier = bundled_classifier()
    small = classifier.suggest("scooter 49cc")[0].hs_code
    large = classifier.suggest("scooter 650cc")[0].hs_code
    assert small == "871110"
    assert large != small
