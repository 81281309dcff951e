"""Tooling around the product: builders and evaluators of data from ``../shared`` (not imported by
the runtime)."""
