"""Demo: send what pickle refuses to another process, and get it back working."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading

from suitkaise import cerial


class Job:
    def __init__(self, factor: int) -> None:
        self.factor = factor
        self.lock = threading.Lock()
        self.scale = lambda x: x * self.factor

    def run(self, values: list[int]) -> list[int]:
        with self.lock:
            return [self.scale(v) for v in values]


CHILD = """
import sys
from suitkaise import cerial
job, values = cerial.deserialize(sys.stdin.buffer.read())
sys.stdout.buffer.write(cerial.serialize(job.run(values)))
"""


def main() -> None:
    job = Job(3)
    try:
        pickle.dumps(job)
    except Exception as error:  # noqa: BLE001 - showing what pickle says
        print(f"pickle:  {type(error).__name__}: {error}")
    data = cerial.serialize((job, [1, 2, 3]))
    done = subprocess.run(
        [sys.executable, "-c", CHILD], input=data, capture_output=True, timeout=60, check=True
    )
    print(f"cerial:  a fresh process ran Job.run and returned {cerial.deserialize(done.stdout)}")


if __name__ == "__main__":
    main()
