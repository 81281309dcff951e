"""What the classifier knows beyond its word scores: the states a heading takes its goods in,
the retail vocabulary in the chapter model, and the notice formulas that are no goods."""

from __future__ import annotations

from collections import Counter

import msgspec

from clearance.devtools.hs_build import FOLDS, ChapterTraining, fold_of
from clearance.devtools.hs_labelled import LabelledRow
from clearance.domain.hs import bundled_classifier
from clearance.domain.hs.classifier import HsClassifier
from clearance.domain.hs.garments import GARMENT_TYPES, garment_headings
from clearance.domain.hs.model import Linear
from clearance.domain.hs.states import STATES, states_said
from clearance.domain.hs.text import query_terms, words

CLASSIFIER = bundled_classifier()


def test_a_description_says_a_state_in_english_or_vietnamese() -> None:
    assert states_said(query_terms("HDPE granules for blow moulding")) == {"primary_form"}
    assert states_said(query_terms("Hạt nhựa PP nguyên sinh")) == {"primary_form"}
    assert states_said(query_terms("hat nhua pp nguyen sinh")) == {"primary_form"}
    assert states_said(query_terms("copper scrap, bare bright wire")) == {"waste"}
    assert states_said(query_terms("aluminium ingots 99.7%")) == {"unwrought"}
    assert states_said(query_terms("polyethylene packaging bag")) == frozenset()
    # one folded syllable is also an English word: "hat" alone is no granule
    assert states_said(query_terms("straw hat")) == frozenset()


def test_every_vietnamese_phrase_of_a_state_is_read_from_accented_text() -> None:
    # the states' Vietnamese terms are folded word pairs: each must come out of the text as typed
    phrases = {
        "primary_form": "hạt nhựa, dạng hạt, dạng nguyên sinh, dạng bột, dạng lỏng, dạng cục, "
        "dung dịch, nhũ tương",
        "waste": "phế liệu, phế thải, vụn nhựa, mảnh vụn",
        "unwrought": "nhôm thỏi, dạng thỏi, thỏi nhôm, thép thỏi, nhôm chưa gia công",
        "live": "cá sống, lợn sống, gà sống, vịt sống",
    }
    for state, text in phrases.items():
        for phrase in text.split(", "):
            assert states_said(query_terms(phrase)) == {state}, phrase
    pairs = {term for state in STATES.values() for term in state.terms if "_" in term}
    read = {term for text in phrases.values() for term in query_terms(text)}
    assert pairs <= read, pairs - read


def test_an_article_of_a_material_is_not_the_material_in_primary_forms() -> None:
    # the bag shares "polyethylene" with "Polymers of ethylene, in primary forms"; without the
    # state the heading demands, the article's own headings win
    primary = STATES["primary_form"].headings
    for article in (
        "a polyethylene packaging bag",
        "disposable floor mats made of polyethylene plastic sheeting",
        "polyethylene vinyl acetate (PEVA) tablecloth",
    ):
        ranked = [s.hs_code[:4] for s in CLASSIFIER.suggest(article, limit=3)]
        assert ranked[0] not in primary, (article, ranked)
    for raw in ("polyethylene granules", "Hạt nhựa polypropylene", "polypropylene resin"):
        assert CLASSIFIER.suggest(raw)[0].hs_code[:4] in primary, raw


def test_polymers_by_their_trade_abbreviations() -> None:
    # "HDPE" and "PP" are the tariff's "polymers of ethylene" and "polypropylene"
    assert query_terms("HDPE granules")["polyethylene"] == 1
    assert CLASSIFIER.suggest("HDPE granules")[0].hs_code[:4] == "3901"
    assert CLASSIFIER.suggest("Hạt nhựa PP nguyên sinh")[0].hs_code[:4] == "3902"


def test_the_state_rule_is_what_keeps_the_article_out_of_primary_forms() -> None:
    # the same model without the rule puts these articles among the polymers in primary forms
    params = msgspec.structs.replace(CLASSIFIER.model.params, unstated_state=0.0)
    without = HsClassifier(msgspec.structs.replace(CLASSIFIER.model, params=params))
    primary = STATES["primary_form"].headings
    for article in ("polyethylene tarpaulin", "polystyrene cup", "polypropylene rope"):
        assert without.suggest(article)[0].hs_code[:4] in primary, article
        assert CLASSIFIER.suggest(article)[0].hs_code[:4] not in primary, article


def test_a_description_names_its_garment_types() -> None:
    jacket = garment_headings(query_terms("mens and boys knit jackets made from 100% polyester"))
    assert jacket is not None
    assert {"6101", "61033", "62043"} <= jacket  # anoraks and the jackets of 61.03 and 62.04
    assert "6110" not in jacket and "61034" not in jacket  # no pullover, no trousers
    assert "6111" in jacket  # babies' garments take every type
    # two types in one description take the headings of each
    assert "61032" not in jacket  # one piece is no ensemble; a jacket with trousers may be
    pieces = garment_headings(query_terms("girls' knit jacket and trousers of polyester"))
    assert pieces is not None and "61042" in pieces
    # Vietnamese by its two-syllable names, with or without marks
    assert garment_headings(query_terms("Áo khoác nam")) == garment_headings(
        query_terms("ao khoac nam")
    )
    assert "6201" in (garment_headings(query_terms("Áo khoác nam")) or ())
    assert garment_headings(query_terms("ceramic coffee mug")) is None
    assert garment_headings(query_terms("hải quan")) is None  # "quan" alone names no trousers


def test_every_garment_type_is_read_and_names_headings_of_chapters_61_and_62() -> None:
    for name, (headings, names) in GARMENT_TYPES.items():
        assert all(h[:2] in ("61", "62") and len(h) in (4, 5) for h in headings), name
        for term in names:
            # each name is a term as the text reading makes it (singular, folded pairs)
            phrase = term.replace("_", " ")
            assert term in query_terms(phrase), (name, term)


def test_a_garment_word_of_several_meanings_keeps_each_heading() -> None:
    # a word that also names another garment must not lower that garment's heading
    for listing, heading in (
        ("panty hose, 20 denier", "6115"),  # hosiery, not underpants only
        ("men's padded puffer vest", "6201"),  # a sleeveless jacket
        ("men's woven waistcoat", "6211"),
        ("women's knitted night gown", "61083"),  # a nightdress, not only a dress
        ("surgical gown", "6211"),
        ("women's bathing suit", "61124"),  # swimwear, not a suit
        ("men's underwear trunks", "61071"),  # underpants, not only swimwear
        ("knitted scarves and gloves set", "6117"),  # "scarves" is a scarf
        ("zipper pull for a jacket", "61179"),  # parts of garments take every type
    ):
        allowed = garment_headings(query_terms(listing))
        assert allowed is not None and heading in allowed, listing


def test_swimwear_is_swimwear_whatever_else_it_is_called() -> None:
    # a "swim boxer" is no underpants, "swim trunks" no underwear trunks
    for listing in (
        "a men's knit swim boxer made of 80% nylon",
        "boys' swim trunks",
        "swimming trunks",
        "quần bơi nam",
    ):
        allowed = garment_headings(query_terms(listing))
        assert allowed is not None and {"61123", "62111"} <= allowed, listing
        assert "61071" not in allowed and "62071" not in allowed, listing
    # 61.12 is divided by type: swimwear is no track suit (61.12.1) or ski suit (61.12.2)
    swimsuit = garment_headings(query_terms("women's swimsuit"))
    assert swimsuit is not None and "61124" in swimsuit and "61121" not in swimsuit
    bathing_suit = garment_headings(query_terms("women's bathing suit"))
    assert bathing_suit is not None and "61041" not in bathing_suit  # no suit
    tracksuit = garment_headings(query_terms("men's tracksuit"))
    assert tracksuit is not None and {"61121", "62113"} <= tracksuit and "61123" not in tracksuit
    underwear = garment_headings(query_terms("men's underwear trunks"))
    assert underwear is not None and "61071" in underwear


def test_plurals_that_the_plain_rule_folds_wrongly() -> None:
    assert words("scarves hoodies nighties bikinis") == ["scarf", "hoodie", "nightie", "bikini"]
    assert words("T – shirt, t  shirts") == ["t_shirt", "t_shirt"]
    # "shorts" is the garment, "short" a length: only the first names a type
    assert words("gym shorts, short sleeves") == ["gym", "shorts", "short", "sleeve"]
    shorts = garment_headings(query_terms("men's knit shorts of polyester"))
    assert shorts is not None and {"61034", "62034"} <= shorts
    board = garment_headings(query_terms("men's board shorts"))  # swimwear, or shorts
    assert board is not None and {"61123", "62111", "62034"} <= board
    assert garment_headings(query_terms("short sleeve shirt")) == garment_headings(
        query_terms("shirt")
    )


def test_the_garment_type_is_what_takes_a_garment_to_its_heading() -> None:
    # the same model without the rule puts these garments under a heading of another type
    params = msgspec.structs.replace(CLASSIFIER.model.params, other_garment=0.0)
    without = HsClassifier(msgspec.structs.replace(CLASSIFIER.model, params=params))
    for garment, heading in (
        ("boys' swim trunks of polyester", "6112"),  # not an anorak (61.01)
        ("áo khoác nam dệt kim polyester", "6101"),  # a man's knitted coat, not a T-shirt
        ("women's woven cotton trousers", "6204"),  # trousers (62.04.6), not a suit (62.04.1)
    ):
        assert CLASSIFIER.suggest(garment)[0].hs_code[:4] == heading, garment
        assert without.suggest(garment)[0].hs_code[:5] != CLASSIFIER.suggest(garment)[0].hs_code[:5]
    assert CLASSIFIER.suggest("women's woven cotton trousers")[0].hs_code == "620462"


def test_a_vietnamese_denial_is_one_word_with_what_it_denies() -> None:
    # "vải không dệt" is nonwoven fabric, not woven: "dệt" alone would pull to woven goods
    assert words("Vải không dệt") == ["vai", "khong_det"]
    assert words("vai khong det") == ["vai", "khong_det"]  # typed without marks
    assert words("thép không gỉ") == ["thep", "khong_gi"]  # stainless
    # "không khí" (air) keeps its meaning as one word; a denial ends at a clause's end and at
    # a word that is no Vietnamese syllable
    assert "khong_khi" in words("máy lọc không khí")
    assert words("không, dây") == ["day"]
    assert words("tai nghe không dây bluetooth") == ["tai", "nghe", "khong_day", "bluetooth"]
    # the denial passes over function words: "không dùng điện" is not electric
    assert words("Dụng cụ mát xa không dùng điện") == ["dung", "cu", "mat", "xa", "khong_dien"]
    # "hàng không" (aviation) and "có hoặc không có" (whether or not with) deny nothing
    assert not any(w.startswith("khong_") for w in words("hàng không dân dụng"))
    assert words("có hoặc không có đế") == ["de"]
    # the pair keeps a two-syllable denial: "không tự dính", not self-adhesive
    assert "khong_tu_dinh" in query_terms("màng PET không tự dính")
    assert "tu_dinh" not in query_terms("màng PET không tự dính")


def test_the_notice_formula_of_a_customs_notice_is_no_goods() -> None:
    plain = words("Máy chiếu Panasonic PT-LW376")
    for formula in (
        "do Tổng cục trưởng Tổng cục Hải quan ban hành",
        "do Tổng cục Hải quan ban hành | , công dụng:",
        "do Tổng cục  Hải quan\nban hành",  # spaced and broken as notices are
        "| Tên gọi theo cấu tạo, công dụng:",
        "| Tên gọi đồng nghĩa:",
        "| Ký, mã hiệu, chủng loại:",
    ):
        assert words(f"Máy chiếu Panasonic PT-LW376 {formula}") == plain
    # the words themselves still count elsewhere ("hải quan" is customs)
    assert words("hải quan") == ["hai", "quan"]


def _best_chapter(model: Linear, term: str, keys: list[str]) -> str | None:
    flat = model.weights.get(term)
    if not flat:
        return None
    label = max(zip(flat[0::2], flat[1::2], strict=True), key=lambda pair: pair[1])[0]
    return keys[label]


def test_the_retail_vocabulary_teaches_every_folds_chapter_model() -> None:
    # a shopper's word the tariff never uses is learnt by the model of every fold, while a
    # labelled row's words are left out of the model that scores its own fold
    keys = ["61", "73"]
    row = LabelledRow(id="row-1", text="balaclava", category=None, codes=("611710",))
    training = ChapterTraining.prepare(
        [Counter({"cotton": 1, "jersey": 1}), Counter({"steel": 1, "screw": 1})],
        ["610910", "731815"],
        keys,
        [row],
        [("6110", "hoodie sweatshirt"), ("7318", "bolt nut washer")],
        {"cotton": 1.0, "jersey": 1.0, "steel": 1.0, "screw": 1.0},
        {},
        0.0,
    )
    for fold in range(FOLDS):
        model = training.without(frozenset({fold}), fold)
        assert _best_chapter(model, "hoodie", keys) == "61"
        assert _best_chapter(model, "bolt", keys) == "73"
        held_out = fold == fold_of(row.id)
        assert (_best_chapter(model, "balaclava", keys) is None) == held_out


def test_the_bundled_chapter_model_learnt_the_vocabularys_words() -> None:
    # words that only the retail vocabulary uses (no tariff text, no labelled row) have a
    # chapter in the shipped model: the build trains the vocabulary in
    model = CLASSIFIER.model
    for term, chapter in (("hoodie", "61"), ("tealight", "34"), ("kettlebell", "95")):
        assert _best_chapter(model.chapter_model, term, model.chapter.keys) == chapter, term
