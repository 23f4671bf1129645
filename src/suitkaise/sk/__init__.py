"""``sk`` modifiers: run any blocking callable with a timeout, in the background,
from ``async`` code, with retries or under a rate limit.

A callable decorated with :func:`sk` is still called as before, ``f(x)``, and
also offers five modifiers. Each modifier takes its own settings and returns
a callable that takes the original arguments::

    f.timeout(seconds)(x)         # SkTimeoutError (a TimeoutError) if too slow
    f.background()(x)             # a concurrent.futures.Future, at once
    await f.asynced()(x)          # a coroutine; f runs in a thread
    f.retry(times=3, delay=0.0, backoff=1.0, exceptions=(Exception,))(x)
    f.rate_limit(per_second)(x)   # calls spaced >= 1/per_second s apart

``@sk`` on a class gives every public method the modifiers, and they bind
like methods: ``Client().fetch.timeout(5)(key)``.

The module itself is callable as :func:`sk`, so ``from suitkaise import sk``
then ``@sk`` works too (type checkers prefer ``from suitkaise.sk import sk``).

Example::

    >>> from suitkaise.sk import sk
    >>> @sk
    ... def add(a, b):
    ...     return a + b
    >>> add(1, 2), add.timeout(5)(1, 2), add.background()(1, 2).result(timeout=5)
    (3, 3, 3)

Declaring modifiers in library code
-----------------------------------
A method chooses which modifiers it offers with ``supported=`` (or
``unsupported=``); asking for another one raises :class:`SkModifierError`
(a ``TypeError``) that names the method and the modifier. A method may also
replace the default implementation of a modifier with its own, either as a
keyword of ``sk(...)`` or with the ``.modifier(name)`` decorator, which works
like ``property.setter`` (reuse the method's name).

An implementation is bound like the method itself (it receives ``self``
first, on a method), then the modifier's settings, already checked:
``timeout(self, seconds)`` (``seconds`` is a float or ``None``),
``background(self)``, ``asynced(self)``,
``retry(self, times, delay, backoff, exceptions)`` and
``rate_limit(self, per_second)``. It returns the callable that receives the
call's arguments. To build one from a default modifier, wrap any callable
on the spot: ``sk(lambda *a: list(self.imap(*a))).background()``::

    >>> from suitkaise.sk import sk, SkModifierError
    >>> class ResultTimeoutError(TimeoutError):
    ...     pass
    >>> class Job:
    ...     def _result_timeout(self, seconds):
    ...         def call():
    ...             raise ResultTimeoutError(f"no result within {seconds}s")
    ...         return call
    ...
    ...     @sk(unsupported=("retry",), timeout=_result_timeout)
    ...     def result(self, timeout=None):
    ...         return 42
    ...
    ...     @sk(supported=("asynced",))
    ...     def wait(self):
    ...         return True
    ...
    ...     @wait.modifier("asynced")
    ...     def wait(self):
    ...         async def call():
    ...             return "custom"
    ...         return call
    >>> job = Job()
    >>> job.result(), job.result.background()().result(timeout=5)
    (42, 42)
    >>> try:
    ...     job.result.timeout(1.0)()
    ... except ResultTimeoutError as e:
    ...     print(e)
    no result within 1.0s
    >>> try:
    ...     job.wait.retry
    ... except SkModifierError as e:
    ...     print(e)
    wait() does not support the retry() modifier (it supports: asynced())

Threads
-------
``timeout()``, ``background()`` and ``asynced()`` run the call in a new
daemon thread each time: a call that is stuck never holds up other calls or
interpreter exit. A timed-out call cannot be killed and runs on in its
thread; only the caller is released.
"""

from __future__ import annotations

import sys

from ._errors import SkModifierError, SkTimeoutError
from ._skfunction import MODIFIERS, SkFunction, SkModule, sk

__all__ = ("MODIFIERS", "SkFunction", "SkModifierError", "SkTimeoutError", "sk")

# ``from suitkaise import sk`` gives this module, and ``@sk`` must still work on it.
sys.modules[__name__].__class__ = SkModule
