"""The package version, one place for every page and manifest that prints it."""

__version__ = "0.1.0"
