"""Start-method choice and the public names of suitkaise.processing."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from _support import SRC, TIMEOUT

import suitkaise.processing as processing
from suitkaise.processing import _context, get_start_method, set_start_method


@pytest.fixture(autouse=True)
def _reset_start_method():
    yield
    set_start_method(None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux rule")
def test_default_is_fork_with_one_thread_else_forkserver(monkeypatch):
    main = threading.current_thread()
    other = threading.Thread(target=print)  # never started: only listed
    monkeypatch.setattr(_context.threading, "enumerate", lambda: [main])
    assert _context.default_start_method() == "fork"
    monkeypatch.setattr(_context.threading, "enumerate", lambda: [main, other])
    assert _context.default_start_method() == "forkserver"
    # Threads of ours that hold no lock a child could need do not count.
    _context.mark_fork_safe(other)
    assert _context.default_start_method() == "fork"


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_default_is_spawn_on_macos_and_windows(monkeypatch, platform):
    monkeypatch.setattr(_context.sys, "platform", platform)
    assert _context.default_start_method() == "spawn"


def test_set_start_method_overrides_and_resets():
    set_start_method("spawn")
    assert get_start_method() == "spawn"
    assert _context.get_context().get_start_method() == "spawn"
    set_start_method(None)
    assert get_start_method() == _context.default_start_method()


@pytest.mark.parametrize("bad", ["threads", "", 1])
def test_set_start_method_rejects_unknown_methods(bad):
    with pytest.raises(ValueError, match="start method must be one of fork, forkserver, spawn"):
        set_start_method(bad)


def test_public_names_are_exported_once_with_docstrings():
    names = processing.__all__
    assert isinstance(names, tuple) and len(set(names)) == len(names)
    for name in names:
        obj = getattr(processing, name)
        assert obj.__doc__, name
    for name in ("Skprocess", "ProcessError", "RunError", "ProcessTimeoutError",
                 "ResultTimeoutError"):
        assert name in names


NO_FORKSERVER = "forkserver" not in multiprocessing.get_all_start_methods()


@pytest.mark.skipif(NO_FORKSERVER, reason="no forkserver here")
def test_forkserver_preloads_suitkaise_and_keeps_other_preloads():
    from multiprocessing import forkserver

    _context.get_context("forkserver")  # done before the first forkserver process
    preload = forkserver._forkserver._preload_modules
    assert preload[0] == "__main__"  # multiprocessing's own default stays, first
    assert all(name in preload for name in _context.FORKSERVER_PRELOAD)
    _context.preload_in_forkserver()  # once only: no duplicates
    assert len(preload) == len(set(preload))


FORKSERVER_CHILDREN = """
import sys
from suitkaise.processing import Skprocess, set_start_method

class Job(Skprocess):
    def __init__(self):
        self.process_config.runs = 1

    def __run__(self):
        pass

if __name__ == "__main__":
    set_start_method("forkserver")
    for _ in range(3):
        Job().run()
    print("done")
"""


@pytest.mark.skipif(NO_FORKSERVER, reason="no forkserver here")
def test_forkserver_children_do_not_import_suitkaise_again(tmp_path):
    # With -X importtime every process that imports a module logs it to stderr: here the
    # parent and the forkserver (which preloads it), and none of the three children.
    script = tmp_path / "children.py"
    header = f"import sys\nsys.path.insert(0, {SRC!r})\n"
    script.write_text(header + textwrap.dedent(FORKSERVER_CHILDREN))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env,
        cwd=str(tmp_path), timeout=TIMEOUT,
    )
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr[-2000:]
    imports = [
        line
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
        and line.rsplit("|", 1)[1].strip() == "suitkaise.processing"
    ]
    assert len(imports) == 2, done.stderr[-2000:]
