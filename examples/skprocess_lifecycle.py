"""The Skprocess lifecycle skeleton from the processing guide, filled in.

Each of the lifecycle methods records that it ran, so the output shows the order:
``__prerun__``, ``__run__``, ``__postrun__`` once per run, then ``__onfinish__``, then
``__result__`` (or ``__error__`` when something failed).

Run it with ``python examples/skprocess_lifecycle.py``.
"""

from __future__ import annotations

from suitkaise.processing import Skprocess


class MyProcess(Skprocess):
    def __init__(self):

        # internal setup runs automatically for you
        # setup your process here
        # initalize attributes
        # configure Skprocess attributes
        self.calls = []
        self.lines = []
        self.process_config.runs = 2

    def __prerun__(self):

        # here, you can setup before the main part
        # connect to databases
        # make API calls
        # read files
        self.calls.append("__prerun__")
        self.source = iter(["first line", "second line"][len(self.lines) :])

    def __run__(self):  # REQUIRED

        # this is the main part
        # you can just write your code here
        # it repeats for you, no need to write looping code
        self.calls.append("__run__")
        self.line = next(self.source).upper()

    def __postrun__(self):

        # this is where you clean up your work
        # close connections
        # add results to attributes
        self.calls.append("__postrun__")
        self.lines.append(self.line)
        self.source = None

    def __onfinish__(self):

        # this is when you clean up the process
        # calculate summaries
        # save results to files
        # send emails or do other actions
        self.calls.append("__onfinish__")
        self.summary = f"{len(self.lines)} lines"

    def __result__(self):  # If you don't define this, your process will always return None

        # this returns the result of the process
        # don't have to worry about confusing returns
        # store your results as instance attributes
        # and return them here
        self.calls.append("__result__")
        return self.lines

    def __error__(self):

        # this is __result__() when an error occurs
        # allows for custom return behavior when an error occurs
        self.calls.append("__error__")
        return "something went wrong"


class FailingProcess(MyProcess):
    """The same process, but its __run__ fails: __error__ runs instead of __result__."""

    def __run__(self):
        self.calls.append("__run__")
        raise ValueError("bad line")


class NoResult(Skprocess):
    """Only __run__ (the one required method): the result is always None."""

    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        pass


if __name__ == "__main__":
    p = MyProcess()
    result = p.run()
    print("result:", result)
    print("order:", " -> ".join(p.calls))
    print("summary:", p.summary)

    q = FailingProcess()
    print("error result:", q.run())
    print("order:", " -> ".join(q.calls))

    print("without __result__:", NoResult().run())
