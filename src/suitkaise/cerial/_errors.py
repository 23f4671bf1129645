"""The serializer's exceptions.

Each one also inherits from the matching :mod:`pickle` error, so code that already
catches ``pickle.PicklingError`` or ``pickle.UnpicklingError`` keeps working.
"""

from __future__ import annotations

import pickle

__all__ = ("CerialError", "DeserializationError", "SerializationError")


class CerialError(pickle.PickleError):
    """Base class of every error raised by :mod:`suitkaise.cerial`."""


class SerializationError(CerialError, pickle.PicklingError):
    """Raised by ``serialize`` when an object (or something inside it) cannot be stored.

    With ``serialize(obj, debug=True)`` the message names the path through the object
    graph to the offending object, e.g. ``obj.config['handler']``, and its type.
    Attributes: ``path`` (``str`` or ``None``) and ``offending_type`` (``type`` or ``None``).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        offending_type: type | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.offending_type = offending_type


class DeserializationError(CerialError, pickle.UnpicklingError):
    """Raised by ``deserialize`` for bytes that are not intact cerial output.

    Empty, truncated, foreign (plain pickle, random) or corrupted input always raises
    this error; so does a failure while rebuilding an object (the original error is
    the ``__cause__``).
    """
