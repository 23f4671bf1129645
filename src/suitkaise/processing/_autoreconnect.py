"""``@autoreconnect(**passwords)``: an Skprocess whose resources come back to life in its child.

An Skprocess travels to its child through cerial, where its connections (sockets,
databases, Redis, ...) become :class:`~suitkaise.cerial.Reconnector` placeholders. On a
class decorated with ``@autoreconnect(...)`` the child calls
``reconnect_all(self, **passwords)`` on the user's attributes right after the instance
arrives, before the first ``__prerun__``, and again after ``lives`` restores the state
of the last good run (a restored state holds placeholders again)::

    parent                              child
    ------                              -----
    self.db (live) --cerial--> Reconnector(host, port, dbname, user)   no password
                                 |  reconnect_hook(proc)()  (the runner, before __prerun__)
                                 v
                               self.db (live)  <- password from the class's map

What travels where (the passwords):

- They are stored on the class, as ``cls.__autoreconnect__`` (an :class:`AutoReconnect`),
  never on the instance: not in its attributes, not in any Reconnector's metadata,
  not in error messages (a driver message that quotes the password is masked).
- A class that can be imported (defined at module level of an importable module) is
  sent by reference: the child imports it, which runs the decorator there, so the
  passwords never enter the bytes sent to the child.
- Under the fork start method the child starts with a copy of the parent's memory,
  class included: nothing about the class is serialized at all.
- A class sent by value (defined in ``__main__`` under spawn/forkserver, or inside a
  function) carries its attributes with it, and so this map: the passwords then travel
  inside the payload bytes, over the private pipe from the parent to its own child,
  as the rest of the user's code does. To keep them out of every byte sent, define the
  class in an importable module, or read them in the child:
  ``reconnect_all(self, ...)`` in ``__prerun__`` with ``os.environ[...]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from ..cerial import reconnect_all
from ..cerial._reconnect._base import _check_passwords
from ._lifecycle import INTERNALS

__all__ = ("AUTORECONNECT", "AutoReconnect", "autoreconnect", "reconnect_hook")

#: The class attribute that holds an :class:`AutoReconnect`.
AUTORECONNECT = "__autoreconnect__"

C = TypeVar("C", bound=type)


class AutoReconnect:
    """The password map of an ``@autoreconnect`` class; its repr hides the passwords."""

    __slots__ = ("passwords",)

    def __init__(self, passwords: Mapping[str, Mapping[str, str | None]]) -> None:
        self.passwords = {key: dict(table) for key, table in passwords.items()}

    def reconnect(self, proc: Any) -> None:
        """Replace the placeholders among *proc*'s attributes with live resources.

        Walks the user's attributes only (not the process's internals), so each
        placeholder is found under its attribute's name: ``self.analytics_db`` takes
        the password map's ``"analytics_db"`` entry.
        """
        attributes = proc.__dict__
        user = {name: value for name, value in attributes.items() if name != INTERNALS}
        reconnect_all(user, **self.passwords)
        for name, value in user.items():
            if attributes.get(name) is not value:
                attributes[name] = value

    def __repr__(self) -> str:
        shown = {key: sorted(table) for key, table in self.passwords.items()}
        return f"<autoreconnect passwords for {shown}>"


@overload
def autoreconnect(cls: C, /) -> C: ...
@overload
def autoreconnect(**passwords: Mapping[str, str | None]) -> Callable[[C], C]: ...


def autoreconnect(cls: Any = None, /, **passwords: Mapping[str, str | None]) -> Any:
    """Class decorator: reconnect an Skprocess's resources in its child, before ``__prerun__``.

    ``passwords`` is the map of :func:`suitkaise.cerial.reconnect_all`:
    ``{"module.ClassName": {"*": default, "attr_name": specific}}``, where an attribute's
    own entry beats ``"*"``. Resources that need no password (sockets, sqlite files,
    threads) need no entry: ``@autoreconnect()``. Subclasses inherit the behaviour;
    decorating a subclass again replaces its map.

    A resource that cannot be reopened fails the run before ``__prerun__``: a
    ``PreRunError`` whose ``original_error`` is the :class:`~suitkaise.cerial.ReconnectError`
    naming the attribute, the type, the address and the driver's message (never the
    password); ``lives`` retries it like any failed run.

    Example::

        @autoreconnect(**{
            "psycopg2.Connection": {"*": "secret", "analytics_db": "other_pass"},
            "redis.Redis": {"*": "redis_pass"},
        })
        class Report(Skprocess):
            def __init__(self):
                self.db = psycopg2.connect(host="db", dbname="app", user="app", password="secret")
                self.cache = redis.Redis(host="cache", password="redis_pass")

            def __run__(self):
                with self.db.cursor() as cur:  # a live connection again
                    ...

    See the module docstring for where the passwords travel.
    """
    if cls is not None:  # bare @autoreconnect: no passwords
        if passwords or not isinstance(cls, type):
            raise TypeError(
                "autoreconnect takes the password map as keywords: "
                "@autoreconnect(**{'psycopg2.Connection': {'*': 'pw'}}), or @autoreconnect()"
            )
        return autoreconnect()(cls)
    config = AutoReconnect(_check_passwords(passwords))

    def decorate(target: C) -> C:
        from ._process import Skprocess  # (here: the runner imports this module)

        if not (isinstance(target, type) and issubclass(target, Skprocess)):
            raise TypeError(
                f"@autoreconnect decorates Skprocess subclasses, not {target!r}; elsewhere "
                "call suitkaise.cerial.reconnect_all(obj, **passwords) after deserializing"
            )
        setattr(target, AUTORECONNECT, config)
        return target

    return decorate


def reconnect_hook(proc: Any) -> Callable[[], None] | None:
    """For the runner: what to call before the first ``__prerun__`` (and after a
    ``lives`` restore) to reconnect *proc*, or ``None`` when its class is not decorated.
    """
    config = getattr(type(proc), AUTORECONNECT, None)
    if not isinstance(config, AutoReconnect):
        return None
    return lambda: config.reconnect(proc)
