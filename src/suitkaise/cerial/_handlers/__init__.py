"""cerial's built-in handlers, one module per type family.

Importing this package registers them all, except those whose type lives in a module
cerial should not import up front: they are registered by name with
``register_lazy`` below. To add a type: write one small module here with a
``_<type>_reduce`` function decorated with ``@register(Type)``, import it below (or
name it in ``register_lazy``), and add a sample object to the tests' catalogue.
"""

from __future__ import annotations

from .._registry import register_lazy
from . import (
    _classes,
    _contextvars,
    _descriptors,
    _files,
    _functions,
    _iterators,
    _logging,
    _modules,
    _queues,
    _sync,
    _weakrefs,
)

__all__ = ()

register_lazy("tempfile._TemporaryFileWrapper", f"{__name__}._tempfiles")

del (
    _classes,
    _contextvars,
    _descriptors,
    _files,
    _functions,
    _iterators,
    _logging,
    _modules,
    _queues,
    _sync,
    _weakrefs,
)
