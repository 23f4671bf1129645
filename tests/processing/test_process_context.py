"""Start-method choice and the public names of suitkaise.processing."""

from __future__ import annotations

import sys
import threading

import pytest

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
    for name in ("Skprocess", "ProcessError", "RunError", "ProcessTimeoutError", "ResultTimeoutError"):
        assert name in names
