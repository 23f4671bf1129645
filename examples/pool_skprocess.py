"""Skprocess classes as Pool tasks (the processing guide's UpscaleImage and ColorImage).

The class itself goes to the pool with the arguments of its ``__init__``; each task
creates the instance in a worker, runs its lifecycle there (runs, lives, timeouts and
``stop()`` are honoured) and returns what ``__result__`` returns.

Run it with ``python examples/pool_skprocess.py``.
"""

from __future__ import annotations

from suitkaise.processing import Skprocess
from suitkaise.processing._pool import Pool


class UpscaleImage(Skprocess):
    def __init__(self, image: list[int]) -> None:
        self.image_data = image
        self.process_config.runs = 1
        self.process_config.lives = 2

    def __run__(self) -> None:
        self.upscaled = [pixel for pixel in self.image_data for _ in range(2)]

    def __result__(self) -> list[int]:
        return self.upscaled


class ColorImage(Skprocess):
    def __init__(self, image: list[int], color: str, percent_change: int) -> None:
        self.process_config.runs = 1
        self.process_config.lives = 2
        self.image_data = image
        self.color = color
        self.percent_change = percent_change

    def __run__(self) -> None:
        factor = 1 + self.percent_change / 100
        self.colored = [round(pixel * factor) for pixel in self.image_data]

    def __result__(self) -> tuple[str, list[int]]:
        return self.color, self.colored


class CountUntil(Skprocess):
    """No run limit: it stops itself."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def __run__(self) -> None:
        self.count += 1
        if self.count == self.limit:
            self.stop()

    def __result__(self) -> int:
        return self.count


def main() -> None:
    images = [[1, 2], [3, 4], [5, 6]]
    colors = ["red", "green", "blue"]
    percent_changes = [10, 50, 100]
    with Pool(workers=2) as pool:
        upscaled_images = []
        for processed_image in pool.unordered_imap(UpscaleImage, images):
            upscaled_images.append(processed_image)
        print("upscaled:", sorted(upscaled_images))
        rows = zip(images, colors, percent_changes, strict=True)
        colored_images = pool.star().map(ColorImage, rows)
        print("colored:", colored_images)
        print("stopped itself:", pool.map(CountUntil, [3, 5]))


if __name__ == "__main__":
    main()
