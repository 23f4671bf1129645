"""suitkaise: run Python code across processes without the usual pain.

Submodules are imported on first use so that ``import suitkaise`` stays cheap:

>>> from suitkaise import cerial
>>> cerial.deserialize(cerial.serialize(lambda x: x + 1))(1)
2
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ("cerial", "processing", "sk", "timing")
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted((*globals(), *__all__))
