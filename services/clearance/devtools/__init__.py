"""Tooling around the product: importers, builders and evaluators of data from ``../shared``
(not imported by the runtime)."""
