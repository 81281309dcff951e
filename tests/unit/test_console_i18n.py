"""The console in Vietnamese and English: which language a request gets, how amounts, numbers,
dates and waiting times are written, that every text the console writes has its Vietnamese,
and the server-drawn charts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from clearance.entrypoints.http import i18n
from clearance.entrypoints.http.charts import Series, bar_chart, nice_step
from clearance.entrypoints.http.controllers import console_queue
from clearance.entrypoints.http.forms import InspectionForm, SignInForm
from clearance.entrypoints.http.i18n import (
    Ui,
    format_date,
    format_datetime,
    format_duration,
    format_money,
    format_number,
    language_of,
)
from clearance.entrypoints.http.vietnamese import VIETNAMESE

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "clearance"
TEMPLATE_TEXT = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
CODE_TEXT = re.compile(r"""ui\.t\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]""")


@pytest.mark.parametrize(
    ("amount", "currency", "vi", "en"),
    [
        ("1200005", "VND", "1.200.005 ₫", "VND 1,200,005"),
        ("0", "VND", "0 ₫", "VND 0"),
        ("12.5", "EUR", "12,50 EUR", "EUR 12.50"),
        ("1234567.891", "USD", "1.234.567,891 USD", "USD 1,234,567.891"),  # never rounded away
        ("-45000", "VND", "-45.000 ₫", "VND -45,000"),
        ("999", "JPY", "999 JPY", "JPY 999"),
    ],
)
def test_amounts_are_written_as_each_language_writes_them(
    amount: str, currency: str, vi: str, en: str
) -> None:
    assert format_money(Decimal(amount), currency, "vi") == vi
    assert format_money(Decimal(amount), currency, "en") == en


def test_numbers_dates_times_and_waiting_times() -> None:
    assert (format_number(1234567, "vi"), format_number(1234567, "en")) == (
        "1.234.567",
        "1,234,567",
    )
    assert format_number(Decimal("26300.5"), "vi") == "26.300,5"
    assert format_date(date(2026, 11, 20), "vi") == "20/11/2026"
    assert format_date(date(2026, 3, 5), "vi") == "05/03/2026"
    assert format_date(date(2026, 11, 20), "en") == "20 Nov 2026"
    moment = datetime(2026, 11, 20, 7, 5, tzinfo=UTC)
    assert format_datetime(moment, "vi") == "20/11/2026 07:05 UTC"
    assert format_duration(timedelta(hours=3, minutes=5), "vi") == "3 giờ 05 phút"
    assert format_duration(timedelta(days=2, hours=4, minutes=59), "en") == "2 d 4 h"
    assert format_duration(timedelta(seconds=59), "en") == "0 min"


@pytest.mark.parametrize(
    ("header", "cookie", "language"),
    [
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", None, "vi"),
        ("en-GB,en;q=0.9,vi;q=0.8", None, "en"),
        ("fr-FR,fr;q=0.9,vi;q=0.5", None, "vi"),  # the first the console speaks
        ("vi;q=0.2,en;q=0.8", None, "en"),  # by quality, not position
        ("vi;q=0,de", None, "en"),  # q=0 is "not this one"
        (None, None, "en"),
        ("en-US", "vi", "vi"),  # the officer's switch wins over the browser
        ("vi-VN", "en", "en"),
        ("vi-VN", "klingon", "vi"),  # a cookie the console never set is ignored
    ],
)
def test_the_language_is_the_officers_choice_else_the_browsers(
    header: str | None, cookie: str | None, language: str
) -> None:
    assert language_of(header, cookie) == language


def _written_texts() -> set[str]:
    """Every English text the console writes: the templates' ``_("...")``, the code's
    ``ui.t("...")``, and the tables of names and form messages."""
    texts: set[str] = set()
    for template in (PACKAGE / "templates").glob("*.html"):
        texts.update(a or b for a, b in TEMPLATE_TEXT.findall(template.read_text("utf-8")))
    for module in (PACKAGE / "entrypoints" / "http").rglob("*.py"):
        texts.update(CODE_TEXT.findall(module.read_text("utf-8")))
    texts.update(i18n.LABELS.values())
    texts.update(i18n.OUTCOMES.values())
    texts.update(console_queue.AGE_LABELS.values())
    texts.update(console_queue.SORT_LABELS.values())
    texts.update(InspectionForm.HINTS.values())
    texts.update(SignInForm.HINTS.values())
    return texts


def test_every_text_the_console_writes_has_its_vietnamese_and_none_is_left_over() -> None:
    written = _written_texts()
    assert {"Work queue", "Record the result", "Held", "Red channel first"} <= written
    assert sorted(written - VIETNAMESE.keys()) == []
    assert sorted(VIETNAMESE.keys() - written) == []


def test_placeholders_survive_translation() -> None:
    for english, vietnamese in VIETNAMESE.items():
        assert re.findall(r"{\w+}", english) == re.findall(r"{\w+}", vietnamese), english


def test_the_ui_speaks_one_language_throughout() -> None:
    vi, en = Ui.for_language("vi"), Ui.for_language("en")
    assert (vi.t("Work queue"), en.t("Work queue")) == ("Hàng chờ xử lý", "Work queue")
    assert vi.t("{n} parcels", n="1.234") == "1.234 bưu kiện"
    assert (vi.label("red"), en.label("needs_information")) == ("Luồng đỏ", "Needs information")
    assert vi.outcome("seize") == "Thu giữ"
    assert vi.reason("TARIFF_RATE_UNKNOWN").startswith("Không xác định được thuế suất")
    assert en.reason("NEW_SELLER") == "New seller (no earlier decision)"
    assert (vi.percent(1, 3), en.percent(2, 3), en.percent(1, 0)) == ("33,3 %", "66.7 %", "–")


@pytest.mark.parametrize(
    ("top", "step"),
    [("0", "1"), ("7", "2"), ("40", "10"), ("41", "20"), ("494457505", "200000000")],
)
def test_chart_ticks_are_round_steps(top: str, step: str) -> None:
    assert nice_step(Decimal(top)) == Decimal(step)


def test_a_chart_has_titled_axes_ticks_a_legend_and_escaped_labels() -> None:
    svg = bar_chart(
        ["20/11/2026", "<b>"],
        [
            Series("Duty", "#000", [Decimal(30), Decimal(5)]),
            Series("Tax", "#111", [Decimal(10), Decimal(0)]),
        ],
        chart_id="c",
        title="Duty & tax",
        x_title="Assessment day",
        y_title="Duty and tax (VND)",
        tick_text=lambda value: format_number(value, "vi"),
    )
    assert svg.startswith('<svg role="img" aria-labelledby="c-title"')
    assert '<title id="c-title">Duty &amp; tax</title>' in svg
    assert ">Assessment day</text>" in svg and ">Duty and tax (VND)</text>" in svg
    assert [tick for tick in re.findall(r'class="tick">([^<]+)<', svg)][:3] == ["0", "10", "20"]
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert svg.count("<rect") == 3 + 2  # three non-zero bars, two legend keys
    assert ">Duty</text>" in svg and ">Tax</text>" in svg


def test_a_queue_cursor_survives_the_url_and_a_bad_one_starts_over() -> None:
    moment = datetime(2026, 11, 20, 7, 5, 1, 123456, tzinfo=UTC)
    cursor = (-35, moment, "shopmart", "SH-0000001", "SH-0000001")
    token = console_queue.encode_cursor(cursor)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert console_queue.decode_cursor("risk", token) == cursor
    assert console_queue.decode_cursor("oldest", token) is None  # another sort's shape
    assert console_queue.decode_cursor("risk", "not base64!") is None
    assert console_queue.decode_cursor("risk", None) is None
