"""Telos: purpose discovery for communities."""

__version__ = "0.1.0"
