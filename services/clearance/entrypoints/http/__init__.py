"""The HTTP API and the officer console (litestar), wired in ``clearance.bootstrap``.

* ``app.py``: ``create_app(settings)`` assembles the pieces below;
* ``controllers/``: one controller per resource (quotes, packs, health, decisions, reports,
  orders, inspections, keys, console, console_queue); handlers call the service layer and
  nothing else;
* ``dependencies.py``: what a handler may declare (``Injected[...]``) and its provider;
* ``state.py``: the parts the app is built from, and the lifespan that opens the database pool
  and the producer (``bootstrap.api_ports``), the ops listener and the heartbeat;
* ``guards.py``, ``auth.py``: bearer keys and roles, per-key rate limits, the call log;
* ``errors.py``: the one map from errors to answers (JSON for the API, a page for the console);
* ``forms.py``: the console's forms as msgspec Structs;
* ``pages.py``, ``i18n.py``, ``vietnamese.py``, ``charts.py``: the console's pages in the
  officer's language (negotiation, amounts, dates, the Vietnamese texts) and its SVG charts;
* ``metrics.py``, ``openapi.py``: request metrics, the OpenAPI document's custom types.
"""
