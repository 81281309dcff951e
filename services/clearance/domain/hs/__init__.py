"""HS classification: descriptions -> HS subheadings with a calibrated confidence (pure)."""

from clearance.domain.hs.classifier import HsClassifier, HsSuggestion, bundled_classifier

__all__ = ["HsClassifier", "HsSuggestion", "bundled_classifier"]
