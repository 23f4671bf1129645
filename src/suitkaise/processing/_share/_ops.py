"""What the caller is about to do with an attribute or item it loads from a Share.

``share.x += v`` compiles to a read and a write (CPython 3.11 to 3.13)::

    LOAD_FAST     share
    COPY          1            <- the object is duplicated for the STORE_ATTR below
    LOAD_ATTR     x            <- Share.__getattr__("x") runs here
    <v>                           (any expression)
    BINARY_OP     13 (+=)      <- in-place operator on what LOAD_ATTR returned
    SWAP          2
    STORE_ATTR    x            <- Share.__setattr__("x", result)

Between the read and the write another process may write ``x``, so a plain proxy
loses updates. ``attribute_use()`` looks at the caller's bytecode when ``__getattr__``
runs and reports ``"+="`` (or the other in-place operator) when this load is the first
half of an augmented assignment of the same name; the Share then returns a
:class:`~._proxy.Augmented` wrapper whose in-place operator sends one atomic request,
and ``__setattr__`` skips the marker that comes back. ``share.d[k] += v`` is found the
same way by ``item_use()`` (``COPY 2; COPY 2; BINARY_SUBSCR`` ... ``SWAP 3; SWAP 2;
STORE_SUBSCR``).

It also reports two cheaper cases:

- ``LAZY``: the loaded value is only used for a further attribute, item, iteration or
  membership test (``share.timer.add_time(1)``, ``share.timer.mean``,
  ``share.d[k] = v``, ``x in share.items``); the Share returns a proxy for the name
  without asking the coordinator first, saving a round trip.
- ``METHOD``: the load is ``obj.name(...)`` (``LOAD_METHOD``), so the result is only
  called; a proxy returns a remote method without asking first.

Any other pattern (unusual bytecode) is ``VALUE``: the plain, always-correct
behaviour of asking for the value. Decisions are cached per (code object, instruction
offset).

On a Python version whose bytecode this module does not know (outside 3.11 to 3.13)
every load is ``VALUE``, so ``share.x op= v`` would be a read and then a write that
can lose updates. That must not happen silently: the store that ends such a statement
calls :func:`refuse_unsafe_update`, which raises :class:`ShareError` instead of
writing (nothing is changed), and the error says to use a method of the shared object.
"""

from __future__ import annotations

import dis
import operator
import sys
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from ._errors import ShareError

__all__ = (
    "INPLACE", "LAZY", "METHOD", "VALUE", "attribute_use", "item_use", "refuse_unsafe_update",
)

VALUE = 0
LAZY = 1
METHOD = 2

#: In-place operator symbol -> the function that applies it (``x = f(x, v)``).
INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "&=": operator.iand,
    "//=": operator.ifloordiv,
    "<<=": operator.ilshift,
    "@=": operator.imatmul,
    "*=": operator.imul,
    "%=": operator.imod,
    "|=": operator.ior,
    "**=": operator.ipow,
    ">>=": operator.irshift,
    "-=": operator.isub,
    "/=": operator.itruediv,
    "^=": operator.ixor,
}

# BINARY_OP oparg -> in-place symbol, from the interpreter's own table.
_NB_INPLACE: dict[int, str] = {
    arg: symbol
    for arg, (_, symbol) in enumerate(getattr(dis, "_nb_ops", ()))
    if symbol in INPLACE
}

_SUPPORTED = (3, 11) <= sys.version_info[:2] <= (3, 13)
_METHOD_FLAG = sys.version_info >= (3, 12)  # LOAD_ATTR's low oparg bit marks a method load
_SIMPLE_LOADS = frozenset({"LOAD_CONST", "LOAD_FAST", "LOAD_NAME", "LOAD_GLOBAL", "LOAD_DEREF",
                           "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST"})
_SUBSCRIPT_USES = frozenset({"BINARY_SUBSCR", "STORE_SUBSCR", "DELETE_SUBSCR"})
_CACHE_LIMIT = 20_000

# id(code) -> (code, instructions, offset -> index); the code object is kept so that
# its id cannot be reused while the entry exists.
_code_index: dict[int, tuple[CodeType, list[dis.Instruction], dict[int, int]]] = {}
# (id(code), offset) -> (code, decision)
_attr_cache: dict[tuple[int, int], tuple[CodeType, Any]] = {}
_item_cache: dict[tuple[int, int], tuple[CodeType, Any]] = {}


def attribute_use(frame: FrameType, name: str) -> Any:
    """How the code of *frame* uses the attribute *name* it is loading right now:
    ``VALUE``, ``LAZY``, ``METHOD`` or an in-place operator symbol such as ``"+="``.
    (``VALUE`` too when the instruction running is not a load of *name*: the lookup
    came from somewhere else, such as ``getattr()``.)"""
    code = frame.f_code
    key = (id(code), frame.f_lasti)
    hit = _attr_cache.get(key)
    if hit is None or hit[0] is not code:
        hit = (code, _decide_attribute(code, frame.f_lasti) if _SUPPORTED else (None, VALUE))
        if len(_attr_cache) >= _CACHE_LIMIT:
            _attr_cache.clear()
        _attr_cache[key] = hit
    loaded, decision = hit[1]
    return decision if loaded == name else VALUE


def item_use(frame: FrameType) -> Any:
    """``"+="`` (or another in-place symbol) when the subscript *frame* is loading is
    the first half of ``obj[key] op= v``; otherwise ``VALUE``."""
    code = frame.f_code
    key = (id(code), frame.f_lasti)
    hit = _item_cache.get(key)
    if hit is not None and hit[0] is code:
        return hit[1]
    decision = _decide_item(code, frame.f_lasti) if _SUPPORTED else VALUE
    _remember(_item_cache, key, code, decision)
    return decision


def refuse_unsafe_update(frame: FrameType, target: str) -> None:
    """On a Python version outside 3.11 to 3.13: raise :class:`ShareError` when the
    store running in *frame* (to *target*, for the message) ends ``target op= v``,
    whose read could not be made part of one atomic update."""
    if _SUPPORTED:
        return
    symbol = _augmented_store(frame)
    if symbol is None:
        return
    version = ".".join(map(str, sys.version_info[:2]))
    raise ShareError(
        f"`{target} {symbol} ...` is not atomic on Python {version} (a Share makes augmented "
        "assignments one atomic update on Python 3.11 to 3.13 only): as a read and then a "
        "write it could lose other processes' updates, so nothing was written. Call a method "
        "of a shared object instead (methods run one at a time in the coordinator), e.g. "
        "keep the value in an object with an add(n) method"
    )


_STACK_SHUFFLES = frozenset({"SWAP", "COPY", "EXTENDED_ARG", "NOP", "CACHE"})


def _augmented_store(frame: FrameType) -> str | None:
    """The in-place symbol when the STORE_ATTR/STORE_SUBSCR running in *frame* stores
    the result of an in-place operator (the end of an augmented assignment)."""
    instructions, index = _instructions(frame.f_code)
    n = index.get(frame.f_lasti)
    if n is None or instructions[n].opname not in ("STORE_ATTR", "STORE_SUBSCR"):
        return None
    while n > 0:
        n -= 1
        ins = instructions[n]
        if ins.opname in _STACK_SHUFFLES:
            continue
        if ins.opname.startswith("BINARY_OP") and ins.argrepr in INPLACE:
            return ins.argrepr
        return None
    return None


def _remember(cache: dict[tuple[int, int], tuple[CodeType, Any]], key: tuple[int, int],
              code: CodeType, decision: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = (code, decision)


def _instructions(code: CodeType) -> tuple[list[dis.Instruction], dict[int, int]]:
    entry = _code_index.get(id(code))
    if entry is None or entry[0] is not code:
        instructions = list(dis.get_instructions(code))
        # Every offset an instruction covers, its inline caches included: a specialized
        # instruction that calls Python code inline (BINARY_SUBSCR_GETITEM in 3.11)
        # records the offset of its last cache entry as the frame's f_lasti.
        index: dict[int, int] = {}
        for n, ins in enumerate(instructions):
            end = instructions[n + 1].offset if n + 1 < len(instructions) else ins.offset + 2
            for offset in range(ins.offset, end, 2):
                index[offset] = n
        if len(_code_index) >= _CACHE_LIMIT // 10:
            _code_index.clear()
        entry = _code_index[id(code)] = (code, instructions, index)
    return entry[1], entry[2]


def _previous(instructions: list[dis.Instruction], n: int, back: int = 1) -> dis.Instruction | None:
    """The instruction *back* steps before index *n*, skipping ``EXTENDED_ARG``."""
    while back:
        n -= 1
        while n >= 0 and instructions[n].opname == "EXTENDED_ARG":
            n -= 1
        if n < 0:
            return None
        back -= 1
    return instructions[n]


def _is_method_load(ins: dis.Instruction) -> bool:
    if ins.opname == "LOAD_METHOD":
        return True
    return _METHOD_FLAG and ins.opname == "LOAD_ATTR" and bool((ins.arg or 0) & 1)


def _augmented_end(instructions: list[dis.Instruction], n: int, swaps: tuple[int, ...],
                   store: str, name: Any) -> Any:
    """The in-place symbol if the first in-place ``BINARY_OP`` after index *n* is
    followed by ``SWAP`` *swaps* and the *store* instruction (of *name*)."""
    for m in range(n + 1, len(instructions)):
        ins = instructions[m]
        if ins.opname != "BINARY_OP" or ins.arg not in _NB_INPLACE:
            continue
        # In-place BINARY_OPs only come from augmented assignments, which are statements,
        # so the first one after the load is the one that consumes it.
        tail = instructions[m + 1:m + 2 + len(swaps)]
        if len(tail) != len(swaps) + 1:
            return VALUE
        for ins_swap, depth in zip(tail[:-1], swaps, strict=True):
            if ins_swap.opname != "SWAP" or ins_swap.arg != depth:
                return VALUE
        last = tail[-1]
        if last.opname != store or (name is not None and last.argval != name):
            return VALUE
        return _NB_INPLACE[ins.arg]
    return VALUE


def _decide_attribute(code: CodeType, lasti: int) -> tuple[Any, Any]:
    """``(name loaded, decision)`` for the instruction at *lasti*."""
    instructions, index = _instructions(code)
    n = index.get(lasti)
    if n is None:
        return None, VALUE
    ins = instructions[n]
    if _is_method_load(ins):
        return ins.argval, METHOD
    if ins.opname != "LOAD_ATTR":
        return None, VALUE
    name = ins.argval
    prev = _previous(instructions, n)
    if prev is not None and prev.opname == "COPY" and prev.arg == 1:
        return name, _augmented_end(instructions, n, (2,), "STORE_ATTR", name)
    if n + 1 >= len(instructions):
        return name, VALUE
    nxt = instructions[n + 1]
    if nxt.opname in ("LOAD_ATTR", "LOAD_METHOD"):
        # A dunder would be found on the proxy's own class, not looked up remotely.
        return name, VALUE if str(nxt.argval).startswith("__") else LAZY
    if nxt.opname in ("GET_ITER", "CONTAINS_OP"):
        return name, LAZY
    if nxt.opname == "COPY" and nxt.arg == 1 and n + 2 < len(instructions):
        if instructions[n + 2].opname == "LOAD_ATTR":  # share.x.y op= v
            return name, LAZY
    if nxt.opname in _SIMPLE_LOADS and n + 2 < len(instructions):
        after = instructions[n + 2]
        if after.opname in _SUBSCRIPT_USES or (after.opname == "COPY" and after.arg == 2):
            return name, LAZY
    return name, VALUE


def _decide_item(code: CodeType, lasti: int) -> Any:
    instructions, index = _instructions(code)
    n = index.get(lasti)
    if n is None or instructions[n].opname != "BINARY_SUBSCR":
        return VALUE
    first, second = _previous(instructions, n, 1), _previous(instructions, n, 2)
    if first is None or second is None:
        return VALUE
    if not (first.opname == second.opname == "COPY" and first.arg == second.arg == 2):
        return VALUE
    return _augmented_end(instructions, n, (3, 2), "STORE_SUBSCR", None)
