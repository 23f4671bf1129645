"""What a pool costs to start: a worker imports only what it needs, names load lazily.

A spawned worker imports everything ``suitkaise.processing._pool._worker`` pulls in; each
module there is paid again by every worker of every spawn/forkserver pool.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from _support import SRC, TIMEOUT
from test_pool_support import children_of, make_pool, wait_for

import suitkaise.processing
from suitkaise import cerial

# Modules a worker never needs to run a plain function on plain data.
HEAVY = (
    "suitkaise.cerial._handlers._sync",
    "suitkaise.cerial._ir",
    "suitkaise.cerial._reconnect",
    "suitkaise.processing._autoreconnect",
    "suitkaise.processing._pool._dispatch",
    "suitkaise.processing._pool._pool",
    "suitkaise.processing._process",
    "suitkaise.processing._share",
    "suitkaise.sk",
    "suitkaise.timing",
    "concurrent.futures",
    "traceback",
)


def _fresh(code: str) -> str:
    """Run *code* in a new interpreter; its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", f"import sys\nsys.path.insert(0, {SRC!r})\n{textwrap.dedent(code)}"],
        capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd="/", check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_worker_module_imports_little():
    out = _fresh("""
        import suitkaise.processing._pool._worker
        print(*sorted(sys.modules))
    """)
    loaded = set(out.split())
    assert not [name for name in HEAVY if name in loaded]
    assert "suitkaise.cerial._handlers" not in loaded


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_started_worker_imports_little(start_method):
    with make_pool(start_method, workers=1) as pool:
        # A lambda travels by value: the worker does not import this test module.
        loaded = set(pool.map(lambda _: sorted(sys.modules), [0])[0])
    assert not [name for name in HEAVY if name in loaded]


def test_public_names_load_on_first_use():
    out = _fresh("""
        import suitkaise.processing as processing
        print("suitkaise.processing._pool._pool" in sys.modules)
        print(processing.Pool.__module__, processing.WorkerDiedError.__module__)
        print(processing.Skprocess.__module__, processing.ProcessConfig.__module__)
        print(processing.ShareError.__module__, processing.RunError.__module__)
        print("Share" in dir(processing))
    """)
    assert out.split() == ["False", *["suitkaise.processing"] * 6, "True"]


def test_classes_loaded_by_a_private_path_show_the_public_module():
    # Pool's errors come from its own module; the first public lookup renames them.
    out = _fresh("""
        from suitkaise.processing._pool import Pool
        import suitkaise.processing as processing
        processing.Pool
        from suitkaise.processing._pool._errors import WorkerDiedError
        print(WorkerDiedError.__module__)
    """)
    assert out.split() == ["suitkaise.processing"]


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        suitkaise.processing.no_such_name  # noqa: B018


def test_cerial_handlers_load_on_first_use_and_user_reducers_win():
    out = _fresh("""
        import threading
        from suitkaise import cerial
        print("suitkaise.cerial._handlers._sync" in sys.modules)
        assert cerial.deserialize(cerial.serialize([1, "a", (2.0, None)])) == [1, "a", (2.0, None)]
        print("suitkaise.cerial._handlers._sync" in sys.modules)
        cerial.register(type(threading.Lock()), lambda lock: (str, ("mine",)))
        print(cerial.deserialize(cerial.serialize(threading.Lock())))
        print("suitkaise.cerial._handlers._sync" in sys.modules)
        print(type(cerial.deserialize(cerial.serialize(threading.Event()))).__name__)
    """)
    assert out.split() == ["False", "False", "mine", "True", "Event"]


def test_deserializing_loads_only_the_handlers_its_bytes_name():
    data = cerial.serialize(lambda x: x + 1)
    out = _fresh(f"""
        from suitkaise import cerial
        print(cerial.deserialize(bytes.fromhex({data.hex()!r}))(1))
        print("suitkaise.cerial._handlers._functions" in sys.modules)
        print("suitkaise.cerial._handlers._sync" in sys.modules)
    """)
    assert out.split() == ["2", "True", "False"]


@pytest.mark.parametrize("fails", ["preparing", "starting"])
def test_a_pool_whose_second_worker_cannot_start_leaves_nothing_behind(monkeypatch, fails):
    # Every worker is prepared before the first fork: a failure at either step ends
    # the workers already started and releases every descriptor.
    from suitkaise.processing._pool.backends import _local

    calls = []
    real_init, real_start = _local.WorkerProcess.__init__, _local.WorkerProcess.start

    def flaky(real):
        def step(self, *args):
            calls.append(real)
            if len([c for c in calls if c is real]) == 2:
                raise OSError("no more of these")
            return real(self, *args)
        return step

    with make_pool("fork", workers=1) as pool:  # what a first pool opens for good
        assert pool.map(abs, [-1]) == [1]
    target = "__init__" if fails == "preparing" else "start"
    real = real_init if fails == "preparing" else real_start
    monkeypatch.setattr(_local.WorkerProcess, target, flaky(real))
    fds = sorted(os.listdir("/proc/self/fd"))
    children = children_of(os.getpid())
    with pytest.raises(OSError, match="no more of these"):
        make_pool("fork", workers=2)
    assert sorted(os.listdir("/proc/self/fd")) == fds
    assert wait_for(lambda: children_of(os.getpid()) == children)
