"""``/console``: the officer console. Sign-in, the language switch, a decision in readable form,
inspections, revenue (the work queue, master bills and the dashboard: ``console_queue.py``).

Server-rendered HTML (Jinja templates in ``clearance/templates``), no JavaScript needed (a small
script adds keys to move through the queue). Every page is in the officer's language
(``i18n.py``: Vietnamese or English). Sign-in takes an API key and opens a session
(``service.access``: 8 hours at most, 30 minutes idle, ended by sign-out or by revoking the key)
whose token, never the key, is kept in a secure, HTTP-only, same-site cookie. Forms carry a CSRF
token and are decoded by ``forms.py`` (a bad field is shown on the page, nothing is sent).
Officers see every parcel and record inspections; a platform key sees its own platform's
parcels, read-only (``service.access`` decides, as for the API). Identity numbers are never
stored, so never shown.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final
from urllib.parse import urlencode, urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from clearance.domain.access import ApiKey
from clearance.domain.parcels import ParcelKey
from clearance.entrypoints.http.auth import Authenticator
from clearance.entrypoints.http.controllers.console_queue import (
    From,
    To,
    read_period,
    revenue_charts,
)
from clearance.entrypoints.http.dependencies import CONSOLE_COOKIE, Injected, console_key
from clearance.entrypoints.http.forms import InspectionForm, SignInForm, decode_form
from clearance.entrypoints.http.i18n import LANGUAGE_COOKIE, Ui
from clearance.entrypoints.http.pages import page
from clearance.service import intake
from clearance.service.access import close_session, may_see, open_session
from clearance.service.ports import Publisher, ReadViews, SessionStore
from clearance.service.reports import report_filter
from clearance.settings import Settings

__all__ = ["ConsoleController", "trace_link"]

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SIGN_IN = "/console/sign-in"
QUEUE: Final = "/console/queue"

#: The statuses an officer may inspect from the decision page.
INSPECTABLE = ("hold", "refuse", "needs_information")

#: The console's own stylesheet and script (``templates/static``), by name and type.
STATIC: Final = {"console.css": "text/css", "console.js": "text/javascript"}

#: Where the language switch never goes back to: forms that only take a POST.
_POST_ONLY: Final = frozenset({"/console/inspections", "/console/sign-out", "/console/language"})


def _back_to(next_url: str | None) -> str:
    """A console page to return to after switching language (never another site)."""
    parts = urlsplit(next_url or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return QUEUE
    if "//" in parts.path or "\\" in parts.path or parts.path in _POST_ONLY:
        return QUEUE
    return parts.path + (f"?{parts.query}" if parts.query else "")


def trace_link(template: str, trace_id: str | None) -> str | None:
    """The decision's trace in Jaeger or Tempo (``CLEARANCE_TRACE_URL_TEMPLATE``): the template
    with ``{trace_id}`` replaced, whatever other braces it holds (Grafana Explore URLs hold JSON).
    """
    if not template or not trace_id:
        return None
    return template.replace("{trace_id}", trace_id)


class ConsoleController(Controller):
    """The console's pages and forms (none in the OpenAPI document)."""

    path = "/console"
    include_in_schema = False

    @get()
    async def console_home(self) -> Redirect:
        """The console starts at the work queue."""
        return Redirect(path=QUEUE)

    @get("/holds")
    async def holds(self, request: Request[Any, Any, Any]) -> Redirect:
        """The held parcels' former address: the work queue, with the same filters."""
        query = request.url.query
        return Redirect(path=f"{QUEUE}?{query}" if query else QUEUE)

    @get("/static/{name:str}")
    async def static(self, name: FromPath[str]) -> Response[Any]:
        """The console's stylesheet and script (served here: nothing comes from elsewhere)."""
        if name not in STATIC:
            return Response("not found", status_code=404, media_type="text/plain")
        folder = importlib.resources.files("clearance") / "templates" / "static"
        return Response(
            (folder / name).read_bytes(),
            media_type=STATIC[name],
            headers={"cache-control": "max-age=3600"},
        )

    @post("/language", status_code=303)
    async def choose_language(self, data: Form) -> Response[Any]:
        """Keep the officer's language in a cookie for a year, and go back to the page."""
        response = Redirect(path=_back_to(data.get("next")), status_code=303)
        language = data.get("language", "")
        if language in ("en", "vi"):
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=365 * 24 * 3600,
                httponly=True,
                secure=True,
                samesite="lax",
                path="/",
            )
        return response

    @get("/sign-in")
    async def sign_in_page(self, ui: Injected[Ui]) -> Template:
        """The sign-in form."""
        return page("sign_in.html", None, ui)

    @post("/sign-in", status_code=303)
    async def sign_in(
        self,
        data: Form,
        authenticator: Injected[Authenticator],
        sessions: Injected[SessionStore],
        ui: Injected[Ui],
    ) -> Response[Any]:
        """Check the key and open a session; the cookie holds the session's token only."""
        form = decode_form(SignInForm, data)
        key = await console_key(authenticator, form.key) if isinstance(form, SignInForm) else None
        if key is None:
            message = ui.t("This key is not an officer or platform key.")
            return page("sign_in.html", None, ui, 401, error=message)
        token, expires_at = await open_session(sessions, key)
        response = Redirect(path=QUEUE, status_code=303)
        response.set_cookie(
            CONSOLE_COOKIE,
            token,
            expires=int(expires_at.timestamp()),
            httponly=True,
            secure=True,
            samesite="strict",
            path="/",
        )
        return response

    @post("/sign-out", status_code=303)
    async def sign_out(
        self, request: Request[Any, Any, Any], sessions: Injected[SessionStore]
    ) -> Response[Any]:
        """End the session (its token stops working wherever it was copied) and forget it."""
        token = request.cookies.get(CONSOLE_COOKIE)
        if token:
            await close_session(sessions, token)
        response = Redirect(path=SIGN_IN, status_code=303)
        response.delete_cookie(CONSOLE_COOKIE, path="/")
        return response

    @get("/decisions/{platform:str}/{order_id:str}/{shipment_id:str}")
    async def decision_page(
        self,
        platform: FromPath[str],
        order_id: FromPath[str],
        shipment_id: FromPath[str],
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        settings: Injected[Settings],
        ui: Injected[Ui],
        recorded: FromQuery[int] = 0,
    ) -> Response[Any]:
        """The whole decision, its revisions, and (officers) the inspection form."""
        if signed_in is None:
            return Redirect(path=SIGN_IN)
        parcel = (platform, order_id, shipment_id)
        answer = await _decision_page(
            signed_in, parcel, views, settings, ui, recorded=bool(recorded)
        )
        return answer or page("not_found.html", signed_in, ui, 404)

    @post("/inspections", status_code=303)
    async def record_inspection(
        self,
        data: Form,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        publisher: Injected[Publisher],
        settings: Injected[Settings],
        ui: Injected[Ui],
    ) -> Response[Any]:
        """An officer's result from the decision page, sent to ``inspections.v1`` like the API's.

        A bad field answers 422 with the page and a message next to the field; nothing is sent.
        """
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        form = decode_form(InspectionForm, data)
        if not isinstance(form, InspectionForm):
            return await _refused(form, data, signed_in, views, settings, ui)
        parcel = form.parcel
        if await views.consignee_of(parcel) is None:
            return page("not_found.html", signed_in, ui, 404)
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
        ui: Injected[Ui],
        day_from: From = None,
        day_to: To = None,
        destination: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Duty and tax per day and currency: a chart per currency, a table, a CSV link."""
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        first, last, problem = read_period(ui, day_from, day_to)
        rows = await _revenue_rows(views, first, last, destination)
        filters = (("from", first), ("to", last), ("destination", destination))
        query = urlencode({name: value for name, value in filters if value})
        return page(
            "revenue.html",
            signed_in,
            ui,
            here="revenue",
            rows=rows,
            charts=revenue_charts(ui, rows),
            day_from=first,
            day_to=last,
            problem=problem,
            destination=destination,
            query=query,
        )

    @get("/revenue.csv")
    async def revenue_csv(
        self,
        signed_in: Injected[ApiKey | None],
        views: Injected[ReadViews],
        ui: Injected[Ui],
        day_from: From = None,
        day_to: To = None,
        destination: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The revenue table as CSV."""
        if signed_in is None or signed_in.role != "officer":
            return Redirect(path=SIGN_IN)
        first, last, _ = read_period(ui, day_from, day_to)
        rows = await _revenue_rows(views, first, last, destination)
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
    ui: Ui,
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
    trace_url = trace_link(template, current.trace_id)
    master_bill, tracking_number = await views.transport_of(parcel) or (None, None)
    return page(
        "decision.html",
        caller,
        ui,
        422 if problems else 200,
        here="queue",
        master_bill=master_bill,
        tracking_number=tracking_number,
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
    ui: Ui,
) -> Template:
    """422: the decision page again with a message next to each bad field (what the officer
    typed kept), or a page listing the problems when the form names no parcel to show."""
    if not any(field in problems for field in _PARCEL_FIELDS):
        parcel = (sent["platform"].strip(), sent["order_id"].strip(), sent["shipment_id"].strip())
        shown = await _decision_page(
            caller, parcel, views, settings, ui, problems=problems, entered=sent
        )
        if shown is not None:
            return shown
    return page("form_refused.html", caller, ui, 422, problems=problems)


async def _revenue_rows(
    views: ReadViews, day_from: date | None, day_to: date | None, destination: str | None
) -> list[dict[str, Any]]:
    # the reports' period: the last 366 days when none is given, as over HTTP
    return await views.revenue_by_day(report_filter(destination or None, day_from, day_to))
