"""The envelope: bad input of every kind raises DeserializationError, fast."""

from __future__ import annotations

import pickle
import random
import struct
import subprocess
import sys

import pytest
from _support import TIMEOUT
from hypothesis import given, settings
from hypothesis import strategies as st

from suitkaise import cerial
from suitkaise.cerial import DeserializationError

SAMPLES = [
    None,
    {"k": [1, 2.5, "three", b"four"]},
    list(range(300)),
    {"blob": bytes(range(256)) * 300, "text": "x" * 70_000, "tail": [1, 2]},
    lambda x: x + 1,
    bytes(range(256)) * 300,  # one large object: the envelope's straight paths
    bytearray(range(256)) * 300,
    "é" * 40_000,
]


def _check_bad(data: bytes) -> None:
    """Bad input either fails cleanly or, when only bulk raw data was hit, loads."""
    try:
        cerial.deserialize(data)
    except DeserializationError:
        pass


@pytest.mark.parametrize("data", [b"", b"S", b"SKC", b"SKCL", b"SKCL\x01", b"\x00" * 10])
def test_empty_and_short_input(data):
    with pytest.raises(DeserializationError, match="empty|truncated|not cerial"):
        cerial.deserialize(data)


def test_plain_pickle_is_named():
    with pytest.raises(DeserializationError, match="plain pickle"):
        cerial.deserialize(pickle.dumps({"a": 1}))


def test_every_truncation_fails_cleanly():
    data = cerial.serialize(SAMPLES[1])
    for end in range(len(data)):
        with pytest.raises(DeserializationError):
            cerial.deserialize(data[:end])


def test_trailing_bytes_are_refused():
    with pytest.raises(DeserializationError, match="longer than its header"):
        cerial.deserialize(cerial.serialize(1) + b"x")


def test_newer_version_is_named():
    data = bytearray(cerial.serialize(1))
    data[4] = 99
    with pytest.raises(DeserializationError, match="version 99"):
        cerial.deserialize(bytes(data))


def test_every_single_bit_flip_in_structure_is_caught():
    data = cerial.serialize(SAMPLES[1])
    for position in range(len(data)):
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        with pytest.raises(DeserializationError):
            cerial.deserialize(bytes(flipped))


def test_large_raw_data_is_skipped_by_the_checksum_but_structure_is_not():
    obj = SAMPLES[3]
    data = cerial.serialize(obj)
    head = struct.unpack_from("<4sBBQII", data)
    assert head[5] == 2  # the bytes blob and the long string travel as raw ranges
    assert cerial.deserialize(data) == obj


@pytest.mark.parametrize("obj", SAMPLES[5:], ids=["bytes", "bytearray", "str"])
def test_one_large_object_is_one_raw_range(obj):
    data = cerial.serialize(obj)
    head = struct.unpack_from("<4sBBQII", data)
    assert head[5] == 1
    offset, length = struct.unpack_from("<QQ", data, 22)
    assert length >= 64 * 1024
    assert cerial.deserialize(data) == obj
    raw_start = 38 + offset
    for position in [*range(raw_start), *range(raw_start + length, len(data))]:
        flipped = bytearray(data)
        flipped[position] ^= 0x04
        with pytest.raises(DeserializationError):
            cerial.deserialize(bytes(flipped))


def test_a_bad_range_table_is_caught():
    data = bytearray(cerial.serialize(SAMPLES[5]))
    struct.pack_into("<QQ", data, 22, 0, len(data))  # a range past the end
    with pytest.raises(DeserializationError, match="bad range table"):
        cerial.deserialize(bytes(data))


def test_accepts_bytearray_and_memoryview():
    data = cerial.serialize([1, 2])
    assert cerial.deserialize(bytearray(data)) == [1, 2]
    assert cerial.deserialize(memoryview(data)) == [1, 2]


def test_accepts_a_strided_memoryview():
    # Regression: a non-contiguous view raised BufferError from the checksum.
    data = cerial.serialize([1, 2])
    doubled = bytes(b for byte in data for b in (byte, 0))
    assert cerial.deserialize(memoryview(doubled)[::2]) == [1, 2]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes(data):
    with pytest.raises(DeserializationError):
        cerial.deserialize(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_behind_a_valid_magic(data):
    with pytest.raises(DeserializationError):
        cerial.deserialize(b"SKCL\x01" + data)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(range(len(SAMPLES))),
    st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 10**9),
)
def test_mutated_payloads(index, edits, cut):
    data = bytearray(cerial.serialize(SAMPLES[index]))
    for position, value in edits:
        data[position % len(data)] = value
    _check_bad(bytes(data[: max(1, cut % (len(data) + 1))]))


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One random mutation: flip, overwrite, insert, delete, truncate or splice."""
    buf = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0 and buf:
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == 1 and buf:
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif kind == 2:
        at = rng.randrange(len(buf) + 1)
        buf[at:at] = rng.randbytes(rng.randint(1, 16))
    elif kind == 3 and buf:
        at = rng.randrange(len(buf))
        del buf[at : at + rng.randint(1, 16)]
    elif kind == 4:
        del buf[rng.randrange(len(buf) + 1) :]
    else:
        buf += rng.randbytes(rng.randint(1, 64))
    return bytes(buf)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_fuzz_100k_random_and_mutated_inputs():
    rng = random.Random(20261125)
    seeds = [cerial.serialize(obj) for obj in SAMPLES]
    outcomes = {"rejected": 0, "loaded": 0}
    for i in range(100_000):
        if i % 4 == 0:
            data = rng.randbytes(rng.randint(0, 256))
            if i % 8 == 0:
                data = b"SKCL\x01" + data
        else:
            data = mutate(rng, rng.choice(seeds))
        try:
            cerial.deserialize(data)
            outcomes["loaded"] += 1
        except DeserializationError:
            outcomes["rejected"] += 1
    assert sum(outcomes.values()) == 100_000
    print(f"fuzz outcomes over 100,000 inputs: {outcomes}")


def test_import_does_not_load_drivers():
    code = (
        "import sys, suitkaise.cerial; "
        "print(sorted(m for m in ('sqlite3', 'socket', 'tempfile', 'multiprocessing') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=TIMEOUT, check=True
    )
    assert done.stdout.decode().strip() == "[]"
