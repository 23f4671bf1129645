"""The envelope around cerial's pickle stream: magic, version, length and checksum.

Layout (little-endian)::

    +--------+---------+-------+-------------+--------+----------+------------------+---------+
    | "SKCL" | version | flags | payload len | crc32  | n ranges | n x (off, len)   | payload |
    | 4 B    | 1 B     | 1 B   | 8 B         | 4 B    | 4 B      | 16 B each        |         |
    +--------+---------+-------+-------------+--------+----------+------------------+---------+

The payload is a pickle (protocol 5) stream. The crc32 covers the range table and
every payload byte outside the listed ranges. Those ranges hold only the raw contents
of large ``bytes``/``str``/``bytearray`` objects that the pickler wrote as chunks of
their own: their length sits in the checked opcode just before them, so corrupting
their contents cannot change the structure the unpickler follows. Skipping them keeps
the check cheap on bulk data while every opcode the unpickler obeys is verified, so a
flipped bit cannot, say, grow the unpickler's memo to gigabytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import overload
from zlib import crc32 as _crc32

from ._errors import DeserializationError

__all__ = ("MAGIC", "VERSION", "pack", "unpack")

MAGIC = b"SKCL"
VERSION = 1
# magic, version and flags (always 0 so far) travel as one 6-byte prefix
_PREFIX = MAGIC + bytes((VERSION, 0))
_HEAD = struct.Struct("<6sQII")
_HEAD_SIZE = _HEAD.size
_RANGE = struct.Struct("<QQ")
_RANGE_SIZE = _RANGE.size
_FRAME_SIZE_TARGET = 64 * 1024

# Opcodes that announce raw data, by the width of the little-endian length after them:
# BINBYTES and BINUNICODE (4 bytes); BINBYTES8, BINUNICODE8 and BYTEARRAY8 (8 bytes).
_ANNOUNCE_4 = frozenset(b"BX")
_ANNOUNCE_8 = frozenset(b"\x8e\x8d\x96")


def _announces(previous: bytes, size: int) -> bool:
    """Does ``previous`` end with an opcode announcing ``size`` bytes of raw data?"""
    end = len(previous)
    return (
        end > 4 and previous[-5] in _ANNOUNCE_4 and int.from_bytes(previous[-4:], "little") == size
    ) or (
        end > 8 and previous[-9] in _ANNOUNCE_8 and int.from_bytes(previous[-8:], "little") == size
    )


@overload
def pack(chunks: Sequence[bytes]) -> tuple[bytes, int]: ...
@overload
def pack(chunks: Sequence[bytes], refuse: bytes) -> tuple[bytes, int] | None: ...


def pack(chunks: Sequence[bytes], refuse: bytes | None = None) -> tuple[bytes, int] | None:
    """Wrap the pickler's chunks in the envelope, in one pass and one copy.

    Returns the envelope as one ``bytes`` and how many payload bytes the checksum
    covers (all but the raw ranges), or None when a checked chunk contains ``refuse``
    (the engine refuses results that name ``__main__``; scanning here saves a pass).
    """
    if len(chunks) == 1:  # any output under 64 KiB
        chunk = chunks[0]
        if refuse is not None and chunk.find(refuse) >= 0:
            return None
        size = len(chunk)
        return _HEAD.pack(_PREFIX, size, _crc32(chunk), 0) + chunk, size
    if len(chunks) == 3:  # one large bytes or str: its opcode, its raw data, the rest
        first, raw, last = chunks
        size = len(raw)
        if size >= _FRAME_SIZE_TARGET and _announces(first, size):
            if refuse is not None and (first.find(refuse) >= 0 or last.find(refuse) >= 0):
                return None
            table = _RANGE.pack(len(first), size)
            crc = _crc32(last, _crc32(first, _crc32(table)))
            covered = len(first) + len(last)
            head = _HEAD.pack(_PREFIX, covered + size, crc, 1)
            return b"".join((head, table, first, raw, last)), covered
    ranges: list[int] = []
    checked: list[bytes] = []
    offset = 0
    previous = b""
    for chunk in chunks:
        size = len(chunk)
        if size >= _FRAME_SIZE_TARGET and _announces(previous, size):
            ranges += (offset, size)
            previous = b""  # raw data announces nothing: the next chunk is checked
        else:
            if refuse is not None and chunk.find(refuse) >= 0:
                return None
            checked.append(chunk)
            previous = chunk
        offset += size
    if ranges:
        table = struct.pack(f"<{len(ranges)}Q", *ranges)  # n x (offset, length)
        crc = _crc32(table)
        raw_size = sum(ranges[1::2])
    else:
        table = b""
        crc = raw_size = 0
    for chunk in checked:
        crc = _crc32(chunk, crc)
    head = _HEAD.pack(_PREFIX, offset, crc, len(ranges) // 2)
    return b"".join((head, table, *chunks)), offset - raw_size


def _fail(message: str) -> DeserializationError:
    return DeserializationError(f"cannot deserialize: {message}")


def unpack(data: memoryview) -> memoryview:
    """Check the envelope of ``data`` and return the pickle payload inside it."""
    size = len(data)
    if size < _HEAD_SIZE:
        raise _short_input(data)
    prefix, payload_len, crc, n_ranges = _HEAD.unpack_from(data)
    if prefix != _PREFIX:
        raise _bad_head(data)
    table_end = _HEAD_SIZE + n_ranges * _RANGE_SIZE
    if table_end + payload_len != size:
        what = "truncated" if table_end + payload_len > size else "longer than its header says"
        raise _fail(f"the input is {what} ({size} bytes, expected {table_end + payload_len})")
    # The checksum runs over the range table and the payload outside the ranges. The
    # table sits right before the payload, so it and the first gap are one block.
    if not n_ranges:
        check = _crc32(data[_HEAD_SIZE:])
    elif n_ranges == 1:  # one large bytes or str, without a loop
        offset, length = _RANGE.unpack_from(data, _HEAD_SIZE)
        if offset + length > payload_len:
            raise _fail("the data is corrupted (bad range table)")
        start = table_end + offset
        check = _crc32(data[start + length :], _crc32(data[_HEAD_SIZE:start]))
    else:
        check = 0
        position = _HEAD_SIZE
        for offset, length in _RANGE.iter_unpack(data[_HEAD_SIZE:table_end]):
            start = table_end + offset
            if start < position or offset + length > payload_len:
                raise _fail("the data is corrupted (bad range table)")
            check = _crc32(data[position:start], check)
            position = start + length
        check = _crc32(data[position:], check)
    if check != crc:
        raise _fail("the data is corrupted (checksum mismatch)")
    return data[table_end:]


def _bad_head(data: memoryview) -> DeserializationError:
    version, flags = data[4], data[5]
    if data[:4] != MAGIC:
        hint = " (it looks like a plain pickle)" if data[0] == 0x80 else ""
        return _fail(f"not cerial data: missing the {MAGIC!r} header{hint}")
    if version != VERSION:
        return _fail(
            f"format version {version} is not supported (this suitkaise reads version {VERSION})"
        )
    return _fail(f"unknown header flags {flags:#04x} (corrupted, or from a newer version)")


def _short_input(data: memoryview) -> DeserializationError:
    size = len(data)
    if size == 0:
        return _fail("the input is empty")
    if bytes(data[:4]) == MAGIC[: min(size, 4)]:
        return _fail(f"the input is truncated ({size} bytes, shorter than the header)")
    hint = " (it looks like a plain pickle)" if data[0] == 0x80 else ""
    return _fail(f"not cerial data: missing the {MAGIC!r} header{hint}")
