"""``/console``: the officer console. Held parcels, a decision in readable form, inspections,
revenue.

Server-rendered HTML (Jinja templates in ``clearance/templates``), no JavaScript needed. Sign-in
takes an API key and keeps it in a secure, HTTP-only, same-site cookie; forms carry a CSRF token
and are decoded by ``forms.py`` (a bad field is shown on the page, nothing is sent). Officers see
every parcel and record inspections; a platform key sees its own platform's parcels, read-only
(``service.access`` decides, as for the API). Identity numbers are never stored, so never shown.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.domain.parcels import ParcelKey
from clearance.domain.views import DecisionFilter
from clearance.entrypoints.http.auth import Authenticator
from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE, Injected, console_key
from clearance.entrypoints.http.forms import InspectionForm, SignInForm, decode_form
from clearance.service import intake
from clearance.service.access import may_see, platform_scope
from clearance.service.ports import Publisher, ReadViews
from clearance.settings import Settings

__all__ = ["ConsoleController"]

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
From = Annotated[date | None, QueryParameter(name="from")]
To = Annotated[date | None, QueryParameter(name="to")]
SIGN_IN = "/console/sign-in"

#: The statuses an officer may inspect from the decision page.
INSPECTABLE = ("hold", "refuse", "needs_information")


def _page(name: str, caller: ApiKey | None, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name=name, context={"caller": caller, **context}, status_code=status_code
    )


class ConsoleController(Controller):
    """The console's pages and forms (none in the OpenAPI document)."""

    path = "/console"
    include_in_schema = False

    @get()
    async def console_home(self) -> Redirect:
        """The console starts at the holds queue."""
        return Redirect(path="/console/holds")

    @get("/sign-in")
    async def sign_in_page(self) -> Template:
        """The sign-in form."""
        return _page("sign_in.html", None)

    @post("/sign-in", status_code=303)
    async def sign_in(self, data: Form, authenticator: Injected[Authenticator]) -> Response[Any]:
        """Check the key; keep it in a secure, HTTP-only cookie for the session."""
        form = decode_form(SignInForm, data)
        if not isinstance(form, SignInForm) or await console_key(authenticator, form.key) is None:
            message = "This key is not an officer or platform key."
            return _page("sign_in.html", None, 401, error=message)
        response = Redirect(path="/console/holds")
        response.set_cookie(
            CONSOLE_COOKIE, form.key, httponly=True, secure=True, samesite="strict", path="/"
        )
        return response

    @post("/sign-out", status_code=303)
    async def sign_out(self) -> Response[Any]:
        """Forget the key."""
        response = Redirect(path=SIGN_IN)
        response.delete_cookie(CONSOLE_COOKIE, path="/")
        return response

    @get("/holds")
    async def holds(
        self,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        destination: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Held parcels, newest first; a platform sees only its own."""
        if signed_in is None:
            return Redirect(path=SIGN_IN)
        filters = DecisionFilter(
            status="hold",
            destination=destination or None,
            channel=channel or None,
            platform=platform_scope(signed_in),
        )
        rows = await views.current_decisions(filters, None, 200)
        decisions = [m.decode_decision(body) for _, body in rows]
        if reason:
            decisions = [d for d in decisions if any(r.code == reason for r in d.reasons)]
        return _page(
            "holds.html",
            signed_in,
            decisions=decisions,
            destination=destination,
            channel=channel,
            reason=reason,
        )

    @get("/decisions/{platform:str}/{order_id:str}/{shipment_id:str}")
    async def decision_page(
        self,
        platform: FromPath[str],
        order_id: FromPath[str],
        shipment_id: FromPath[str],
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        settings: Injected[Settings],
        recorded: FromQuery[int] = 0,
    ) -> Response[Any]:
        """The whole decision, its revisions, and (officers) the inspection form."""
        if signed_in is None:
            return Redirect(path=SIGN_IN)
        page = await _decision_page(
            signed_in, (platform, order_id, shipment_id), views, settings, recorded=bool(recorded)
        )
        return page or _page("not_found.html", signed_in, 404)

    @post("/inspections", status_code=303)
    async def record_inspection(
        self,
        data: Form,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        publisher: Injected[Publisher],
        settings: Injected[Settings],
    ) -> Response[Any]:
        """An officer's result from the decision page, sent to ``inspections.v1`` like the API's.

        A bad field answers 422 with the page and a message next to the field; nothing is sent.
        """
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        form = decode_form(InspectionForm, data)
        if not isinstance(form, InspectionForm):
            return await _refused(form, data, signed_in, views, settings)
        parcel = form.parcel
        if await views.consignee_of(parcel) is None:
            return _page("not_found.html", signed_in, 404)
        now = datetime.now(UTC)
        await intake.submit_inspection(
            form.inspection(signed_in, now), signed_in, views, publisher, now
        )
        return Redirect(path=f"/console/decisions/{parcel[0]}/{parcel[1]}/{parcel[2]}?recorded=1")

    @get("/revenue")
    async def revenue_page(
        self,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        day_from: From = None,
        day_to: To = None,
        destination: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Duty and tax per day and currency: a chart per currency, a table, a CSV link."""
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        rows = await _revenue_rows(views, day_from, day_to, destination)
        by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_currency[row["currency"]].append(row)
        filters = (("from", day_from), ("to", day_to), ("destination", destination))
        query = urlencode({name: value for name, value in filters if value})
        return _page(
            "revenue.html",
            signed_in,
            rows=rows,
            charts={currency: _svg_chart(items) for currency, items in by_currency.items()},
            day_from=day_from,
            day_to=day_to,
            destination=destination,
            query=query,
        )

    @get("/revenue.csv")
    async def revenue_csv(
        self,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        day_from: From = None,
        day_to: To = None,
        destination: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The revenue table as CSV."""
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        rows = await _revenue_rows(views, day_from, day_to, destination)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "currency", "parcels", "duty", "tax"])
        for row in rows:
            writer.writerow([row["day"], row["currency"], row["parcels"], row["duty"], row["tax"]])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"content-disposition": 'attachment; filename="revenue.csv"'},
        )


async def _decision_page(
    caller: ApiKey,
    parcel: ParcelKey,
    views: ReadViews,
    settings: Settings,
    *,
    recorded: bool = False,
    problems: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
) -> Template | None:
    """The decision page of ``parcel``, or None when the caller may not see it or it is unknown.

    ``problems`` (field -> message) and ``entered`` (the values sent) re-show a refused form.
    """
    history = await views.decision_history(parcel) if may_see(caller, parcel[0]) else []
    if not history:
        return None
    current = history[-1]
    template = settings.trace_url_template
    trace_url = (
        template.format(trace_id=current.trace_id) if template and current.trace_id else None
    )
    return _page(
        "decision.html",
        caller,
        422 if problems else 200,
        d=current,
        history=history,
        trace_url=trace_url,
        recorded=recorded,
        can_inspect=caller.role == "officer" and current.status in INSPECTABLE,
        problems=problems or {},
        entered=entered or {},
    )


#: The fields that name the parcel: the page can be shown again only when all of them are right.
_PARCEL_FIELDS = ("platform", "order_id", "shipment_id")


async def _refused(
    problems: dict[str, str],
    sent: dict[str, str],
    caller: ApiKey,
    views: ReadViews,
    settings: Settings,
) -> Template:
    """422: the decision page again with a message next to each bad field (what the officer
    typed kept), or a page listing the problems when the form names no parcel to show."""
    if not any(field in problems for field in _PARCEL_FIELDS):
        parcel = (sent["platform"].strip(), sent["order_id"].strip(), sent["shipment_id"].strip())
        page = await _decision_page(
            caller, parcel, views, settings, problems=problems, entered=sent
        )
        if page is not None:
            return page
    return _page("form_refused.html", caller, 422, problems=problems)


async def _revenue_rows(
    views: ReadViews, day_from: date | None, day_to: date | None, destination: str | None
) -> list[dict[str, Any]]:
    filters = DecisionFilter(destination=destination or None, day_from=day_from, day_to=day_to)
    return await views.revenue_by_day(filters)


def _svg_chart(rows: list[dict[str, Any]]) -> str:
    """A bar chart of duty + tax per day, drawn on the server (no script)."""
    width, height, pad = 640, 220, 30
    totals = [(str(r["day"]), Decimal(r["duty"]) + Decimal(r["tax"])) for r in rows]
    top = max((value for _, value in totals), default=Decimal(1)) or Decimal(1)
    step = (width - 2 * pad) / max(1, len(totals))
    bars = []
    for index, (day, value) in enumerate(totals):
        bar = float(value / top) * (height - 2 * pad)
        x = pad + index * step
        bars.append(
            f'<rect x="{x:.1f}" y="{height - pad - bar:.1f}" width="{max(1.0, step - 4):.1f}" '
            f'height="{bar:.1f}" fill="#0b4f9c"><title>{day}: {value}</title></rect>'
        )
    labels = (
        f'<text x="{pad}" y="{height - 8}" font-size="12">{totals[0][0] if totals else ""}</text>'
    )
    return (
        f'<svg role="img" aria-label="Duty and tax per day" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><line x1="{pad}" y1="{height - pad}" '
        f'x2="{width - pad}" y2="{height - pad}" stroke="#1a1a1a"/>{"".join(bars)}{labels}</svg>'
    )
