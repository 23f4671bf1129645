"""Where a pool's tasks run: the backends behind :class:`~.._pool.Pool`.

``Pool(backend="local")`` (the default) runs worker processes on this machine. The
interface a backend implements is :class:`Backend`; :func:`make_backend` maps the
names ``Pool`` accepts to implementations.
"""

from __future__ import annotations

from typing import Any

from ._base import Backend

__all__ = ("BACKENDS", "Backend", "make_backend")

#: The backend names ``Pool(backend=...)`` accepts.
BACKENDS: tuple[str, ...] = ("local",)


def make_backend(name: str, **options: Any) -> Backend:
    """The backend called *name*, built with *options* (see each backend)."""
    if name == "local":
        from ._local import LocalBackend

        return LocalBackend(**options)
    raise ValueError(
        f"unknown Pool backend {name!r}; the backends are: {', '.join(map(repr, BACKENDS))}"
    )
