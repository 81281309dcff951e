"""The API's error answers: ``{"status_code", "detail", "extra": [{"path", "message"}]}``.

A client always learns what to fix: a 422 names the JSON path of the bad field, a 400 says the body
is not JSON, 401/403/404/409/413/429 say why in ``detail``.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from clearance import messages as m
from clearance.service.access import NotAllowed
from clearance.service.intake import NotFound, Refused, Stale

__all__ = ["EXCEPTION_HANDLERS", "Unprocessable", "error_response"]


def error_response(
    status_code: int, detail: str, extra: list[dict[str, str]] | None = None
) -> Response[Any]:
    """The error body every failure uses."""
    body = {"status_code": status_code, "detail": detail, "extra": extra or []}
    return Response(body, status_code=status_code, media_type=MediaType.JSON)


def _validation_error(_: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    extra = []
    for problem in error.extra if isinstance(error.extra, list) else []:
        key = str(problem.get("key", ""))
        # litestar names the body "data" and its fields relative to it ("items[0].unit_price")
        base = "$" if key in ("", "data") else f"$.{key}"
        message, path = m.refine_path(str(problem.get("message", "")), base)
        extra.append({"path": path or base, "message": message, "code": "SCHEMA_VIOLATION"})
    if not extra:  # the body is not JSON at all: nothing to point at
        return error_response(400, f"request body is not valid JSON: {error.detail}")
    detail = f"invalid request: {extra[0]['message']} at {extra[0]['path']}"
    return error_response(HTTP_422_UNPROCESSABLE_ENTITY, detail, extra)


def _http_error(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    return error_response(error.status_code, error.detail)


class Unprocessable(HTTPException):
    """422 with the JSON path of the field to fix, and the code a dead letter would carry."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, message: str, path: str, code: m.DeadLetterCode | None = None) -> None:
        problem = {"path": path, "message": message}
        if code is not None:
            problem["code"] = code
        super().__init__(detail=f"{message} at {path}", extra=[problem])


def _unprocessable(_: Request[Any, Any, Any], error: Unprocessable) -> Response[Any]:
    extra = error.extra if isinstance(error.extra, list) else []
    return error_response(error.status_code, error.detail, extra)


def _refused(_: Request[Any, Any, Any], error: Refused) -> Response[Any]:
    problem = {"path": error.path, "message": error.message}
    if error.code is not None:
        problem["code"] = error.code
    return error_response(HTTP_422_UNPROCESSABLE_ENTITY, str(error), [problem])


def _not_allowed(_: Request[Any, Any, Any], error: NotAllowed) -> Response[Any]:
    return error_response(403, str(error))


def _not_found(_: Request[Any, Any, Any], error: NotFound) -> Response[Any]:
    return error_response(404, str(error))


def _stale(_: Request[Any, Any, Any], error: Stale) -> Response[Any]:
    return error_response(409, str(error))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    Refused: _refused,
    NotAllowed: _not_allowed,
    NotFound: _not_found,
    Stale: _stale,
    ValidationException: _validation_error,
    Unprocessable: _unprocessable,
    HTTPException: _http_error,
}
