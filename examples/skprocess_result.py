"""result() from the processing guide, runnable.

``result()`` blocks until the process has finished and returns what ``__result__``
returned; if the process failed (and defines no ``__error__``), it raises the
``ProcessError``.

Run it with ``python examples/skprocess_result.py``.
"""

from __future__ import annotations

import time

from suitkaise.processing import ProcessError, Skprocess


class MyProcess(Skprocess):
    """Counts the words of a few sentences, one per run; fails on a None sentence."""

    def __init__(self, sentences):
        self.sentences = sentences
        self.words = 0
        self.done = 0
        self.process_config.runs = len(sentences)

    def __run__(self):
        time.sleep(0.05)
        self.words += len(self.sentences[self.done].split())  # None.split() fails
        self.done += 1

    def __result__(self):
        return self.words


if __name__ == "__main__":
    for sentences in (["the quick brown fox", "jumps over", "the lazy dog"], ["one two", None]):
        p = MyProcess(sentences)
        p.start()

        try:
            # blocks until process finishes and returns __result__() output
            data = p.result()
            print("words:", data)

        except ProcessError as e:
            print(f"{e}")
