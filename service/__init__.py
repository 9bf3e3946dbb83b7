"""Passerelle's service side: the data home, the store, the API and the command line."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("passerelle")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
