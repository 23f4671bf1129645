"""Shared pieces of the Reconnector tests (imported as ``reconnect_support``).

The servers come from ``examples/autoreconnect_servers.py``, the code the examples use
too; the constants are the passwords processing.md's examples use.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from _support import EXAMPLES

__all__ = (
    "ANALYTICS_PASSWORD",
    "APP_PASSWORD",
    "EXAMPLES",
    "REDIS_PASSWORD",
    "servers_module",
)



def _load(name: str) -> Any:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {EXAMPLES / name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


servers_module = _load("autoreconnect_servers")
APP_PASSWORD: str = servers_module.APP_PASSWORD
ANALYTICS_PASSWORD: str = servers_module.ANALYTICS_PASSWORD
REDIS_PASSWORD: str = servers_module.REDIS_PASSWORD
