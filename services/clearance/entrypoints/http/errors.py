"""The one map from what went wrong to what the client gets.

The API answers ``{"status_code", "detail", "extra": [{"path", "message"}]}``: a 422 names the
JSON path of the bad field, a 400 says the body is not JSON, 401/403/404/409/413/429 say why in
``detail``. The console (``/console``) gets the same status with a page saying why instead.
Handlers convert nothing themselves: the service layer's errors (``clearance.service.errors``)
and an unknown rule pack land here.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from clearance import messages as m
from clearance.domain.packs import UnknownPack
from clearance.entrypoints.http.pages import page, ui_of
from clearance.service.errors import NotAllowed, NotFound, Refused, Stale

__all__ = ["CONSOLE_PATH", "EXCEPTION_HANDLERS", "error_response"]

#: Requests under this path are a person's browser: they get a page, not a JSON body.
CONSOLE_PATH = "/console"


def error_response(
    status_code: int, detail: str, extra: list[dict[str, str]] | None = None
) -> Response[Any]:
    """The error body every failure of the API uses."""
    body = {"status_code": status_code, "detail": detail, "extra": extra or []}
    return Response(body, status_code=status_code, media_type=MediaType.JSON)


def _answer(
    request: Request[Any, Any, Any],
    status_code: int,
    detail: str,
    extra: list[dict[str, str]] | None = None,
) -> Response[Any]:
    path = request.scope["path"]
    if path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/"):
        ui = ui_of(request)
        return page("error.html", None, ui, status_code, code=status_code, detail=detail)
    return error_response(status_code, detail, extra)


def _validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    extra = []
    for problem in error.extra if isinstance(error.extra, list) else []:
        key = str(problem.get("key", ""))
        # litestar names the body "data" and its fields relative to it ("items[0].unit_price")
        base = "$" if key in ("", "data") else f"$.{key}"
        message, path = m.refine_path(str(problem.get("message", "")), base)
        extra.append({"path": path or base, "message": message, "code": "SCHEMA_VIOLATION"})
    if not extra:  # the body is not JSON at all: nothing to point at
        return _answer(request, 400, f"request body is not valid JSON: {error.detail}")
    detail = f"invalid request: {extra[0]['message']} at {extra[0]['path']}"
    return _answer(request, HTTP_422_UNPROCESSABLE_ENTITY, detail, extra)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    return _answer(request, error.status_code, error.detail)


def _refused(request: Request[Any, Any, Any], error: Refused) -> Response[Any]:
    problem = {"path": error.path, "message": error.message}
    if error.code is not None:
        problem["code"] = error.code
    detail = f"{error.message} at {error.path}"
    return _answer(request, HTTP_422_UNPROCESSABLE_ENTITY, detail, [problem])


def _not_allowed(request: Request[Any, Any, Any], error: NotAllowed) -> Response[Any]:
    return _answer(request, 403, str(error))


def _not_found(request: Request[Any, Any, Any], error: NotFound | UnknownPack) -> Response[Any]:
    return _answer(request, 404, str(error))


def _stale(request: Request[Any, Any, Any], error: Stale) -> Response[Any]:
    return _answer(request, 409, str(error))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    Refused: _refused,
    NotAllowed: _not_allowed,
    NotFound: _not_found,
    UnknownPack: _not_found,
    Stale: _stale,
    ValidationException: _validation_error,
    HTTPException: _http_error,
}
