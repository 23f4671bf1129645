"""The Pool section of the processing guide, runnable: map, imap, unordered_imap,
star() and the timeout / background / asynced modifiers.

Run it with ``python examples/pool_basic.py``.
"""

from __future__ import annotations

import asyncio
import time

from suitkaise.processing._pool import Pool, PoolTimeoutError


def upscale_image_section(section: list[int]) -> list[int]:
    # ... upscale image data ...
    return [pixel * 2 for pixel in section]


def main() -> None:
    data_set = [[i, i + 1, i + 2] for i in range(0, 12, 3)]

    with Pool(workers=2) as pool:
        # map: every result, in input order (lambdas and closures travel too)
        print("map:", pool.map(upscale_image_section, data_set))
        brightness = 10
        print("closure:", pool.map(lambda px: px + brightness, [1, 2, 3]))

        # imap: results in order, one at a time, as soon as they (and the ones before) are ready
        full_image_data = []
        for result in pool.imap(upscale_image_section, data_set):
            full_image_data.append(result)
        print("imap:", full_image_data)

        # unordered_imap: each result as soon as it is ready
        print("unordered_imap:", sorted(pool.unordered_imap(sum, data_set)))

        # star(): tuples are spread over the arguments (only tuples)
        print("star:", pool.star().map(pow, [(2, 3), (3, 2)]))

        # modifiers
        print("timeout:", pool.map.timeout(30.0)(upscale_image_section, data_set[:1]))
        try:
            pool.map.timeout(0.2)(time.sleep, [5])
        except PoolTimeoutError as e:  # also a TimeoutError; the stuck worker was stopped
            print("timed out:", type(e).__name__)
        future = pool.map.background()(upscale_image_section, data_set)
        print("background:", future.result())
        print("asynced:", asyncio.run(pool.imap.asynced()(upscale_image_section, data_set[:2])))

        # a task's exception comes back as itself, with the worker's traceback as its cause
        try:
            pool.map(int, ["1", "two"])
        except ValueError as e:
            print("error:", e, "| cause:", type(e.__cause__).__name__)
        print("still usable:", pool.map(abs, [-1, -2]))


if __name__ == "__main__":
    main()
