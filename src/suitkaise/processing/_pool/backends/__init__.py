"""Where a pool's tasks run: the backends behind :class:`~.._pool.Pool`.

``Pool()`` runs worker processes on this machine (``"local"``); ``Pool(cluster=...)``
runs the same chunks on a Dask cluster (``"dask"``). The interface a backend
implements is :class:`Backend`; :func:`make_backend` maps names to implementations
(a Ray backend would be one more name and one more module).
"""

from __future__ import annotations

from typing import Any

from ._base import Backend

__all__ = ("BACKENDS", "Backend", "make_backend")

#: The backends :func:`make_backend` knows (``Pool()`` uses "local", ``Pool(cluster=...)``
#: "dask").
BACKENDS: tuple[str, ...] = ("local", "dask")


def make_backend(name: str, **options: Any) -> Backend:
    """The backend called *name*, built with *options* (see each backend)."""
    if name == "local":
        from ._local import LocalBackend

        return LocalBackend(**options)
    if name == "dask":
        from ._dask import DaskBackend

        return DaskBackend(**options)
    raise ValueError(
        f"unknown Pool backend {name!r}; the backends are: {', '.join(map(repr, BACKENDS))}"
    )
