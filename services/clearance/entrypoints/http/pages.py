"""How a console page is answered: its template with the signed-in key and the officer's
language (``ui``, and ``_`` for its texts), used by every console controller and the error map."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from clearance.domain.access import ApiKey
from clearance.entrypoints.http.i18n import LANGUAGE_COOKIE, Ui, language_of

__all__ = ["page", "ui_of"]


def ui_of(request: Request[Any, Any, Any]) -> Ui:
    """The interface in the language this request gets (the officer's choice, else the
    browser's)."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return Ui.for_language(language_of(request.headers.get("accept-language"), chosen))


def page(
    name: str, caller: ApiKey | None, ui: Ui, status_code: int = 200, **context: Any
) -> Template:
    """The page ``name`` for ``caller``, written in ``ui``'s language."""
    return Template(
        template_name=name,
        context={"caller": caller, "ui": ui, "_": ui.t, **context},
        status_code=status_code,
    )
