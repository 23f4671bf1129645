"""The opt-in progress bar of ``map``, ``imap`` and ``unordered_imap`` (tqdm).

``progress=False`` (the default): no bar. ``progress=True``: a bar on ``stderr`` when
it is a terminal, none otherwise (logs and CI output stay clean). ``progress="always"``:
a bar even when ``stderr`` is not a terminal. tqdm is optional; asking for a bar
without it raises ``ModuleNotFoundError`` saying how to install it.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ("Bar", "check_progress", "open_bar")

_CHOICES = (False, True, "always")


def check_progress(value: object) -> bool | str:
    """Validate a ``progress=`` argument."""
    if value is None or value is False:
        return False
    if value is True or value == "always":
        return value
    raise ValueError(f"progress must be False, True or 'always', got {value!r}")


class Bar:
    """A no-op stand-in when no bar is shown."""

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _TqdmBar(Bar):
    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, n: int) -> None:
        if n:
            self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def open_bar(progress: bool | str, total: int | None, desc: str) -> Bar:
    """A bar for *total* tasks (``None``: unknown), or a no-op one."""
    if not progress:
        return Bar()
    stream = sys.stderr
    if progress is True:
        try:
            if stream is None or not stream.isatty():
                return Bar()
        except (AttributeError, ValueError):
            return Bar()
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "Pool(progress=...) shows its bar with tqdm, which is not installed: "
            "pip install tqdm", name="tqdm"
        ) from exc
    return _TqdmBar(tqdm(total=total, desc=desc, unit="task", file=stream, dynamic_ncols=True))
