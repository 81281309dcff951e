"""``/console/queue``, ``/console/master-bills/{bill}``, ``/console/dashboard``: the officers' work
queue, the parcels under one master air waybill, and the dashboard.

The queue lists held and needs-information parcels, counts them by status, channel and reason,
filters, sorts and searches them, and pages with keyset cursors (``after``/``before`` in the URL:
a page deep in 100,000 parcels costs what the first one does). A platform key sees its own
parcels only; the master-bill view and the dashboard are for officers.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Any, Final
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from clearance.domain.access import ApiKey
from clearance.domain.reasons import REASON_CODES, RISK_SIGNALS
from clearance.domain.views import (
    MAX_REPORT_DAYS,
    QUEUE_SORTS,
    BillParcel,
    BillTotal,
    DashboardFigures,
    DecisionFilter,
    QueueCounts,
    QueueCursor,
    QueueFilter,
    QueueRow,
    QueueSort,
    report_period,
)
from clearance.entrypoints.http.charts import CHANNEL_COLOURS, Series, bar_chart
from clearance.entrypoints.http.dependencies import Injected
from clearance.entrypoints.http.i18n import Ui, parse_day
from clearance.entrypoints.http.pages import page
from clearance.entrypoints.http.recent import Recent
from clearance.service.access import platform_scope
from clearance.service.ports import ReadViews

__all__ = ["QueueController", "decode_cursor", "encode_cursor", "read_period"]

SIGN_IN: Final = "/console/sign-in"
PAGE_SIZE: Final = 50
#: Parcels a master-bill page lists (its counts and amounts cover every parcel of the bag).
BILL_PARCELS: Final = 500
#: A period's ends as typed (``dd/mm/yyyy`` or ``yyyy-mm-dd``: ``i18n.parse_day``).
From = Annotated[str | None, QueryParameter(name="from")]
To = Annotated[str | None, QueryParameter(name="to")]

#: The queue's age filter: parcels waiting longer than this.
AGES: Final[dict[str, timedelta]] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "3d": timedelta(days=3),
}
AGE_LABELS: Final = {
    "1h": "more than 1 hour",
    "4h": "more than 4 hours",
    "24h": "more than 24 hours",
    "3d": "more than 3 days",
}
SORT_LABELS: Final[dict[QueueSort, str]] = {
    "oldest": "Waiting longest first",
    "newest": "Newest first",
    "risk": "Highest risk first",
    "channel": "Red channel first",
    "destination": "By destination",
    "platform": "By platform",
}

#: Reasons that tell how risk is scored: the officers' business. A platform key reads the queue
#: without them, without the score, the signals or the channel, and with ``CUSTOMS_CONTROL`` on
#: a hold instead (issue #20; the same set as ``domain.access.RISK_REASONS`` there).
RISK_REASONS: Final = frozenset({"RISK_SCORE", "COMPLIANCE_SAMPLE", "HS_CODE_MISMATCH"})
#: The sorts and filters that would show a platform the risk detail.
RISK_SORTS: Final = frozenset({"risk", "channel"})

#: The queue's counts, kept per filter for 15 s: paging keeps the filters, so each page after the
#: first reads the counts from here (counting 100,000 parcels takes about 100 ms); rows are live.
COUNTS: Final = Recent[QueueCounts](seconds=15)
#: The dashboard's figures, kept a minute per period (its reports read every decision of it).
DASHBOARD: Final = Recent[tuple[DashboardFigures, list[dict[str, Any]], list[dict[str, Any]]]](
    seconds=60, size=32
)

#: The types of each sort's cursor values (the keyset columns of ``ReadViews.queue_page``).
_CURSOR_TYPES: Final[dict[QueueSort, Any]] = {
    "oldest": tuple[datetime, str, str, str],
    "newest": tuple[datetime, str, str, str],
    "risk": tuple[int, datetime, str, str, str],
    "channel": tuple[str, datetime, str, str, str],
    "destination": tuple[str, datetime, str, str, str],
    "platform": tuple[str, datetime, str, str],
}


def encode_cursor(cursor: QueueCursor) -> str:
    """A row's position as a URL-safe token."""
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode_cursor(sort: QueueSort, token: str | None) -> QueueCursor | None:
    """The position in a token for ``sort``; None for none or one that is not (a stale or
    edited link starts from the first page)."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values: QueueCursor = msgspec.json.decode(raw, type=_CURSOR_TYPES[sort])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    return values


def read_period(
    ui: Ui, typed_from: str | None, typed_to: str | None
) -> tuple[date | None, date | None, str | None]:
    """The days a period form names, and a message when one is not a day or the period is
    longer than a report covers (it is then left out: the page shows the default period and
    says why)."""
    days: list[date | None] = []
    for text in (typed_from, typed_to):
        try:
            days.append(parse_day(text))
        except ValueError:
            days.append(None)
            problem = ui.t("Not a date: type it as {format}.", format=ui.date_format)
            return None, None, problem
    try:  # the reports' own bound (officers' reports over HTTP have it too)
        report_period(days[0], days[1], datetime.now(UTC).date())
    except ValueError:
        problem = ui.t("A period covers at most {days} days.", days=MAX_REPORT_DAYS)
        return None, None, problem
    return days[0], days[1], None


def _choice(value: str | None, allowed: Any) -> str | None:
    """``value`` when it is one of ``allowed``, else no filter (a hand-edited URL is harmless)."""
    return value if value in allowed else None


@dataclass(frozen=True)
class _Query:
    """The queue's query string, kept for the links of the page (filters, sort, pages)."""

    values: dict[str, str]

    def url(self, **changes: str | None) -> str:
        values = {**self.values, **changes}
        query = urlencode({name: value for name, value in values.items() if value})
        return f"/console/queue?{query}" if query else "/console/queue"


class QueueController(Controller):
    """The work queue, the master-bill view and the dashboard (none in the OpenAPI document)."""

    path = "/console"
    include_in_schema = False

    @get("/queue")
    async def queue(
        self,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        ui: Injected[Ui],
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        destination: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
        signal: FromQuery[str | None] = None,
        platform: FromQuery[str | None] = None,
        age: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        after: FromQuery[str | None] = None,
        before: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Queued parcels: counts, filters, one page, links to the next and previous pages."""
        if signed_in is None:
            return Redirect(path=SIGN_IN)
        now = datetime.now(UTC)
        officer = signed_in.role == "officer"
        sorts = QUEUE_SORTS if officer else tuple(s for s in QUEUE_SORTS if s not in RISK_SORTS)
        chosen_sort: QueueSort = sort if sort in sorts else "oldest"  # type: ignore[assignment]
        search = (q or "").strip()[:64] or None
        country = (destination or "").strip().upper()[:2] or None
        reasons = REASON_CODES if officer else REASON_CODES - RISK_REASONS - {"CUSTOMS_CONTROL"}
        filters = QueueFilter(
            status=_choice(status, ("hold", "needs_information")),  # type: ignore[arg-type]
            channel=_choice(channel, CHANNEL_COLOURS) if officer else None,
            destination=country,
            reason=_choice(reason, reasons),
            signal=_choice(signal, RISK_SIGNALS) if officer else None,
            platform=platform_scope(signed_in) or ((platform or "").strip() or None),
            decided_before=now - AGES[age] if age in AGES else None,
            search=search,
            sort=chosen_sort,
        )
        query = _Query(
            {
                "q": search or "",
                "status": filters.status or "",
                "channel": filters.channel or "",
                "destination": country or "",
                "reason": filters.reason or "",
                "signal": filters.signal or "",
                "platform": "" if signed_in.platform else filters.platform or "",
                "age": age if age in AGES else "",
                "sort": chosen_sort if chosen_sort != "oldest" else "",
            }
        )
        after_at = decode_cursor(chosen_sort, after)
        before_at = None if after_at is not None else decode_cursor(chosen_sort, before)
        rows, (counts, counted_at) = await asyncio.gather(
            views.queue_page(filters, after=after_at, before=before_at, limit=PAGE_SIZE),
            COUNTS.get(views, _counts_key(query, signed_in), lambda: views.queue_counts(filters)),
        )
        elsewhere = []
        if search and not rows.rows:
            elsewhere = await views.find_parcels(search, platform_scope(signed_in))
        if not officer:
            rows = msgspec.structs.replace(rows, rows=[_platform_row(r) for r in rows.rows])
            counts = _platform_counts(counts)
        return page(
            "queue.html",
            signed_in,
            ui,
            here="queue",
            query=query,
            filters=filters,
            age=age if age in AGES else "",
            page=rows,
            counts=counts,
            counted_at=counted_at,
            elsewhere=elsewhere,
            now=now,
            next_url=query.url(after=encode_cursor(rows.rows[-1].cursor))
            if rows.has_next and rows.rows
            else None,
            previous_url=query.url(before=encode_cursor(rows.rows[0].cursor))
            if rows.has_previous and rows.rows
            else None,
            first_url=query.url() if rows.has_previous else None,
            reason_options=sorted(reasons - {"CUSTOMS_CONTROL"}, key=ui.reason),
            signal_options=sorted(RISK_SIGNALS, key=ui.reason),
            sort_labels={value: SORT_LABELS[value] for value in sorts},
            age_labels=AGE_LABELS,
        )

    @get("/master-bills/{bill:str}")
    async def master_bill(
        self,
        bill: FromPath[str],
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        ui: Injected[Ui],
    ) -> Response[Any]:
        """Every parcel under one master air waybill, by consignee, with the running totals
        (anti-splitting) that tie them together, and the amounts of the whole bag."""
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        (parcels, count), (groups, amounts) = await asyncio.gather(
            views.bill_parcels(bill, limit=BILL_PARCELS), views.bill_summary(bill)
        )
        if not parcels:
            return page("not_found.html", signed_in, ui, 404)
        totals = await views.running_totals([k for p in parcels for k in p.totals_keys])
        return page(
            "master_bill.html",
            signed_in,
            ui,
            here="queue",
            bill=bill,
            count=count,
            groups=_by_consignee(parcels),
            shown=len(parcels),
            ties=_ties(parcels, totals),
            amounts=amounts,
            by_status=_tally(groups, 0),
            by_channel=_tally(groups, 1),
        )

    @get("/dashboard")
    async def dashboard(
        self,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        ui: Injected[Ui],
        day_from: From = None,
        day_to: To = None,
    ) -> Response[Any]:
        """Parcels decided per hour by channel, the share of green, the top reasons for holds,
        inspection outcomes and hit rate per risk signal, revenue by day."""
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        now = datetime.now(UTC)
        typed_from, typed_to, problem = read_period(ui, day_from, day_to)
        last = typed_to or now.date()
        first = typed_from or last - timedelta(days=29)
        start = datetime.combine(first, time(), UTC)
        end = datetime.combine(last + timedelta(days=1), time(), UTC)
        day = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
        period = DecisionFilter(day_from=first, day_to=last)

        async def figures_of_the_period() -> tuple[
            DashboardFigures, list[dict[str, Any]], list[dict[str, Any]]
        ]:
            figures, risk, revenue = await asyncio.gather(
                views.dashboard(start, min(end, now + timedelta(seconds=1)), day),
                views.risk_report(period),
                views.revenue_by_day(period),
            )
            return figures, risk, revenue

        (figures, risk, revenue), figured_at = await DASHBOARD.get(
            views, (first, last), figures_of_the_period
        )
        waiting, _ = await COUNTS.get(
            views, _counts_key(_Query({}), signed_in), lambda: views.queue_counts(QueueFilter())
        )
        day = figured_at.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
        hours = [day + timedelta(hours=n) for n in range(24)]
        return page(
            "dashboard.html",
            signed_in,
            ui,
            here="dashboard",
            day_from=first,
            day_to=last,
            problem=problem,
            figures=figures,
            figured_at=figured_at,
            hours_chart=_hours_chart(ui, hours, figures.decided_per_hour),
            decided=sum(figures.by_channel.values()),
            hold_reasons=list(waiting.by_reason.items())[:10],
            top_reason=max(waiting.by_reason.values(), default=0),
            risk=[{**row, "rate": ui.percent(row["seized"], row["inspected"])} for row in risk],
            revenue=revenue,
            revenue_charts=revenue_charts(ui, revenue),
        )


def _platform_row(row: QueueRow) -> QueueRow:
    """A queued parcel as a platform reads it: no risk score, signals or channel, and the
    neutral ``CUSTOMS_CONTROL`` in place of the risk reasons of a hold."""
    codes = [code for code in row.reason_codes if code not in RISK_REASONS]
    if len(codes) < len(row.reason_codes) and row.status == "hold":
        codes.append("CUSTOMS_CONTROL")
    return msgspec.structs.replace(
        row, reason_codes=codes, risk_signals=[], risk_score=0, channel="yellow"
    )


def _platform_counts(counts: QueueCounts) -> QueueCounts:
    """The counts a platform reads: by status and reason, without the risk reasons."""
    by_reason = {code: n for code, n in counts.by_reason.items() if code not in RISK_REASONS}
    return msgspec.structs.replace(counts, by_channel={}, by_reason=by_reason)


def _counts_key(query: _Query, caller: ApiKey) -> tuple[tuple[str, str], ...]:
    """What the queue's counts depend on: every filter (not the sort, not the page) and the
    caller's platform scope."""
    values = {name: value for name, value in query.values.items() if name != "sort" and value}
    return (("scope", caller.platform or ""), *sorted(values.items()))


def _tally(groups: dict[tuple[str, str], int], by: int) -> dict[str, int]:
    """Counts by (status, channel) added up by status (``by`` 0) or channel (1)."""
    counts: dict[str, int] = defaultdict(int)
    for key, count in groups.items():
        counts[key[by]] += count
    return dict(counts)


def _by_consignee(parcels: list[BillParcel]) -> list[list[BillParcel]]:
    """The parcels grouped by consignee (as stored: by consignee, then order)."""
    groups: dict[str, list[BillParcel]] = {}
    for parcel in parcels:
        groups.setdefault(parcel.consignee_ref, []).append(parcel)
    return list(groups.values())


@dataclass(frozen=True)
class Tie:
    """A running total (anti-splitting) that parcels of the bag count towards."""

    total: BillTotal
    parcels: list[BillParcel]
    """This bag's parcels under it (the total may also sum parcels of other bags or days)."""

    @property
    def consignee(self) -> str:
        return self.parcels[0].consignee_name

    @property
    def currency(self) -> str:
        return self.parcels[0].currency

    @property
    def over_relief(self) -> bool:
        """Whether one of its parcels lost the relief because of it."""
        code = "CONSIGNEE_AGGREGATE_EXCEEDS_THRESHOLD"
        return any(code in parcel.reason_codes for parcel in self.parcels)


def _ties(parcels: list[BillParcel], totals: list[BillTotal]) -> list[Tie]:
    """The running totals that tie two or more parcels (of this bag, or of it and others);
    the ones tying most parcels of the bag first."""
    members: dict[str, list[BillParcel]] = defaultdict(list)
    for parcel in parcels:
        for key in parcel.totals_keys:
            members[key].append(parcel)
    ties = [
        Tie(total=total, parcels=members[total.key])
        for total in totals
        if members.get(total.key) and total.parcels >= 2  # alone under its key: nothing tied
    ]
    ties.sort(key=lambda tie: (-len(tie.parcels), -tie.total.value, tie.total.key))
    return ties


def _hours_chart(ui: Ui, hours: list[datetime], rows: list[tuple[datetime, str, int]]) -> Any:
    counts = {(hour, channel): n for hour, channel, n in rows}
    series = [
        Series(ui.label(channel), colour, [Decimal(counts.get((h, channel), 0)) for h in hours])
        for channel, colour in CHANNEL_COLOURS.items()
    ]
    return bar_chart(
        [f"{h.hour:02d}:00" for h in hours],
        series,
        chart_id="hours",
        title=ui.t("Decisions per hour by channel, last 24 hours"),
        x_title=ui.t("Hour (UTC)"),
        y_title=ui.t("Decisions"),
        tick_text=lambda v: ui.number(v),
    )


def revenue_charts(ui: Ui, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A chart per currency of duty and tax per assessment day."""
    by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_currency[row["currency"]].append(row)
    charts = {}
    for currency, items in by_currency.items():
        charts[currency] = bar_chart(
            [ui.date(row["day"]) for row in items],
            [
                Series(ui.t("Duty"), "#0b4f9c", [Decimal(row["duty"]) for row in items]),
                Series(ui.t("Tax"), "#6a3d9a", [Decimal(row["tax"]) for row in items]),
            ],
            chart_id=f"revenue-{currency}",
            title=ui.t("Duty and tax per day in {currency}", currency=currency),
            x_title=ui.t("Assessment day"),
            y_title=ui.t("Duty and tax ({currency})", currency=currency),
            tick_text=lambda v: ui.number(v),
        )
    return charts
