"""Open files: reopened by path, with the same mode, at the same position.

::

    sender:   flush (if writable) -> absolute path, mode, position, encoding, closed?
    receiver: open(path, mode) without truncating -> seek(position)

- ``io.TextIOWrapper``, ``BufferedReader``/``BufferedWriter``/``BufferedRandom`` and
  ``FileIO`` are supported. A text file's position is the opaque cookie of ``tell()``,
  so multi-byte encodings land on the same character. Encoding, errors, line buffering
  and write-through are kept; ``newline=`` cannot be read back from a file object, so
  the copy uses the default.
- Reopening never truncates or fails on "exists": ``"w"`` and ``"x"`` open the file
  as it is now. ``"a"`` keeps appending. A writable file is flushed when serialized,
  so the copy sees what the original wrote.
- Both the copy and the original are open afterwards; each has its own position.
- A closed file comes back closed (same type, name and mode, nothing is opened).
- A text wrapper over an in-memory buffer (``TextIOWrapper(BytesIO())``) travels with
  the buffer. ``sys.stdin``/``stdout``/``stderr`` travel by name: the copy is the
  receiving process's own stream.
- Files without a path (pipes, sockets, ``os.fdopen``, ``tempfile.TemporaryFile``) and
  files deleted since they were opened cannot travel: ``TypeError``.
- ``tempfile.NamedTemporaryFile`` travels as its open file: the copy does not delete
  the file, which stays owned by the sender's wrapper.

``io.StringIO`` and ``io.BytesIO`` need no handler: pickle keeps contents and position.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from typing import Any, cast

from .._registry import register

__all__ = ()

_STD_STREAMS = ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")


def _reopen_flags(path: str | bytes, flags: int) -> int:
    # The copy opens the file as it is now: no truncation ("w"), no "already exists" ("x").
    return os.open(path, flags & ~(os.O_TRUNC | os.O_EXCL), 0o666)


def _open(kind: str, path: Any, mode: str, text: dict[str, Any] | None) -> Any:
    if kind == "raw":
        return io.FileIO(path, mode, opener=_reopen_flags)
    if kind == "buffered" or text is None:
        return open(path, mode, opener=_reopen_flags)
    # kind "text": the mode has no "b", so open() returns a TextIOWrapper.
    f = cast(
        io.TextIOWrapper,
        open(path, mode, encoding=text["encoding"], errors=text["errors"], opener=_reopen_flags),
    )
    f.reconfigure(line_buffering=text["line_buffering"], write_through=text["write_through"])
    return f


def _rebuild_file(
    kind: str, path: Any, mode: str, position: Any, closed: bool, text: dict[str, Any] | None
) -> Any:
    if closed:
        # A closed file of the same type and name, without touching the (maybe gone) file.
        placeholder = _open(kind, os.devnull, mode, text)
        raw = _raw_of(placeholder)
        placeholder.close()
        raw.name = path
        return placeholder
    f = _open(kind, path, mode, text)
    try:
        if position is not None:
            f.seek(position)
    except BaseException:
        f.close()
        raise
    return f


def _raw_of(f: Any) -> Any:
    layer = f.buffer if isinstance(f, io.TextIOWrapper) else f
    return getattr(layer, "raw", layer)


def _absolute_path(raw: io.FileIO, what: str) -> Any:
    name = raw.name
    if isinstance(name, int):
        raise TypeError(
            f"cannot serialize {what}: it has only a file descriptor ({name}), no path to "
            "reopen (a pipe, os.fdopen() or tempfile.TemporaryFile cannot travel)"
        )
    if raw.closed or os.path.isabs(name):
        return name
    try:  # the real path, even if the working directory changed since open()
        return os.readlink(f"/proc/self/fd/{raw.fileno()}")
    except OSError:
        return os.path.abspath(name)


def _check_reopenable(raw: io.FileIO, what: str) -> None:
    info = os.fstat(raw.fileno())
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        raise TypeError(f"cannot serialize {what}: it is a pipe or socket, not a file to reopen")
    if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
        raise TypeError(f"cannot serialize {what}: the file was deleted, so it cannot be reopened")


def _text_options(f: io.TextIOWrapper) -> dict[str, Any]:
    return {
        "encoding": f.encoding,
        "errors": f.errors,
        "line_buffering": f.line_buffering,
        "write_through": f.write_through,
    }


def _std_stream_name(f: Any) -> str | None:
    for name in _STD_STREAMS:
        if getattr(sys, name, None) is f:
            return name
    return None


def _file_reduce(f: Any) -> tuple[Any, ...]:
    stream = _std_stream_name(f)
    if stream is not None:
        return getattr, (sys, stream)
    what = f"{type(f).__name__} {getattr(f, 'name', '?')!r}"
    if type(f) not in _FILE_TYPES:
        base = next(t for t in _FILE_TYPES if isinstance(f, t))
        raise TypeError(
            f"cannot serialize {what}: it would come back as a plain {base.__name__}; "
            "give its class __serialize__/__deserialize__"
        )
    if isinstance(f, io.TextIOWrapper):
        kind = "text"
        if not isinstance(_raw_of(f), io.FileIO):
            return _wrapper_over_buffer_reduce(f, what)
    else:
        kind = "raw" if isinstance(f, io.FileIO) else "buffered"
    raw = _raw_of(f)
    if not f.closed:
        _check_reopenable(raw, what)
    path = _absolute_path(raw, what)
    mode = getattr(f, "mode", None) if kind == "text" else raw.mode
    if not isinstance(mode, str):  # a TextIOWrapper built by hand has no .mode
        mode = raw.mode.replace("b", "")
    text = _text_options(f) if kind == "text" else None
    if f.closed:
        return _rebuild_file, (kind, path, mode, None, True, text)
    position = None
    if f.seekable():
        if f.writable():
            f.flush()
        try:
            position = f.tell()
        except OSError as error:
            raise TypeError(
                f"cannot serialize {what}: its position is unknown ({error})"
            ) from error
    return _rebuild_file, (kind, path, mode, position, False, text)


_FILE_TYPES = (io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, io.FileIO)
for _file_type in _FILE_TYPES:
    # Subclasses too, so that a standard stream replaced by a subclass (pytest's
    # capture, for one) still travels by name.
    register(_file_type, _file_reduce, subclasses=True)


def _rebuild_wrapper(buffer: Any, text: dict[str, Any], position: Any, closed: bool) -> Any:
    wrapper = io.TextIOWrapper(buffer, **text)
    if closed:
        wrapper.close()
    elif position is not None:
        wrapper.seek(position)
    return wrapper


def _wrapper_over_buffer_reduce(f: io.TextIOWrapper, what: str) -> tuple[Any, ...]:
    buffer = f.buffer
    if not isinstance(buffer, io.BytesIO):
        raise TypeError(f"cannot serialize {what}: it is not backed by a file or a BytesIO")
    text = _text_options(f)
    if f.closed:
        return _rebuild_wrapper, (io.BytesIO(), text, None, True)
    position = f.tell()  # flushes the wrapper into the buffer first
    return _rebuild_wrapper, (buffer, text, position, False)
