"""The ``sk`` modifiers of wait(), listen() and result() from the processing guide.

- ``wait``: ``asynced()`` only.
- ``listen``: ``background()`` and ``asynced()``.
- ``result``: ``timeout()``, ``background()`` and ``asynced()``.

The ``await`` forms run inside ``asyncio.run(...)``. Modifiers a method does not
support raise ``SkModifierError`` (a ``TypeError``) naming the method and modifier.

Run it with ``python examples/skprocess_modifiers.py``.
"""

from __future__ import annotations

import asyncio
import time

from suitkaise.processing import ResultTimeoutError, Skprocess
from suitkaise.sk import SkModifierError


class MyProcess(Skprocess):
    """Tells the parent "hello", waits ``delay`` seconds, returns 42."""

    def __init__(self, delay=0.1):
        self.delay = delay
        self.process_config.runs = 1

    def __run__(self):
        self.tell("hello")
        time.sleep(self.delay)

    def __result__(self):
        return 42


async def async_examples():
    p = MyProcess()
    p.start()

    # async - returns coroutine for await
    data = await p.listen.asynced()()
    print("await p.listen.asynced()() ->", data)

    # async - returns coroutine for await
    finished = await p.wait.asynced()()
    print("await p.wait.asynced()() ->", finished)

    # async - returns coroutine for await
    data = await p.result.asynced()()
    print("await p.result.asynced()() ->", data)

    # while a coroutine waits, the event loop keeps running other work
    q = MyProcess(delay=0.5)
    q.start()
    waiting = asyncio.ensure_future(q.result.asynced()())
    ticks = 0
    while not waiting.done():
        await asyncio.sleep(0.05)
        ticks += 1
    print("awaited", waiting.result(), "| the event loop ticked meanwhile:", ticks > 3)


if __name__ == "__main__":
    p = MyProcess()
    p.start()

    # background - returns Future immediately
    future = p.listen.background()()
    data = future.result()  # blocks here
    print("p.listen.background()() ->", data)

    # with timeout - raises ResultTimeoutError if exceeded
    data = p.result.timeout(10.0)()
    print("p.result.timeout(10.0)() ->", data)

    p = MyProcess()
    p.start()

    # background - returns Future immediately
    future = p.result.background()()
    data = future.result()  # blocks here
    print("p.result.background()() ->", data)

    slow = MyProcess(delay=2.0)
    slow.start()
    try:
        slow.result.timeout(0.2)()
    except ResultTimeoutError as e:
        print("ResultTimeoutError:", e)
    slow.kill()

    asyncio.run(async_examples())

    # wait() does not support retry(), timeout() or background(); result() not retry()
    for method, modifier in (
        ("wait", "retry"),
        ("wait", "timeout"),
        ("wait", "background"),
        ("result", "retry"),
    ):
        try:
            getattr(getattr(p, method), modifier)
        except SkModifierError as e:
            print("SkModifierError:", e)
