"""The `nas` application: CLI, search, reports, export and distillation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mobilebert-nas")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
