"""cerial's built-in handlers, one module per type family.

The registry calls :func:`load_all` the first time its table is used (importing every
handler is the costly part of cerial, and deserializing needs only the modules that
hold the rebuild functions its bytes name). Types that live in a module cerial
should not import at all unless the program does are registered by name with
``register_lazy`` below. To add a type: write one small module here with a
``_<type>_reduce`` function decorated with ``@register(Type)``, name it in
``_MODULES`` (or in ``register_lazy``), and add a sample object to the tests' catalogue.
"""

from __future__ import annotations

import importlib

from .._registry import register_lazy

__all__ = ("load_all",)

_MODULES = (
    "_classes",
    "_contextvars",
    "_descriptors",
    "_exceptions",
    "_files",
    "_functions",
    "_iterators",
    "_logging",
    "_modules",
    "_queues",
    "_sync",
    "_weakrefs",
)


def load_all() -> None:
    """Import every handler module; each registers its reducers."""
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")


register_lazy("tempfile._TemporaryFileWrapper", f"{__name__}._tempfiles")
