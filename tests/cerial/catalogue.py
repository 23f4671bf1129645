"""A catalogue of sample objects: one entry per type family cerial handles.

Each :class:`Entry` has a ``name``, a ``family``, a factory ``make()`` that returns a
fresh sample, ``check(original, copy) -> bool`` that says whether ``copy`` (what came
back from serialize/deserialize) is right, and ``cleanup(obj)`` that releases what a
sample holds (files, sockets, connections); call it on the original and on the copy.

Factories and checks are defined inside :func:`_build`, so they are local functions:
they (and the local classes they make) travel by value and work in an interpreter that
cannot import this module. Adding a type to cerial means adding one entry here.

    from catalogue import CATALOGUE
    for entry in CATALOGUE:
        obj = entry.make()
        copy = cerial.deserialize(cerial.serialize(obj))
        assert entry.check(obj, copy)
        entry.cleanup(obj); entry.cleanup(copy)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ("CATALOGUE", "Entry", "by_name")


def _nothing(obj: Any) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    family: str
    make: Callable[[], Any]
    check: Callable[[Any, Any], bool]
    cleanup: Callable[[Any], None] = _nothing


def _build() -> tuple[Entry, ...]:  # noqa: C901 - one flat list of samples, on purpose
    import collections
    import contextvars
    import datetime
    import decimal
    import enum
    import fractions
    import functools
    import inspect
    import io
    import logging
    import multiprocessing
    import os
    import pathlib
    import queue
    import re
    import socket
    import sqlite3
    import tempfile
    import threading
    import uuid
    import weakref

    from suitkaise.cerial import Reconnector

    entries: list[Entry] = []

    def add(name: str, family: str, make: Any, check: Any = None, cleanup: Any = _nothing) -> None:
        entries.append(Entry(name, family, make, check or (lambda a, b: a == b), cleanup))

    # -- plain data ---------------------------------------------------------------------
    add("dict", "plain", lambda: {"a": 1, "b": [2, 3], 4: None})
    add("list", "plain", lambda: [1, 2.5, "x", b"y", None, True])
    add("set", "plain", lambda: {1, 2, 3})
    add("frozenset", "plain", lambda: frozenset({"a", "b"}))
    add("tuple", "plain", lambda: (1, ("nested", 2.0)))
    add("bytes_bytearray", "plain", lambda: (b"\x00\xff", bytearray(b"abc")))
    add(
        "datetime",
        "stdlib-values",
        lambda: (
            datetime.datetime(
                2024, 5, 17, 12, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            datetime.date(2020, 1, 1),
            datetime.timedelta(days=3, seconds=7),
            datetime.time(23, 59),
        ),
    )
    add("decimal", "stdlib-values", lambda: decimal.Decimal("3.14159265358979323846"))
    add("fraction", "stdlib-values", lambda: fractions.Fraction(22, 7))
    add("uuid", "stdlib-values", lambda: uuid.UUID("12345678-1234-5678-1234-567812345678"))
    add(
        "pathlib",
        "stdlib-values",
        lambda: (pathlib.PurePosixPath("/a/b.txt"), pathlib.Path("rel/x")),
    )

    # -- collections ------------------------------------------------------------------
    add(
        "OrderedDict",
        "collections",
        lambda: collections.OrderedDict([("z", 1), ("a", 2)]),
        lambda a, b: a == b and list(a) == list(b),
    )

    def make_defaultdict() -> Any:
        d = collections.defaultdict(lambda: "fallback")
        d["x"] = "set"
        return d

    add(
        "defaultdict_lambda",
        "collections",
        make_defaultdict,
        lambda a, b: dict(a) == dict(b) and b["missing"] == "fallback",
    )
    add(
        "deque",
        "collections",
        lambda: collections.deque([1, 2, 3], maxlen=5),
        lambda a, b: a == b and b.maxlen == 5,
    )
    add("Counter", "collections", lambda: collections.Counter("abracadabra"))
    add(
        "ChainMap",
        "collections",
        lambda: collections.ChainMap({"a": 1}, {"a": 2, "b": 3}),
        lambda a, b: a == b and b.maps == a.maps,
    )

    # -- classes defined here (local, so by value) ----------------------------------
    def make_enum() -> Any:
        class Color(enum.Enum):
            RED = 1
            GREEN = 2

        return Color.GREEN

    add("enum", "classes", make_enum, lambda a, b: b.name == "GREEN" and b.value == 2)

    def make_dataclass() -> Any:
        @dataclasses.dataclass
        class Point:
            x: int
            y: int = 0

            def norm2(self) -> int:
                return self.x**2 + self.y**2

        return Point(3, 4)

    add(
        "dataclass",
        "classes",
        make_dataclass,
        lambda a, b: (
            dataclasses.is_dataclass(b) and dataclasses.astuple(b) == (3, 4) and b.norm2() == 25
        ),
    )

    def make_namedtuple() -> Any:
        Pair = collections.namedtuple("Pair", "left right")
        return Pair(1, "r")

    add(
        "namedtuple",
        "classes",
        make_namedtuple,
        lambda a, b: tuple(b) == (1, "r") and b.right == "r",
    )

    def make_slots() -> Any:
        class Slotted:
            __slots__ = ("a", "b")

            def __init__(self) -> None:
                self.a, self.b = 1, [2]

        return Slotted()

    add(
        "slots_object",
        "classes",
        make_slots,
        lambda a, b: (b.a, b.b) == (1, [2]) and not hasattr(b, "__dict__"),
    )

    def make_local_class() -> Any:
        class Greeter:
            greeting = "hi"

            def greet(self, who: str) -> str:
                return f"{self.greeting} {who}"

        return Greeter

    add(
        "local_class",
        "classes",
        make_local_class,
        lambda a, b: b.__name__ == "Greeter" and b().greet("x") == "hi x",
    )

    # -- functions ----------------------------------------------------------------------
    add("importable_function", "functions", lambda: os.path.join, lambda a, b: b is os.path.join)
    add("lambda", "functions", lambda: lambda x: x * 3, lambda a, b: b(5) == 15)

    def make_closure() -> Any:
        base = 10

        def adder(x: int) -> int:
            return x + base

        return adder

    add("closure", "functions", make_closure, lambda a, b: b(1) == 11)

    def make_bound_method() -> Any:
        class Counter:
            def __init__(self) -> None:
                self.n = 5

            def plus(self, k: int) -> int:
                return self.n + k

        return Counter().plus

    add("bound_method", "functions", make_bound_method, lambda a, b: b(1) == 6)
    add(
        "partial",
        "functions",
        lambda: functools.partial(max, 3, key=abs),
        lambda a, b: b(-9) == -9 and b.args == (3,),
    )
    add(
        "compiled_regex",
        "functions",
        lambda: re.compile(r"(?P<word>\w+)-\d", re.IGNORECASE),
        lambda a, b: (
            b.pattern == a.pattern and b.flags == a.flags and b.match("ab-1")["word"] == "ab"
        ),
    )

    # -- identity ---------------------------------------------------------------------
    def make_cycle() -> Any:
        shared = [1, 2]
        data: dict[str, Any] = {"a": shared, "b": shared}
        data["self"] = data
        return data

    add(
        "cycles_shared_refs",
        "identity",
        make_cycle,
        lambda a, b: b["a"] is b["b"] and b["self"] is b and b["a"] == [1, 2],
    )

    # -- threading primitives ---------------------------------------------------------
    def make_held_lock() -> Any:
        lock = threading.Lock()
        lock.acquire()
        return lock

    add("lock", "sync", threading.Lock, lambda a, b: type(b) is type(a) and not b.locked())
    add("lock_held", "sync", make_held_lock, lambda a, b: type(b) is type(a) and b.locked())

    def rlock_is_free(a: Any, b: Any) -> bool:
        if type(b) is not type(a) or not b.acquire(blocking=False):
            return False
        b.release()
        return True

    add("rlock", "sync", threading.RLock, rlock_is_free)

    def make_semaphore() -> Any:
        sem = threading.Semaphore(3)
        sem.acquire()
        return sem

    add(
        "semaphore",
        "sync",
        make_semaphore,
        lambda a, b: type(b) is threading.Semaphore and b._value == 2,
    )

    def make_bounded() -> Any:
        sem = threading.BoundedSemaphore(2)
        sem.acquire()
        return sem

    def bounded_ok(a: Any, b: Any) -> bool:
        if type(b) is not threading.BoundedSemaphore or b._value != 1:
            return False
        b.release()
        try:
            b.release()  # over the bound of 2
        except ValueError:
            return True
        return False

    add("bounded_semaphore", "sync", make_bounded, bounded_ok)

    def make_event() -> Any:
        event = threading.Event()
        event.set()
        return event

    add("event", "sync", make_event, lambda a, b: type(b) is threading.Event and b.is_set())
    add(
        "condition",
        "sync",
        lambda: threading.Condition(threading.Lock()),
        lambda a, b: isinstance(b, threading.Condition) and b.acquire(blocking=False),
    )
    add(
        "barrier",
        "sync",
        lambda: threading.Barrier(3, action=lambda: None, timeout=7.5),
        lambda a, b: b.parties == 3 and b._timeout == 7.5 and callable(b._action) and not b.broken,
    )

    # -- queues ---------------------------------------------------------------------------
    def make_queue(cls: Any) -> Callable[[], Any]:
        def make() -> Any:
            q = cls(maxsize=10)
            for item in (3, 1, 2):
                q.put(item)
            return q

        return make

    def queue_ok(expected: list[int]) -> Callable[[Any, Any], bool]:
        def check(a: Any, b: Any) -> bool:
            got = [b.get(timeout=1) for _ in range(3)]
            return type(b) is type(a) and b.maxsize == 10 and got == expected and a.qsize() == 3

        return check

    add("Queue", "queues", make_queue(queue.Queue), queue_ok([3, 1, 2]))
    add("LifoQueue", "queues", make_queue(queue.LifoQueue), queue_ok([2, 1, 3]))
    add("PriorityQueue", "queues", make_queue(queue.PriorityQueue), queue_ok([1, 2, 3]))

    def make_simple_queue() -> Any:
        q = queue.SimpleQueue()
        q.put("a")
        q.put("b")
        return q

    add(
        "SimpleQueue",
        "queues",
        make_simple_queue,
        lambda a, b: [b.get(timeout=1), b.get(timeout=1)] == ["a", "b"] and a.qsize() == 2,
    )

    # -- logging ----------------------------------------------------------------------
    def make_logger() -> Any:
        logger = logging.getLogger("suitkaise.catalogue.sample")
        logger.setLevel(logging.WARNING)
        return logger

    add(
        "logger",
        "logging",
        make_logger,
        lambda a, b: b.name == "suitkaise.catalogue.sample" and b.level == logging.WARNING,
    )
    add("root_logger", "logging", logging.getLogger, lambda a, b: b is logging.getLogger())

    # -- files ------------------------------------------------------------------------
    def temp_path(content: bytes) -> str:
        fd, path = tempfile.mkstemp(prefix="cerial-catalogue-")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        return path

    def close_and_remove(f: Any) -> None:
        if isinstance(f, Reconnector):
            return
        f.close()
        if os.path.exists(f.name):
            os.remove(f.name)

    def make_text_file() -> Any:
        f = open(temp_path("héllo\nwörld\n".encode()), encoding="utf-8")
        f.readline()
        return f

    add(
        "text_file",
        "files",
        make_text_file,
        lambda a, b: type(b) is io.TextIOWrapper and b.mode == "r" and b.read() == "wörld\n",
        close_and_remove,
    )

    def make_binary_file() -> Any:
        f = open(temp_path(b"0123456789"), "rb")
        f.read(4)
        return f

    add(
        "binary_file",
        "files",
        make_binary_file,
        lambda a, b: type(b) is io.BufferedReader and b.read() == b"456789",
        close_and_remove,
    )

    def make_fileio() -> Any:
        f = open(temp_path(b"abcdef"), "rb", buffering=0)
        f.read(2)
        return f

    add(
        "FileIO",
        "files",
        make_fileio,
        lambda a, b: type(b) is io.FileIO and b.read() == b"cdef",
        close_and_remove,
    )

    def make_write_file() -> Any:
        f = open(temp_path(b""), "w")
        f.write("kept")
        return f

    def write_ok(a: Any, b: Any) -> bool:
        b.write("+more")
        b.flush()
        with open(b.name) as r:
            return b.mode == "w" and r.read() == "kept+more"

    add("write_file", "files", make_write_file, write_ok, close_and_remove)

    def make_closed_file() -> Any:
        f = open(temp_path(b"x"), "rb")
        f.close()
        os.remove(f.name)
        return f

    add(
        "closed_file",
        "files",
        make_closed_file,
        lambda a, b: type(b) is io.BufferedReader and b.closed and b.name == a.name,
    )

    def make_stringio() -> Any:
        s = io.StringIO("hello world")
        s.seek(6)
        return s

    add(
        "StringIO",
        "files",
        make_stringio,
        lambda a, b: b.read() == "world" and b.getvalue() == "hello world",
    )

    def make_bytesio() -> Any:
        s = io.BytesIO(b"hello world")
        s.seek(6)
        return s

    add("BytesIO", "files", make_bytesio, lambda a, b: b.read() == b"world")

    # -- generators -----------------------------------------------------------------
    def make_generator() -> Any:
        def countdown(n: int) -> Any:
            while n:
                yield n
                n -= 1

        gen = countdown(4)
        next(gen)
        return gen

    add(
        "generator",
        "iterators",
        make_generator,
        lambda a, b: inspect.isgenerator(b) and list(b) == [3, 2, 1],
    )

    # -- contextvars ----------------------------------------------------------------
    sample_var: contextvars.ContextVar[str] = contextvars.ContextVar(
        "cerial_catalogue", default="d"
    )

    def make_contextvar() -> Any:
        sample_var.set("sent")
        return sample_var

    add(
        "ContextVar",
        "contextvars",
        make_contextvar,
        lambda a, b: b.name == "cerial_catalogue" and b.get() == "sent",
    )

    # -- weak references ----------------------------------------------------------------
    def make_weak(kind: str) -> Callable[[], Any]:
        def make() -> Any:
            class Node:
                def __init__(self, v: int) -> None:
                    self.v = v

            nodes = [Node(1), Node(2)]
            if kind == "ref":
                return nodes, weakref.ref(nodes[0])
            if kind == "proxy":
                return nodes, weakref.proxy(nodes[0])
            if kind == "values":
                return nodes, weakref.WeakValueDictionary({"a": nodes[0], "b": nodes[1]})
            if kind == "keys":
                return nodes, weakref.WeakKeyDictionary({nodes[0]: "a", nodes[1]: "b"})
            return nodes, weakref.WeakSet(nodes)

        return make

    add("weakref", "weakrefs", make_weak("ref"), lambda a, b: b[1]() is b[0][0])
    add("weakproxy", "weakrefs", make_weak("proxy"), lambda a, b: b[1].v == 1)
    add(
        "WeakValueDictionary",
        "weakrefs",
        make_weak("values"),
        lambda a, b: dict(b[1]) == {"a": b[0][0], "b": b[0][1]},
    )
    add(
        "WeakKeyDictionary",
        "weakrefs",
        make_weak("keys"),
        lambda a, b: dict(b[1]) == {b[0][0]: "a", b[0][1]: "b"},
    )
    add("WeakSet", "weakrefs", make_weak("set"), lambda a, b: set(b[1]) == set(b[0]))

    def make_dead_ref() -> Any:
        class Gone:
            pass

        return weakref.ref(Gone())

    add(
        "dead_weakref",
        "weakrefs",
        make_dead_ref,
        lambda a, b: isinstance(b, weakref.ref) and b() is None,
    )

    # -- resources that become Reconnectors -------------------------------------------
    def placeholder(type_key: str, **expected: Any) -> Callable[[Any, Any], bool]:
        def check(a: Any, b: Any) -> bool:
            return (
                isinstance(b, Reconnector)
                and b.type_key == type_key
                and all(b.metadata.get(k) == v for k, v in expected.items())
            )

        return check

    def make_listener() -> Any:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        return sock

    def close_resource(obj: Any) -> None:
        if not isinstance(obj, Reconnector):
            obj.close()

    add(
        "socket_listening",
        "reconnect",
        make_listener,
        lambda a, b: placeholder("socket.socket", listening=True, local=a.getsockname())(a, b),
        close_resource,
    )

    def make_sqlite_file() -> Any:
        path = temp_path(b"")
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (v)")
        conn.commit()
        return conn

    def close_sqlite(obj: Any) -> None:
        if not isinstance(obj, Reconnector):
            path = obj.execute("PRAGMA database_list").fetchall()[0][2]
            obj.close()
            if path and os.path.exists(path):
                os.remove(path)

    add(
        "sqlite_file",
        "reconnect",
        make_sqlite_file,
        lambda a, b: (
            placeholder("sqlite3.Connection", in_memory=False)(a, b)
            and b.metadata["database"] == a.execute("PRAGMA database_list").fetchall()[0][2]
        ),
        close_sqlite,
    )
    add(
        "sqlite_memory",
        "reconnect",
        lambda: sqlite3.connect(":memory:"),
        lambda a, b: (
            placeholder("sqlite3.Connection", in_memory=True)(a, b) and "in-memory" in b.note
        ),
        close_resource,
    )

    def make_thread() -> Any:
        return threading.Thread(target=print, args=("hi",), name="catalogue-thread", daemon=True)

    add(
        "thread",
        "reconnect",
        make_thread,
        placeholder("threading.Thread", name="catalogue-thread", daemon=True),
    )

    def make_pipe_end() -> Any:
        return multiprocessing.Pipe()

    def close_pipe(obj: Any) -> None:
        for end in obj:
            close_resource(end)

    add(
        "pipe_connection",
        "reconnect",
        make_pipe_end,
        lambda a, b: all(placeholder("multiprocessing.connection.Connection")(a, end) for end in b),
        close_pipe,
    )

    return tuple(entries)


CATALOGUE: tuple[Entry, ...] = _build()


def by_name(name: str) -> Entry:
    """The catalogue entry called ``name``."""
    for entry in CATALOGUE:
        if entry.name == name:
            return entry
    raise KeyError(name)
