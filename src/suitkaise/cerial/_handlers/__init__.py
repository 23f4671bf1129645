"""cerial's built-in handlers, one module per type family.

Importing this package registers them all, except those whose type lives in a module
cerial should not import up front: they are registered by name with
``register_lazy`` below. To add a type: write one small module here with a
``_<type>_reduce`` function decorated with ``@register(Type)``, name it in
``_MODULES`` (or in ``register_lazy``), and add a sample object to the tests' catalogue.
"""

from __future__ import annotations

import importlib

from .._registry import register_lazy

__all__ = ()

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
for _module in _MODULES:
    importlib.import_module(f"{__name__}.{_module}")  # each registers its reducers
del _module

register_lazy("tempfile._TemporaryFileWrapper", f"{__name__}._tempfiles")
