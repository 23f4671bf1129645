"""``tempfile.NamedTemporaryFile`` objects travel as the plain file they wrap.

The copy never deletes the file: only the original owns it.
"""

from __future__ import annotations

import tempfile
from typing import Any

from .._registry import register

__all__ = ()


def _same(obj: Any) -> Any:
    return obj


@register(tempfile._TemporaryFileWrapper)
def _named_temporary_file_reduce(wrapper: Any) -> tuple[Any, ...]:
    return _same, (wrapper.file,)
