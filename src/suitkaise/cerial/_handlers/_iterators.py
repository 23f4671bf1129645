"""Generators travel as the items they have left; coroutines cannot travel.

A generator's suspended frame cannot be copied, so serializing a generator runs it to
the end and stores the items it yields. **This consumes the original**: afterwards it
is exhausted (a generator cannot be rewound). The copy is a generator again
(``inspect.isgenerator`` holds) that yields those items, with the original's name.

``serialize`` may pickle an object twice (fast pass, then full pass); the drained
items are kept in the call's session memo, so the second pass reuses them instead of
draining an exhausted generator. A generator that raises while being drained makes
serialization fail with that error; one that yields more than
:data:`MAX_GENERATOR_ITEMS` items is taken to be endless and refused.

Coroutines, async generators and running generators raise ``TypeError``: their state
lives in a frame that is suspended (or running) in this process.
"""

from __future__ import annotations

import itertools
import types
from collections.abc import Generator, Iterable
from typing import Any, cast

from .. import _session
from .._registry import register

__all__ = ("MAX_GENERATOR_ITEMS",)

#: More items than this and the generator is refused as (probably) endless.
MAX_GENERATOR_ITEMS = 10_000_000


def _replay(items: Iterable[Any]) -> Generator[Any, None, None]:
    yield from items


def _rebuild_generator(items: list[Any], name: str, qualname: str) -> Generator[Any, None, None]:
    # Calling a generator function makes a GeneratorType, which has writable names.
    gen = cast("types.GeneratorType[Any, None, None]", _replay(items))
    gen.__name__ = name
    gen.__qualname__ = qualname
    return gen


def _drain(gen: types.GeneratorType[Any, Any, Any]) -> list[Any]:
    if gen.gi_running:
        raise TypeError(
            f"cannot serialize generator {gen.__qualname__!r} from inside itself: it is running"
        )
    items = list(itertools.islice(gen, MAX_GENERATOR_ITEMS + 1))
    if len(items) > MAX_GENERATOR_ITEMS:
        raise TypeError(
            f"cannot serialize generator {gen.__qualname__!r}: it yielded more than "
            f"{MAX_GENERATOR_ITEMS:,} items and looks endless (a generator travels as "
            "its remaining items)"
        )
    return items


def _drain_or_error(gen: types.GeneratorType[Any, Any, Any]) -> tuple[list[Any], Exception | None]:
    try:
        return _drain(gen), None
    except Exception as error:
        # The generator is spent now: a second pass must fail the same way, not send
        # an empty copy.
        return [], error


@register(types.GeneratorType)
def _generator_reduce(gen: types.GeneratorType[Any, Any, Any]) -> tuple[Any, ...]:
    items, error = _session.once(gen, lambda: _drain_or_error(gen))
    if error is not None:
        raise error
    return _rebuild_generator, (items, gen.__name__, gen.__qualname__)


def _frame_reduce(obj: Any) -> tuple[Any, ...]:
    kind = type(obj).__name__.replace("_", " ")
    raise TypeError(
        f"cannot serialize {kind} {getattr(obj, '__qualname__', '?')!r}: its suspended "
        "frame belongs to this process; await or iterate it here and send the results"
    )


for _frame_type in (types.CoroutineType, types.AsyncGeneratorType):
    register(_frame_type, _frame_reduce)
