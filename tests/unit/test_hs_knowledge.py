"""What the classifier knows beyond its word scores: the notice formulas that are no goods."""

from __future__ import annotations

from clearance.domain.hs.text import words


def test_the_notice_formula_of_a_customs_notice_is_no_goods() -> None:
    plain = words("Máy chiếu Panasonic PT-LW376")
    for formula in (
        "do Tổng cục trưởng Tổng cục Hải quan ban hành",
        "do Tổng cục Hải quan ban hành | , công dụng:",
    ):
        assert words(f"Máy chiếu Panasonic PT-LW376 {formula}") == plain
    # the words themselves still count elsewhere ("hải quan" is customs)
    assert words("hải quan") == ["hai", "quan"]
