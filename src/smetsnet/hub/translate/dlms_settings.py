"""Translators: see the package docstring (filled by its owner)."""
