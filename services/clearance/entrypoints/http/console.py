"""The officer console: held parcels, a decision in readable form, inspections, revenue.

Server-rendered HTML (Jinja templates in ``clearance/templates``), no JavaScript needed. Sign-in
takes an API key and keeps it in a secure, HTTP-only, same-site cookie; forms carry a CSRF token.
Officers see every parcel and record inspections; a platform key sees its own platform's parcels,
read-only. Identity numbers are never stored, so never shown.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from clearance import messages as m
from clearance.domain.access import ApiKey
from clearance.domain.views import DecisionFilter
from clearance.service import intake
from clearance.service.ports import ReadViews

__all__ = ["CONSOLE_ROUTES", "csrf_secret", "trace_link"]

COOKIE = "clearance_key"
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def csrf_secret(identity_key: str) -> str:
    """The CSRF secret, derived from the identity key (the same on every API replica)."""
    return hashlib.sha256(f"console-csrf:{identity_key}".encode()).hexdigest()


async def _caller(request: Request[Any, Any, Any]) -> ApiKey | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        key = await request.app.state.services.auth.caller(f"Bearer {token}")
    except (NotAuthorizedException, TooManyRequestsException):
        return None
    return key if key.role in ("officer", "platform") else None


def _views(request: Request[Any, Any, Any]) -> ReadViews:
    views: ReadViews = request.app.state.services.db.views
    return views


def _page(name: str, caller: ApiKey | None, status_code: int = 200, **context: Any) -> Template:
    return Template(
        template_name=name, context={"caller": caller, **context}, status_code=status_code
    )


@get("/console", include_in_schema=False)
async def console_home() -> Redirect:
    """The console starts at the holds queue."""
    return Redirect(path="/console/holds")


@get("/console/sign-in", include_in_schema=False)
async def sign_in_page() -> Template:
    """The sign-in form."""
    return _page("sign_in.html", None)


@post("/console/sign-in", include_in_schema=False, status_code=303)
async def sign_in(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    """Check the key; keep it in a secure, HTTP-only cookie for the session."""
    token = data.get("key", "").strip()
    try:
        key = await request.app.state.services.auth.caller(f"Bearer {token}")
    except (NotAuthorizedException, TooManyRequestsException):
        key = None
    if key is None or key.role not in ("officer", "platform"):
        return _page("sign_in.html", None, 401, error="This key is not an officer or platform key.")
    response = Redirect(path="/console/holds")
    response.set_cookie(COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")
    return response


@post("/console/sign-out", include_in_schema=False, status_code=303)
async def sign_out() -> Response[Any]:
    """Forget the key."""
    response = Redirect(path="/console/sign-in")
    response.delete_cookie(COOKIE, path="/")
    return response


@get("/console/holds", include_in_schema=False)
async def holds(
    request: Request[Any, Any, Any],
    destination: FromQuery[str | None] = None,
    channel: FromQuery[str | None] = None,
    reason: FromQuery[str | None] = None,
) -> Response[Any]:
    """Held parcels, newest first; a platform sees only its own."""
    caller = await _caller(request)
    if caller is None:
        return Redirect(path="/console/sign-in")
    filters = DecisionFilter(
        status="hold",
        destination=destination or None,
        channel=channel or None,
        platform=caller.platform,
    )
    rows = await _views(request).current_decisions(filters, None, 200)
    decisions = [m.decode_decision(body) for _, body in rows]
    if reason:
        decisions = [d for d in decisions if any(r.code == reason for r in d.reasons)]
    return _page(
        "holds.html",
        caller,
        decisions=decisions,
        destination=destination,
        channel=channel,
        reason=reason,
    )


def trace_link(template: str, trace_id: str | None) -> str | None:
    """The decision's trace in Jaeger or Tempo (``CLEARANCE_TRACE_URL_TEMPLATE``): the template
    with ``{trace_id}`` replaced, whatever other braces it holds (Grafana Explore URLs hold JSON).
    """
    if not template or not trace_id:
        return None
    return template.replace("{trace_id}", trace_id)


@get("/console/decisions/{platform:str}/{order_id:str}/{shipment_id:str}", include_in_schema=False)
async def decision_page(
    request: Request[Any, Any, Any],
    platform: FromPath[str],
    order_id: FromPath[str],
    shipment_id: FromPath[str],
    recorded: FromQuery[int] = 0,
) -> Response[Any]:
    """The whole decision, its revisions, and (officers) the inspection form."""
    caller = await _caller(request)
    if caller is None:
        return Redirect(path="/console/sign-in")
    history: list[m.ClearanceDecision] = []
    if caller.role == "officer" or caller.platform == platform:
        history = await _views(request).decision_history((platform, order_id, shipment_id))
    if not history:
        return _page("not_found.html", caller, 404)
    current = history[-1]
    template = request.app.state.services.settings.trace_url_template
    trace_url = trace_link(template, current.trace_id)
    return _page(
        "decision.html",
        caller,
        d=current,
        history=history,
        trace_url=trace_url,
        recorded=bool(recorded),
        can_inspect=caller.role == "officer"
        and current.status in ("hold", "refuse", "needs_information"),
    )


@post("/console/inspections", include_in_schema=False, status_code=303)
async def record_inspection(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    """An officer's result from the decision page, sent to ``inspections.v1`` like the API's."""
    caller = await _caller(request)
    if caller is None or caller.role != "officer":
        return Redirect(path="/console/sign-in")
    parcel = (data["platform"], data["order_id"], data["shipment_id"])
    consignee = await _views(request).consignee_of(parcel)
    if consignee is None:
        return _page("not_found.html", caller, 404)
    corrections = []
    if data.get("outcome") == "reassess" and (data.get("hs_code") or data.get("unit_price")):
        corrections.append(
            m.Correction(
                line_id=1,
                hs_code=data.get("hs_code") or None,
                unit_price=m.Money(data["unit_price"]) if data.get("unit_price") else None,
            )
        )
    inspection = m.InspectionResult(
        event_id=f"console-{uuid.uuid4()}",
        platform=parcel[0],
        order_id=parcel[1],
        shipment_id=parcel[2],
        decision_id=uuid.UUID(data["decision_id"]),
        officer_id=f"key:{caller.key_id}",
        occurred_at=datetime.now(UTC),
        outcome=data["outcome"],  # type: ignore[arg-type]
        corrections=corrections,
        notes=data.get("notes") or None,
    )
    services = request.app.state.services
    await intake.submit_inspection(inspection, services.db.views, services.publisher)
    return Redirect(path=f"/console/decisions/{parcel[0]}/{parcel[1]}/{parcel[2]}?recorded=1")


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


async def _revenue_rows(
    request: Request[Any, Any, Any],
    day_from: date | None,
    day_to: date | None,
    destination: str | None,
) -> list[dict[str, Any]] | None:
    """Revenue rows for an officer; None when the caller is not one (sign in again)."""
    caller = await _caller(request)
    if caller is None or caller.role != "officer":
        return None
    filters = DecisionFilter(destination=destination or None, day_from=day_from, day_to=day_to)
    return await _views(request).revenue_by_day(filters)


@get("/console/revenue", include_in_schema=False)
async def revenue_page(
    request: Request[Any, Any, Any],
    day_from: Annotated[date | None, QueryParameter(name="from")] = None,
    day_to: Annotated[date | None, QueryParameter(name="to")] = None,
    destination: FromQuery[str | None] = None,
) -> Response[Any]:
    """Duty and tax per day and currency: a chart per currency, a table, a CSV link."""
    rows = await _revenue_rows(request, day_from, day_to, destination)
    if rows is None:
        return Redirect(path="/console/sign-in")
    by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_currency[row["currency"]].append(row)
    query = urlencode(
        {k: v for k, v in (("from", day_from), ("to", day_to), ("destination", destination)) if v}
    )
    return _page(
        "revenue.html",
        await _caller(request),
        rows=rows,
        charts={currency: _svg_chart(items) for currency, items in by_currency.items()},
        day_from=day_from,
        day_to=day_to,
        destination=destination,
        query=query,
    )


@get("/console/revenue.csv", include_in_schema=False)
async def revenue_csv(
    request: Request[Any, Any, Any],
    day_from: Annotated[date | None, QueryParameter(name="from")] = None,
    day_to: Annotated[date | None, QueryParameter(name="to")] = None,
    destination: FromQuery[str | None] = None,
) -> Response[Any]:
    """The revenue table as CSV."""
    rows = await _revenue_rows(request, day_from, day_to, destination)
    if rows is None:
        return Redirect(path="/console/sign-in")
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


CONSOLE_ROUTES = [
    console_home,
    sign_in_page,
    sign_in,
    sign_out,
    holds,
    decision_page,
    record_inspection,
    revenue_page,
    revenue_csv,
]
