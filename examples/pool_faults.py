"""What a Pool does when things go wrong, runnable.

- a worker killed mid-task fails only that task, with WorkerDiedError naming the
  worker, the signal and the task; the pool starts a new worker;
- Pool(crash_retries=1) runs such a task again instead;
- a progress bar (tqdm) when asked for: progress=True shows it on a terminal only,
  progress="always" everywhere.

Run it with ``python examples/pool_faults.py``.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

from suitkaise.processing._pool import Pool, WorkerDiedError


def crash_on_five(x: int) -> int:
    if x == 5:
        os.kill(os.getpid(), signal.SIGKILL)  # as if the OOM killer struck
    return x * x


def crash_once(arg: tuple[int, str]) -> int:
    x, folder = arg
    marker = Path(folder) / f"crashed-{x}"
    if x == 5 and not marker.exists():
        marker.touch()
        os._exit(1)  # dies on the first attempt only
    return x * x


def main() -> None:
    with Pool(workers=2) as pool:
        try:
            pool.map(crash_on_five, range(10), chunksize=1)
        except WorkerDiedError as e:
            print(f"task {e.task} lost: worker {e.worker} was killed by {e.signal}")
        print("the pool goes on:", pool.map(crash_on_five, range(5)))

    with tempfile.TemporaryDirectory() as folder, Pool(workers=2, crash_retries=1) as pool:
        items = [(x, folder) for x in range(10)]
        print("with a retry:", pool.map(crash_once, items, chunksize=1))
        squares = pool.map(abs, range(-3, 3), progress=True)  # a bar only on a terminal
        print("progress:", squares)


if __name__ == "__main__":
    main()
