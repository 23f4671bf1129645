"""cerial's built-in handlers, one module per type family.

Importing this package registers them all. To add a type: write one small module
here with a ``_<type>_reduce`` function decorated with ``@register(Type)``, import it
below, and add a sample object to the tests' catalogue.
"""

from __future__ import annotations

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
