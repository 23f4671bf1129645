"""The basic Skprocess lifecycle from the processing guide, runnable.

A process that "downloads" a few pages, one per run: __prerun__ opens a connection,
__run__ does the work (and repeats, no loop to write), __postrun__ stores it,
__onfinish__ summarises, __result__ returns it. The parent talks to the process with
tell()/listen(), reads the timers afterwards, and sees a failure as a RunError.

Run it with ``python examples/skprocess_basic.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import ProcessError, Skprocess


class Downloader(Skprocess):
    def __init__(self, pages: list[str]) -> None:
        # internal setup has already run; just set up your attributes and config
        self.pages = pages
        self.downloaded: dict[str, int] = {}
        self.summary = ""
        self.process_config.runs = len(pages)
        self.process_config.timeouts.run = 5.0

    def __prerun__(self) -> None:
        self.page = self.pages[len(self.downloaded)]
        self.connection = f"connection to {self.page}"  # e.g. connect to a server

    def __run__(self) -> None:  # REQUIRED: repeats once per run
        time.sleep(0.01)  # the real work
        self.size = len(self.page) * 100
        self.tell(("downloaded", self.page))

    def __postrun__(self) -> None:
        self.downloaded[self.page] = self.size
        self.connection = None  # close connections

    def __onfinish__(self) -> None:
        total = sum(self.downloaded.values())
        self.summary = f"{len(self.downloaded)} pages, {total} bytes"

    def __result__(self) -> dict[str, int]:
        return self.downloaded

    # no __error__: an error makes result() raise the ProcessError


class Broken(Skprocess):
    def __init__(self) -> None:
        self.process_config.runs = 3

    def __run__(self) -> None:
        raise ConnectionError("Failed to connect to server")


def main() -> None:
    p = Downloader(["home", "about", "blog"])
    p.start()
    for _ in range(3):
        print("child says:", p.listen(timeout=10))
    result = p.result()
    print("result:", result)
    print("summary (the child's final state, back in the parent):", p.summary)
    print(f"__run__ ran {p.__run__.timer.num_times} times, mean {p.__run__.timer.mean:.4f}s")
    print(f"one full run (prerun + run + postrun) took {p.process_timer.mean:.4f}s on average")

    try:
        Broken().run()
    except ProcessError as e:
        print(f"Process error: {e}")
        print(f"Original error: {e.original_error!r}")
        print(f"Run number: {e.current_run}")


if __name__ == "__main__":
    main()
