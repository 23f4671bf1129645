"""Objects defined in a script's ``__main__`` travel by value to a process without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from _support import SRC, TIMEOUT

SENDER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {src!r})
    import dataclasses
    from suitkaise import cerial

    SCALE = 3

    @dataclasses.dataclass
    class Reading:
        value: int

        def scaled(self):
            return self.value * SCALE

    def total(readings):
        return sum(r.scaled() for r in readings)

    data = cerial.serialize((total, [Reading(1), Reading(2)]))
    assert cerial.deserialize(data)[0] is total
    assert type(cerial.deserialize(data)[1][0]) is Reading
    sys.stdout.buffer.write(data)
    """
)

RECEIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {src!r})
    from suitkaise import cerial

    func, readings = cerial.deserialize(sys.stdin.buffer.read())
    print(func(readings), type(readings[0]).__name__, type(readings[0]) is type(readings[1]))
    """
)


def _python(code: str, data: bytes = b"") -> bytes:
    done = subprocess.run(
        [sys.executable, "-c", code.format(src=SRC)],
        input=data,
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def test_main_function_and_class_travel_by_value():
    data = _python(SENDER)
    assert _python(RECEIVER, data).decode().split() == ["9", "Reading", "True"]
