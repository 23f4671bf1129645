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
import zlib
from collections.abc import Sequence

from ._errors import DeserializationError

__all__ = ("MAGIC", "VERSION", "pack", "unpack")

MAGIC = b"SKCL"
VERSION = 1
_HEAD = struct.Struct("<4sBBQII")
_RANGE = struct.Struct("<QQ")
_FRAME_SIZE_TARGET = 64 * 1024

# Opcodes that announce raw data: opcode byte, width of its little-endian length.
_RAW_OPCODES = {
    b"B"[0]: 4,  # BINBYTES
    b"X"[0]: 4,  # BINUNICODE
    0x8E: 8,  # BINBYTES8
    0x8D: 8,  # BINUNICODE8
    0x96: 8,  # BYTEARRAY8
}


def _is_raw(previous: bytes, chunk: bytes) -> bool:
    """Is ``chunk`` the raw data announced by the opcode that ends ``previous``?"""
    size = len(chunk)
    if size < _FRAME_SIZE_TARGET:
        return False
    for width in (4, 8):
        if len(previous) > width and _RAW_OPCODES.get(previous[-width - 1]) == width:
            if int.from_bytes(previous[-width:], "little") == size:
                return True
    return False


def raw_flags(chunks: Sequence[bytes]) -> list[bool]:
    """Which of the pickler's output chunks are bulk raw data."""
    flags = [False] * len(chunks)
    if len(chunks) < 3:  # raw data always has its opcode chunk before it and one after
        return flags
    for i in range(1, len(chunks)):
        flags[i] = not flags[i - 1] and _is_raw(chunks[i - 1], chunks[i])
    return flags


def pack(chunks: Sequence[bytes], flags: Sequence[bool]) -> bytes:
    """Wrap the pickler's chunks in the envelope and return one ``bytes``."""
    if True not in flags:
        crc = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
        size = sum(map(len, chunks))
        return b"".join((_HEAD.pack(MAGIC, VERSION, 0, size, crc, 0), *chunks))
    table = []
    offset = 0
    for chunk, raw in zip(chunks, flags, strict=True):
        if raw:
            table.append(_RANGE.pack(offset, len(chunk)))
        offset += len(chunk)
    table_bytes = b"".join(table)
    crc = zlib.crc32(table_bytes)
    for chunk, raw in zip(chunks, flags, strict=True):
        if not raw:
            crc = zlib.crc32(chunk, crc)
    head = _HEAD.pack(MAGIC, VERSION, 0, offset, crc, len(table))
    return b"".join((head, table_bytes, *chunks))


def _fail(message: str) -> DeserializationError:
    return DeserializationError(f"cannot deserialize: {message}")


def unpack(data: memoryview) -> memoryview:
    """Check the envelope of ``data`` and return the pickle payload inside it."""
    size = len(data)
    if size < _HEAD.size:
        raise _short_input(data)
    magic, version, flags, payload_len, crc, n_ranges = _HEAD.unpack_from(data)
    if magic != MAGIC:
        hint = " (it looks like a plain pickle)" if data[0] == 0x80 else ""
        raise _fail(f"not cerial data: missing the {MAGIC!r} header{hint}")
    if version != VERSION:
        raise _fail(
            f"format version {version} is not supported (this suitkaise reads version {VERSION})"
        )
    if flags != 0:
        raise _fail(f"unknown header flags {flags:#04x} (corrupted, or from a newer version)")
    table_end = _HEAD.size + n_ranges * _RANGE.size
    if table_end + payload_len != size:
        what = "truncated" if table_end + payload_len > size else "longer than its header says"
        raise _fail(f"the input is {what} ({size} bytes, expected {table_end + payload_len})")
    payload = data[table_end:]
    check = zlib.crc32(data[_HEAD.size : table_end]) if n_ranges else 0
    position = 0
    for offset, length in _RANGE.iter_unpack(data[_HEAD.size : table_end]):
        if offset < position or offset + length > payload_len:
            raise _fail("the data is corrupted (bad range table)")
        check = zlib.crc32(payload[position:offset], check)
        position = offset + length
    check = zlib.crc32(payload[position:] if position else payload, check)
    if check != crc:
        raise _fail("the data is corrupted (checksum mismatch)")
    return payload


def _short_input(data: memoryview) -> DeserializationError:
    size = len(data)
    if size == 0:
        return _fail("the input is empty")
    if bytes(data[:4]) == MAGIC[: min(size, 4)]:
        return _fail(f"the input is truncated ({size} bytes, shorter than the header)")
    hint = " (it looks like a plain pickle)" if data[0] == 0x80 else ""
    return _fail(f"not cerial data: missing the {MAGIC!r} header{hint}")
