"""What a text says the goods are made of, for whom, how and whether powered (``facets_of``),
and how a tariff text's facets agree with a description's (``agreement``)."""

from __future__ import annotations

import msgspec

from clearance.domain.hs import bundled_classifier
from clearance.domain.hs.facets import Facets, agreement, chief_fibre, facets_of, lineage
from clearance.domain.hs.model import chapter_terms
from clearance.domain.hs.text import query_terms


def test_english_listing_material_gender_and_construction() -> None:
    found = facets_of("Men's T-shirt, 100% cotton, knitted | Material: Cotton")
    assert found.said == {"men", "cotton", "knitted"}
    assert found.denied == frozenset()


def test_vietnamese_reads_the_same_with_and_without_diacritics() -> None:
    with_marks = facets_of("Áo thun nam vải bông dệt kim, khung bằng thép")
    without = facets_of("Ao thun nam vai bong det kim, khung bang thep")
    assert with_marks.said == without.said == {"men", "cotton", "knitted", "iron_steel"}


def test_vietnamese_single_syllables_that_fold_into_other_words_need_their_diacritics() -> None:
    # "giấy" is paper, "giày" shoes; typed without marks, "giay" could be either
    assert facets_of("hộp giấy").said == {"paper"}
    assert facets_of("hop giay").said == frozenset()
    assert facets_of("giày thể thao").said == frozenset()


def test_the_nomenclature_negations() -> None:
    assert facets_of("Shirts; men's or boys', of cotton (not knitted or crocheted)") == Facets(
        frozenset({"men", "cotton", "woven"}), frozenset({"knitted"})
    )
    assert facets_of("of textile materials (other than cotton)") == Facets(
        frozenset({"textile"}), frozenset({"cotton"})
    )
    assert facets_of("Hats, whether or not knitted or crocheted").said == frozenset()
    assert facets_of("Lamps; non-electric").said == {"non_electric"}
    assert facets_of("Quạt không dùng điện").said == {"non_electric"}


def test_a_bracket_that_excludes_excludes_every_item_of_its_list() -> None:
    # the residual line of 61.03.3 excludes three materials, past the comma inside its bracket
    residual = facets_of(
        "Jackets and blazers; men's or boys', of textile materials (other than wool or fine "
        "animal hair, cotton or synthetic fibres), knitted or crocheted"
    )
    assert residual.said == {"men", "textile", "knitted"}
    assert residual.denied == {"wool", "cotton", "synthetic"}
    assert facets_of("(other than impregnated, coated or covered with plastics or rubber)") == (
        Facets(frozenset(), frozenset({"plastics", "rubber"}))
    )
    assert facets_of("(not printed, knitted or crocheted) of cotton") == Facets(
        frozenset({"cotton", "woven"}), frozenset({"knitted"})
    )
    # so the bundled model's residual lines deny what they exclude
    model = bundled_classifier().model
    assert {"-cotton", "-synthetic", "-wool"} <= set(model.subheading_facets["610339"])
    assert "cotton" not in model.subheading_facets["610339"]


def test_an_excluded_kind_of_a_material_or_wearer_is_not_excluded_whole() -> None:
    # an item stands alone between list words; a word before or after narrows it to a kind
    assert facets_of("Styrene polymers; (other than expansible polystyrene)") == Facets(
        frozenset({"plastics"}), frozenset()
    )
    assert facets_of("Copper; wire, of copper alloys (other than copper-zinc base alloys)") == (
        Facets(frozenset({"copper", "base_metal"}), frozenset())
    )
    socks = "Hosiery; of wool (excluding panty hose, tights, women's full or knee-length hosiery)"
    assert facets_of(socks) == Facets(frozenset({"wool"}), frozenset())
    # what the plain reading denies in the bracket still holds
    assert facets_of("Blankets (other than electric blankets), of wool") == Facets(
        frozenset({"wool", "non_electric"}), frozenset({"electric"})
    )


def test_a_denial_reaches_the_next_item_of_its_list() -> None:
    pyjamas = "Nightshirts and pyjamas; of textile materials other than cotton or man-made fibres"
    assert facets_of(pyjamas) == Facets(frozenset({"textile"}), frozenset({"cotton", "man_made"}))
    assert facets_of("Lamps; parts, of materials other than glass or plastics").said == set()
    # only an item joined to the denied one: "of cotton or wool" after a clause is said
    assert facets_of("not knitted or crocheted, of cotton or wool").said == {
        "woven",
        "cotton",
        "wool",
    }
    assert facets_of("whether or not knitted or crocheted, of cotton").said == {"cotton"}


def test_a_bracket_that_names_no_list_is_read_as_any_text() -> None:
    # a listing's bracket: "not see-through" excludes nothing of the cotton lining
    assert facets_of("Dress (not see-through, cotton lining)").said == {"cotton"}
    # an excluding bracket ends a clause: "whether or not" does not reach past it
    assert facets_of("Fabrics, whether or not knitted (excl. pile) of cotton").said == {
        "textile",
        "cotton",
    }


def test_a_negation_does_not_reach_past_its_clause() -> None:
    # "không dây" is wireless: the material after the bar is still plastics
    assert facets_of("Tai nghe bluetooth không dây | Material: Plastic").said == {"plastics"}


def test_an_imitation_is_not_its_model() -> None:
    assert facets_of("PU leather handbag").said == {"plastics"}
    assert facets_of("faux leather jacket").said == {"plastics"}
    assert facets_of("túi xách giả da").said == facets_of("tui xach gia da").said == {"plastics"}
    assert facets_of("18K Gold Color Brass Pendant").said == {"copper"}
    assert facets_of("gold plated zinc alloy ring").said == {"zinc", "base_metal"}
    assert facets_of("imitation pearl necklace").said == frozenset()
    assert facets_of("925 sterling silver ring").said == {"precious_metal"}


def test_acrylic_is_a_fibre_among_textiles_and_a_plastic_elsewhere() -> None:
    assert facets_of("a boys pullover made from 100% acrylic knit fabric").said >= {"synthetic"}
    assert facets_of("a women's poncho made of acrylic, wool, and nylon").said == {
        "synthetic",
        "wool",
        "women",
    }
    assert facets_of("acrylic yarn").said == {"synthetic"}
    assert facets_of("acrylic socks").said == facets_of("100% acrylic").said == {"synthetic"}
    assert facets_of("acrylic scarves").said == {"synthetic"}
    assert facets_of("Fibres; synthetic filament tow, acrylic or modacrylic").said == {"synthetic"}
    assert facets_of("Pokemon Acrylic Keychain").said == {"plastics"}
    assert facets_of("CLEAR DRAWER KNOB ACRYLIC EDWARDIAN").said == {"plastics"}
    # a chemical, not a material
    assert facets_of("Acids; esters of acrylic acid").said == frozenset()


def test_a_metal_named_with_its_anion_is_a_compound_not_the_metal() -> None:
    assert facets_of("Lithium iron (II) phosphate").said == frozenset()
    assert facets_of("zinc oxide sunscreen").said == frozenset()
    assert facets_of("bột oxit sắt").said == facets_of("bot oxit sat").said == frozenset()
    assert facets_of("Zinc oxide; zinc peroxide").said == frozenset()  # heading 28.17
    # the metal itself, and articles of it, keep their material
    assert facets_of("zinc alloy pendant").said == {"zinc", "base_metal"}
    assert facets_of("stainless steel salt shaker").said == {"iron_steel"}


def test_an_excluded_kind_of_a_material_leaves_the_material_said() -> None:
    # "copolymers" and "acrylic" are kinds of plastics: the text still says plastics, and
    # denies none, so a description of plastics does not contradict it
    copolymers = "Polymers of vinyl acetate; in primary forms, other than copolymers"
    assert facets_of(copolymers) == Facets(frozenset({"plastics"}), frozenset())
    paints = "Paints and varnishes; (based on polymers other than acrylic or vinyl)"
    assert facets_of(paints) == Facets(frozenset({"plastics"}), frozenset())


def test_polymers_are_plastics() -> None:
    # Chapter 39 Note 1: plastics are the polymers of headings 39.01 to 39.14
    assert facets_of("maleic anhydride modified propylene copolymer").said == {"plastics"}
    assert (
        "plastics"
        in facets_of(
            "Adhesives; prepared, based on polymers of headings 3901 to 3913 or on rubber"
        ).said
    )
    assert facets_of("chất kết dính (các polyme acrylic)").said == {"plastics"}
    assert facets_of("DNA polymerase sets").said == frozenset()


def test_a_broader_tariff_text_covers_a_precise_description() -> None:
    assert lineage("synthetic") == ("synthetic", "man_made", "textile")
    assert facets_of("polyester").said == {"synthetic"}
    steel = facets_of("stainless steel").said
    assert agreement(steel, facets_of("Articles of base metal"), "material") == 1
    assert agreement(steel, facets_of("Articles of plastics"), "material") == -1
    # the description is vaguer than the tariff: no contradiction
    assert agreement(facets_of("metal").said, facets_of("of iron or steel"), "material") == 0
    # a group the tariff text is silent about, or the description is
    assert agreement(steel, facets_of("Headphones"), "material") == 0
    assert agreement(steel, facets_of("of cotton"), "gender") == 0


def test_a_residual_line_contradicts_what_it_excludes() -> None:
    cotton = facets_of("100% cotton").said
    assert agreement(cotton, facets_of("of cotton"), "material") == 1
    assert (
        agreement(cotton, facets_of("of textile materials (other than cotton)"), "material") == -1
    )


def test_a_blend_is_of_the_fibre_that_predominates_by_weight() -> None:
    # Section XI Note 2(A): the textile material that predominates by weight
    assert chief_fibre("54% cotton, 36% polyester, 10% spandex") == "cotton"
    assert chief_fibre("65% Polyester 35% Cotton") == "synthetic"
    assert chief_fibre("áo 60% bông 40% polyester") == "cotton"
    # chosen first by chapter, Chapters 54 and 55 as one (Note 2(B)(b)-(c)): 60% man-made,
    # elastane among the synthetic fibres
    assert chief_fibre("40% cotton, 35% polyester, 25% viscose") == "synthetic"
    assert chief_fibre("45% cotton, 40% polyester, 15% elastane") == "synthetic"
    assert chief_fibre("45% cotton, 40% modal, 15% polyester") == "artificial"
    assert chief_fibre("55% acrylic, 30% cotton, 15% polyester") == "synthetic"
    # none predominates: the one whose heading comes last (52 cotton < 54 man-made; 50 < 51;
    # artificial 54.03 and 55.04 after synthetic 54.02 and 55.03)
    assert chief_fibre("50% cotton and 50% polyester") == "synthetic"
    assert chief_fibre("50% silk 50% wool") == "wool"
    assert chief_fibre("50% polyester 50% viscose") == "artificial"
    assert chief_fibre("50% cotton, 25% polyester, 25% viscose") == "artificial"
    # one fibre, or shares of no fibre, or a tariff's threshold: nothing to choose
    assert chief_fibre("100% cotton") is None
    assert chief_fibre("80% nylon and 20% elastane") is None
    assert chief_fibre("containing 85% or more by weight of cotton") is None
    # shares that do not add up to 100 say nothing: a shell and its lining, a fibre the
    # lexicon does not know, the fibre written before its share
    assert chief_fibre("Shell: 100% cotton; Lining: 100% polyester") is None
    assert chief_fibre("60% cotton, 40% ramie") is None
    assert chief_fibre("Cotton 70% Polyester 20% Viscose 10%") is None


def test_a_blends_facets_are_its_chief_fibre_alone() -> None:
    blend = facets_of("boys T-shirts made of 50% cotton and 50% polyester, knit jersey")
    assert blend.said == {"men", "synthetic", "knitted"}
    # so the residual line that excludes cotton agrees and the cotton line does not
    residual = facets_of("of textile materials (other than cotton)")
    assert agreement(blend.said, residual, "material") == 1
    assert agreement(blend.said, facets_of("of cotton"), "material") == -1
    assert facets_of("cotton and polyester blend").said == {"cotton", "synthetic"}
    # only the fibres give way: the bag's other material stays
    assert facets_of("PU bag, 50% cotton 50% polyester lining").said == {"plastics", "synthetic"}


def test_the_material_decides_the_subheading_of_a_handbag() -> None:
    classifier = bundled_classifier()
    # 4202.21: outer surface of leather; 4202.22: of plastic sheeting or textile materials
    assert classifier.suggest("Women's genuine leather handbag")[0].hs_code == "420221"
    assert classifier.suggest("PU leather handbag")[0].hs_code == "420222"
    # without the facets the leather handbag goes with the plastic ones
    text = "Women's genuine leather handbag"
    assert classifier.rank(query_terms(text), 1)[0][0] == "420222"


def test_the_bundled_model_knows_each_subheadings_facets() -> None:
    model = bundled_classifier().model
    assert model.subheading_facets["610910"] == ["cotton"]
    assert model.heading_facets["6109"] == ["knitted"]
    # "of textile materials n.e.c.": not the cotton nor the man-made fibres of its siblings
    assert set(model.subheading_facets["620590"]) == {"textile", "-cotton", "-man_made"}


def test_the_chapter_model_reads_the_facets_as_terms_of_their_own() -> None:
    assert chapter_terms({"bag": 1}, frozenset({"leather", "women"}), 1.0) == {
        "bag": 1,
        "facet:leather": 1.0,
        "facet:women": 1.0,
    }
    assert chapter_terms({"bag": 1}, frozenset({"leather"}), 0.0) == {"bag": 1}


def test_the_bundled_chapter_model_learnt_the_facets_chapters() -> None:
    model = bundled_classifier().model
    assert model.params.chapter_facets > 0

    def likeliest_chapter(facet: str) -> str:
        flat = model.chapter_model.weights[f"facet:{facet}"]
        label = max(zip(flat[0::2], flat[1::2], strict=True), key=lambda pair: pair[1])[0]
        return model.chapter.keys[label]

    assert likeliest_chapter("plastics") == "39"
    assert likeliest_chapter("rubber") == "40"


def test_a_facet_moves_the_chapter_model_towards_its_chapter() -> None:
    classifier = bundled_classifier()
    params, keys = classifier.model.params, classifier.model.chapter.keys
    text = "hộp đựng bằng nhựa"  # a box of plastics: the facet is read, the word is rare
    query, facets = query_terms(text), facets_of(text).said
    assert facets == {"plastics"}
    with_facets = classifier.chapter_probabilities(query, params, facets=facets)
    without = classifier.chapter_probabilities(query, params)
    plastics = keys.index("39")
    assert with_facets[plastics] == max(with_facets)
    assert with_facets[plastics] > without[plastics] + 0.2


def test_a_neighbour_votes_for_no_subheading_the_description_contradicts() -> None:
    # the labelled listing itself left out, its nearest neighbours are shoes of rubber or
    # plastics uppers (64.02): their votes go to footwear (the heading's share), not to a
    # subheading that "genuine leather" contradicts
    classifier = bundled_classifier()
    assert classifier.model.params.contradicted_vote == 0.0
    text = (  # HSCodeComp hscc-410's title, attributes and category
        "NEW Spring/Autumn Women Pumps Pointed Toe Thin Heel Shoes Genuine Leather Shoes for "
        "Women Elegant Stiletto Handmade High Heels | Pointed toe Casual Shallow Women 7cm,High "
        "(5cm-8cm) No Adult Thin Heels | Shoes > Women's Shoes > Pumps"
    )
    query, facets = query_terms(text), facets_of(text).said
    assert facets == {"women", "leather"}
    unseen = frozenset({"hscc-410"})
    ranked = classifier.rank(query, 1, facets=facets, skip_examples=unseen)
    assert ranked[0][0] == "640399"  # uppers of leather
    whole_votes = msgspec.structs.replace(classifier.model.params, contradicted_vote=1.0)
    ranked = classifier.rank(query, 1, params=whole_votes, facets=facets, skip_examples=unseen)
    assert ranked[0][0][:4] == "6402"
