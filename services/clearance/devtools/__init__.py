"""Developer tooling: importers and builders of data from public sources (not used at runtime)."""
