"""Reconnector placeholders, and ``reconnect_all`` that turns them back into resources.

A live connection (a socket, a database connection, a thread) cannot be copied into
another process. Its reducer stores a :class:`Reconnector` instead: a small picklable
object that keeps what is needed to open the resource again (address, database path,
options), but never a password. On the receiving side::

    placeholder (Reconnector) --reconnect(password)--> live resource

    reconnect_all(obj, **passwords)
        walks obj (attributes, __slots__, dict values, list/tuple/set items)
        and replaces every placeholder with placeholder.reconnect(<its password>)

A new resource is one small module: a ``Reconnector`` subclass with a ``type_key`` and
a ``_connect(password)`` method, and a reducer registered for the resource's type that
returns ``(TheReconnector, (metadata,))``. See ``_socket.py`` and ``_sqlite.py``.
"""

from __future__ import annotations

import types
import weakref
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

from .._errors import CerialError

__all__ = ("ReconnectError", "Reconnector", "reconnect_all", "without_secrets")

#: Metadata keys (and driver parameters) with one of these in their name hold secrets.
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "credential",
    "authorization",
)
_ATOMS = (type(None), bool, int, float, complex, str, bytes, bytearray, range)
_OPAQUE = (
    *weakref.ProxyTypes,  # first: anything else asked of a dead proxy raises
    weakref.ref,
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
    types.GeneratorType,
)


class ReconnectError(CerialError, ConnectionError):
    """Raised when a :class:`Reconnector` cannot bring its resource back.

    The message names the attribute the placeholder was found at, the resource type,
    where it pointed (host/port, database) and the driver's own message, never the
    password. Also a ``ConnectionError``, so existing ``except OSError`` clauses work.
    """


class Reconnector:
    """A placeholder for a resource that could not travel, with what it takes to reopen it.

    Attributes:
        type_key: the resource's ``"module.ClassName"`` (e.g. ``"sqlite3.Connection"``);
            the key of the password map of :func:`reconnect_all`.
        type_aliases: other spellings of ``type_key`` that the password map accepts too
            (e.g. ``"psycopg2.extensions.connection"``, where the class really lives).
        attr_name: the attribute or key the placeholder was found at by
            :func:`reconnect_all` (``None`` at the top level or before).
        metadata: the connection details (never a password).
        note: a human note about what did not travel, or ``None``.

    Subclasses set ``type_key`` and implement ``_connect(password)``; ``reconnect`` wraps
    their failures in :class:`ReconnectError`.

    >>> r = Reconnector({"host": "db.local", "port": 5432})
    >>> r.metadata["port"]
    5432
    """

    type_key: ClassVar[str] = "object"
    type_aliases: ClassVar[tuple[str, ...]] = ()
    #: False for resources that can never be rebuilt: ``reconnect_all`` leaves them in place.
    reconnectable: ClassVar[bool] = True

    def __init__(
        self,
        metadata: Mapping[str, Any] | None = None,
        *,
        attr_name: str | None = None,
        note: str | None = None,
    ) -> None:
        if metadata is not None and not isinstance(metadata, Mapping):
            raise TypeError(f"Reconnector metadata must be a dict, not {type(metadata).__name__}")
        metadata = dict(metadata or {})
        for key in metadata:
            if not isinstance(key, str):
                raise TypeError(f"Reconnector metadata keys must be str, not {type(key).__name__}")
            if _is_secret(key):
                raise ValueError(
                    f"Reconnector metadata must never hold a secret (key {key!r}): "
                    "passwords are given to reconnect() / reconnect_all() instead"
                )
        self.metadata = metadata
        self.attr_name = attr_name
        self.note = note

    def reconnect(self, password: str | None = None) -> Any:
        """Open the resource again and return it (a new live object).

        Raises :class:`ReconnectError` (naming attribute, type and target, never the
        password) when the resource cannot be opened.
        """
        if password is not None and not isinstance(password, str):
            raise TypeError(f"password must be a str or None, not {type(password).__name__}")
        try:
            return self._connect(password)
        except ReconnectError:
            raise
        except Exception as error:
            message = f"{type(error).__name__}: {str(error).strip()}"  # (libpq ends in "\n")
            cause: BaseException | None = error
            if password and password in message:
                message = message.replace(password, "***")
                cause = None  # a driver message that quotes the password must not survive
            raise ReconnectError(self._failure_message(message)) from cause

    def _connect(self, password: str | None) -> Any:
        raise ReconnectError(self._failure_message(f"{type(self).__name__} cannot reconnect"))

    def describe(self) -> str:
        """Where the resource pointed, for messages: ``host:port``, database, address."""
        meta = self.metadata
        if "host" in meta:
            where = str(meta["host"])
            if meta.get("port") is not None:
                where += f":{meta['port']}"
            if meta.get("database"):
                where += f"/{meta['database']}"
            return where
        for key in ("database", "peer", "local", "path", "name"):
            if meta.get(key) not in (None, ""):
                return f"{key} {meta[key]!r}"
        return "no address"

    def _failure_message(self, reason: str) -> str:
        where = "at the top level" if self.attr_name is None else f"at attribute {self.attr_name!r}"
        return f"cannot reconnect {self.type_key} {where} ({self.describe()}): {reason}"

    def __repr__(self) -> str:
        attr = "" if self.attr_name is None else f" attr={self.attr_name!r}"
        return f"<Reconnector {self.type_key}{attr} {self.describe()}>"

    def __getattr__(self, name: str) -> Any:
        # Only reached for missing attributes: say why the live API is not here.
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(
            f"{type(self).__name__} has no attribute {name!r}: it is a placeholder for a "
            f"{self.type_key} that could not travel; call cerial.reconnect_all(obj) or "
            ".reconnect() to get a live one"
        )


def without_secrets(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without the entries whose name says they hold a secret.

    For drivers whose connection parameters include secrets besides the password
    (libpq's ``sslpassword``, redis' ``ssl_password``): such values never travel, and
    reconnecting opens the resource without them.

    >>> without_secrets({"host": "db", "password": "pw", "sslpassword": "key-pw"})
    {'host': 'db'}
    """
    return {key: value for key, value in params.items() if not _is_secret(key)}


def _is_secret(key: str) -> bool:
    name = key.lower().replace("-", "_")  # (HTTP headers: "X-Api-Key")
    return any(word in name for word in _SECRET_WORDS)


def _check_passwords(passwords: dict[str, Any]) -> dict[str, Mapping[str, str | None]]:
    for type_key, table in passwords.items():
        if not isinstance(table, Mapping):
            raise TypeError(
                f"reconnect_all password for {type_key!r} must be a dict like "
                f"{{'*': default, 'attr_name': specific}}, not {type(table).__name__}"
            )
        for attr, secret in table.items():
            if not isinstance(attr, str):
                raise TypeError(
                    f"reconnect_all password keys for {type_key!r} must be attribute names "
                    f"or '*', not {type(attr).__name__}"
                )
            if secret is not None and not isinstance(secret, str):
                raise TypeError(
                    f"reconnect_all password for {type_key!r}[{attr!r}] must be a str or "
                    f"None, not {type(secret).__name__}"
                )
    return passwords


class _Walk:
    """One ``reconnect_all`` traversal: visits each container once, keeps replacements."""

    def __init__(self, passwords: Mapping[str, Mapping[str, str | None]]) -> None:
        self.passwords = passwords
        self.done: dict[int, Any] = {}
        self.keep: list[Any] = []  # keeps visited objects alive, so ids stay unique

    def password_for(self, placeholder: Reconnector) -> str | None:
        # The type key and its aliases form one table; on a clash the type key wins.
        table: dict[str, str | None] = {}
        for key in reversed((placeholder.type_key, *placeholder.type_aliases)):
            table.update(self.passwords.get(key) or {})
        if placeholder.attr_name is not None and placeholder.attr_name in table:
            return table[placeholder.attr_name]
        return table.get("*")

    def visit(self, obj: Any, name: str | None) -> Any:
        if type(obj) in _ATOMS or isinstance(obj, _OPAQUE):
            return obj
        key = id(obj)
        if key in self.done:
            return self.done[key]
        self.done[key] = obj
        self.keep.append(obj)
        if isinstance(obj, Reconnector):
            if not obj.reconnectable:
                return obj
            obj.attr_name = name
            live = obj.reconnect(self.password_for(obj))
            self.done[key] = live
            return live
        if isinstance(obj, tuple):
            items = [self.visit(item, name) for item in obj]
            if any(new is not old for new, old in zip(items, obj, strict=True)):
                obj = self.done[key] = _remake_tuple(obj, items)
        elif isinstance(obj, frozenset):
            items = [self.visit(item, name) for item in obj]
            if any(new is not old for new, old in zip(items, obj, strict=True)):
                obj = self.done[key] = type(obj)(items)
        elif isinstance(obj, dict):
            for k, value in list(obj.items()):
                new = self.visit(value, k if isinstance(k, str) else name)
                if new is not value:
                    obj[k] = new
        elif isinstance(obj, (list, deque)):
            for i, value in enumerate(list(obj)):
                new = self.visit(value, name)
                if new is not value:
                    obj[i] = new
        elif isinstance(obj, set):
            for value in list(obj):
                new = self.visit(value, name)
                if new is not value:
                    obj.discard(value)
                    obj.add(new)
        self._visit_attributes(obj)
        return obj

    def _visit_attributes(self, obj: Any) -> None:
        # Read the stored values themselves, never through the object's __getattr__ or
        # __getattribute__ (user code that may raise, or compute something else).
        try:
            namespace = object.__getattribute__(obj, "__dict__")
        except AttributeError:
            namespace = None
        if isinstance(namespace, dict):
            for attr, value in list(namespace.items()):
                new = self.visit(value, attr)
                if new is not value:
                    _force_setattr(obj, attr, new)
        for cls in type(obj).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                private = slot.startswith("__") and not slot.endswith("__")
                attr = f"_{cls.__name__.lstrip('_')}{slot}" if private else slot
                member = cls.__dict__.get(attr)
                if not isinstance(member, types.MemberDescriptorType):
                    continue  # "__dict__", "__weakref__", or a slot a subclass replaced
                try:
                    value = member.__get__(obj, cls)
                except AttributeError:  # an empty slot
                    continue
                new = self.visit(value, slot)
                if new is not value:
                    _force_setattr(obj, attr, new)


def _remake_tuple(old: tuple[Any, ...], items: list[Any]) -> tuple[Any, ...]:
    cls = type(old)
    if cls is tuple:
        return tuple(items)
    make = getattr(cls, "_make", None)  # namedtuples
    return make(items) if callable(make) else cls(items)


def _force_setattr(obj: Any, attr: str, value: Any) -> None:
    try:
        setattr(obj, attr, value)
    except (AttributeError, TypeError):  # frozen dataclasses, read-only properties
        object.__setattr__(obj, attr, value)


def reconnect_all(obj: Any, **passwords: Mapping[str, str | None]) -> Any:
    """Replace every :class:`Reconnector` inside ``obj`` with a live resource.

    Walks attributes (``__dict__`` and ``__slots__``), dict values and list, tuple and
    set items (tuples are rebuilt), visiting each object once. Classes, modules and
    functions are not entered. Each placeholder is replaced by
    ``placeholder.reconnect(password)``; its password comes from the keyword map
    ``{"module.ClassName": {"*": default, "attr_name": specific}}`` (the attribute's own
    entry beats ``"*"``). Placeholders shared by several attributes become one resource.
    Returns ``obj`` (the live resource when ``obj`` itself is a placeholder, a new tuple
    when ``obj`` is a tuple that held one). A graph nested deeper than the recursion
    limit raises ``RecursionError``. Attributes are read as stored, without calling the
    object's ``__getattr__``.

    Example (in the receiving process)::

        service = cerial.deserialize(data)      # service.db is a Reconnector
        reconnect_all(service, **{"psycopg2.Connection": {"*": "pw", "audit_db": "other"}})
        service.db.cursor()                      # a live connection again
    """
    walk = _Walk(_check_passwords(passwords))
    try:
        return walk.visit(obj, None)
    except RecursionError as error:
        raise RecursionError(
            "reconnect_all(): the object is nested too deeply to walk within the recursion "
            f"limit ({error})"
        ) from error
