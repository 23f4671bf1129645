"""``process_config``: the settings of one process, open for changes only in ``__init__``.

Each instance owns a :class:`ProcessConfig`. A :class:`Gate` shared by the config and
its :class:`Timeouts` counts how many ``__init__`` calls of that instance are running;
a setting may only change while that count is above zero. The config travels to the
child with the instance and arrives there closed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

__all__ = ("Gate", "ProcessConfig", "Timeouts")


class Gate:
    """Open while at least one ``__init__`` of the owning instance is running."""

    __slots__ = ("depth", "owner")

    def __init__(self, owner: str) -> None:
        self.depth = 0
        self.owner = owner

    def check(self, setting: str) -> None:
        if self.depth <= 0:
            raise AttributeError(
                f"{self.owner}: process_config can only be changed inside __init__ "
                f"(tried to set process_config.{setting} elsewhere)"
            )


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{what} must be a number of seconds or None, got {type(value).__name__}: {value!r}"
        )
    number = float(value)
    if math.isnan(number) or number <= 0:
        raise ValueError(f"{what} must be more than zero seconds or None, got {value!r}")
    return number


def _seconds_or_none(what: str) -> Callable[[object], float | None]:
    def check(value: object) -> float | None:
        if value is None:
            return None
        number = _number(value, what)
        return None if math.isinf(number) else number

    return check


def _count(what: str, *, allow_none: bool) -> Callable[[object], int | None]:
    def check(value: object) -> int | None:
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            kind = "an int or None" if allow_none else "an int"
            raise TypeError(f"{what} must be {kind}, got {type(value).__name__}: {value!r}")
        if value < 1:
            raise ValueError(f"{what} must be 1 or more, got {value!r}")
        return int(value)

    return check


class _Settings:
    """Attribute access over a dict of checked values, writable only through the gate."""

    __slots__ = ("_gate", "_values")
    _CHECKS: dict[str, Callable[[object], Any]] = {}
    _PREFIX = ""

    def __init__(self, gate: Gate, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_gate", gate)
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(self._unknown(name)) from None

    def __setattr__(self, name: str, value: object) -> None:
        check = self._CHECKS.get(name)
        if check is None:
            raise AttributeError(self._unknown(name))
        self._gate.check(self._PREFIX + name)
        self._values[name] = check(value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"process_config settings cannot be deleted ({self._PREFIX}{name})")

    def _unknown(self, name: str) -> str:
        return (
            f"process_config{'.' + self._PREFIX[:-1] if self._PREFIX else ''} has no setting "
            f"{name!r} (its settings are: {', '.join(self._settings())})"
        )

    def _settings(self) -> list[str]:
        return list(self._CHECKS)

    def values(self) -> dict[str, Any]:
        """The settings as a dict, to read only (``timeouts`` of a config is a
        :class:`Timeouts`); cheaper than reading the settings one by one."""
        return self._values

    def __dir__(self) -> list[str]:
        return self._settings()

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._settings())
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self._settings())

    __hash__ = None  # type: ignore[assignment]


class Timeouts(_Settings):
    """Time limits (seconds, or ``None`` for none) for each lifecycle section.

    A section that runs longer raises :class:`ProcessTimeoutError` in the child; a child
    that does not respond is killed by the parent a grace period after its deadline.
    """

    __slots__ = ()
    _SECTIONS = ("prerun", "run", "postrun", "onfinish", "result", "error")
    _CHECKS = {name: _seconds_or_none(f"process_config.timeouts.{name}") for name in _SECTIONS}
    _PREFIX = "timeouts."

    def __init__(self, gate: Gate, values: dict[str, Any] | None = None) -> None:
        super().__init__(gate, dict.fromkeys(self._SECTIONS) | (values or {}))

    def any(self) -> bool:
        """True when at least one section has a time limit."""
        return any(v is not None for v in self._values.values())

    def __reduce__(self) -> tuple[Any, ...]:
        return (Timeouts, (Gate(self._gate.owner), dict(self._values)))


class ProcessConfig(_Settings):
    """The settings of a process; change them in ``__init__`` only.

    - ``runs``: how many runs before finishing (``None``: until ``stop()``).
    - ``join_in``: seconds after which the process stops by itself, after its current
      run (``None``: no limit).
    - ``lives``: attempts in all (1: no retries); a failed run is retried from
      ``__prerun__`` with the state saved at the end of the last successful run.
    - ``timeouts.prerun`` ... ``timeouts.error``: time limit per section (``None``: none).

    Example::

        >>> from suitkaise.processing import Skprocess
        >>> class Job(Skprocess):
        ...     def __init__(self):
        ...         self.process_config.runs = 3
        ...         self.process_config.timeouts.run = 5.0
        ...     def __run__(self):
        ...         pass
        >>> Job().process_config.runs
        3
    """

    __slots__ = ()
    _CHECKS = {
        "runs": _count("process_config.runs", allow_none=True),
        "join_in": _seconds_or_none("process_config.join_in"),
        "lives": _count("process_config.lives", allow_none=False),
    }

    def __init__(self, owner: str = "Skprocess", values: dict[str, Any] | None = None,
                 timeouts: dict[str, Any] | None = None) -> None:
        gate = Gate(owner)
        merged = {"runs": None, "join_in": None, "lives": 1} | (values or {})
        merged["timeouts"] = Timeouts(gate, timeouts)
        super().__init__(gate, merged)

    def __setattr__(self, name: str, value: object) -> None:
        if name == "timeouts":
            raise AttributeError(
                "process_config.timeouts cannot be replaced; set its fields instead, "
                "e.g. process_config.timeouts.run = 5.0"
            )
        super().__setattr__(name, value)

    def _settings(self) -> list[str]:
        return [*self._CHECKS, "timeouts"]

    @property
    def gate(self) -> Gate:
        """The gate that opens this config while ``__init__`` runs."""
        return self._gate

    def __reduce__(self) -> tuple[Any, ...]:
        values = {k: v for k, v in self._values.items() if k != "timeouts"}
        return (_rebuild_config, (self._gate.owner, values, dict(self.timeouts._values)))


def _rebuild_config(owner: str, values: dict[str, Any], timeouts: dict[str, Any]) -> ProcessConfig:
    return ProcessConfig(owner, values, timeouts)
