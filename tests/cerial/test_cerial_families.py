"""Every type family of the catalogue, in-process and through a fresh interpreter.

Functions sent to the fresh interpreter are defined inside the tests, so they travel by
value (this module cannot be imported there); they may use the modules imported here.
"""

from __future__ import annotations

import contextvars
import dataclasses
import inspect
import io
import json
import logging
import os
import queue
import sys
import tempfile
import threading
import weakref

import pytest
from _support import TIMEOUT, run_in_fresh_interpreter
from catalogue import CATALOGUE

from suitkaise import cerial


def roundtrip(obj):
    return cerial.deserialize(cerial.serialize(obj))


# -- the catalogue --------------------------------------------------------------------


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_catalogue_roundtrip_in_process(entry):
    original = entry.make()
    try:
        copy = roundtrip(original)
        try:
            assert entry.check(original, copy)
        finally:
            entry.cleanup(copy)
    finally:
        entry.cleanup(original)


def test_catalogue_roundtrip_through_fresh_interpreter():
    # One child for the whole catalogue: there and back again, checked here.
    originals = {entry.name: entry.make() for entry in CATALOGUE}
    try:
        copies = run_in_fresh_interpreter(lambda objs: objs, originals)
        try:
            failed = [e.name for e in CATALOGUE if not e.check(originals[e.name], copies[e.name])]
            assert failed == []
        finally:
            for entry in CATALOGUE:
                entry.cleanup(copies[entry.name])
    finally:
        for entry in CATALOGUE:
            entry.cleanup(originals[entry.name])


def test_catalogue_has_every_family():
    families = {entry.family for entry in CATALOGUE}
    assert {
        "plain",
        "collections",
        "classes",
        "functions",
        "identity",
        "sync",
        "queues",
        "logging",
        "files",
        "iterators",
        "contextvars",
        "weakrefs",
        "reconnect",
    } <= families
    names = [entry.name for entry in CATALOGUE]
    assert len(names) == len(set(names))


# -- threading primitives --------------------------------------------------------------


def test_sync_primitives_behave_in_fresh_interpreter():
    held = threading.Lock()
    held.acquire()
    rlock = threading.RLock()
    rlock.acquire()  # held by this thread: the copy comes back free
    sem = threading.BoundedSemaphore(3)
    sem.acquire()
    event = threading.Event()
    event.set()
    cond = threading.Condition(threading.Lock())
    barrier = threading.Barrier(2, timeout=TIMEOUT)

    def check(held, free, rlock, sem, event, cond, barrier):
        out = {"held": held.locked(), "free_acquired": free.acquire(timeout=TIMEOUT)}
        out["rlock_reentrant"] = rlock.acquire(timeout=TIMEOUT) and rlock.acquire(timeout=TIMEOUT)
        rlock.release()
        rlock.release()
        out["sem"] = [
            sem.acquire(blocking=False),
            sem.acquire(blocking=False),
            sem.acquire(blocking=False),
        ]
        out["event"] = event.wait(TIMEOUT)

        ready = threading.Event()
        woken = []

        def waiter():
            with cond:
                ready.set()
                woken.append(cond.wait(TIMEOUT))

        t = threading.Thread(target=waiter)
        t.start()
        ready.wait(TIMEOUT)
        with cond:  # the waiter is inside wait() once it released the lock
            cond.notify()
        t.join(TIMEOUT)
        out["condition"] = woken

        arrivals = []
        t = threading.Thread(target=lambda: arrivals.append(barrier.wait()))
        t.start()
        arrivals.append(barrier.wait())
        t.join(TIMEOUT)
        out["barrier"] = sorted(arrivals)
        return out

    try:
        got = run_in_fresh_interpreter(
            check, held, threading.Lock(), rlock, sem, event, cond, barrier
        )
    finally:
        rlock.release()
    assert got == {
        "held": True,
        "free_acquired": True,
        "rlock_reentrant": True,
        "sem": [True, True, False],
        "event": True,
        "condition": [True],
        "barrier": [0, 1],
    }


def test_shared_lock_stays_one_lock_and_condition_keeps_its_lock():
    lock = threading.Lock()
    cond = threading.Condition(lock)
    holder = {"a": lock, "b": lock, "cond": cond}
    back = roundtrip(holder)
    assert back["a"] is back["b"] and back["a"] is not lock
    assert back["cond"]._lock is back["a"]

    def check(h):
        h["a"].acquire()
        return h["b"].locked(), h["cond"].acquire(blocking=False)

    assert run_in_fresh_interpreter(check, holder) == (True, False)


def test_pure_python_rlock_comes_back_released():
    # Regression: threading._PyRLock kept its held inner lock and owner thread id.
    class Tagged(threading._PyRLock):
        def __init__(self, tag):
            super().__init__()
            self.tag = tag

    held, tagged = threading._PyRLock(), Tagged("t")
    held.acquire()
    tagged.acquire()
    try:
        copy, tagged_copy = roundtrip((held, tagged))
        assert type(tagged_copy) is Tagged and tagged_copy.tag == "t"
        for lock in (copy, tagged_copy):
            got = []
            thread = threading.Thread(
                target=lambda lk=lock: got.append(lk.acquire(timeout=TIMEOUT))
            )
            thread.start()
            thread.join(TIMEOUT)
            assert got == [True]
    finally:
        held.release()
        tagged.release()


def test_subclass_attributes_and_broken_barrier():
    class NamedEvent(threading.Event):
        def __init__(self, label):
            super().__init__()
            self.label = label

    class Gate(threading.BoundedSemaphore):
        pass

    gate = Gate(2)
    gate.owner = "me"
    barrier = threading.Barrier(2)
    barrier.abort()
    event = NamedEvent("go")
    back = roundtrip([event, gate, barrier])
    assert type(back[0]) is NamedEvent and back[0].label == "go" and not back[0].is_set()
    assert type(back[1]) is Gate and back[1].owner == "me" and back[1]._value == 2
    assert back[2].broken


def test_thread_is_a_placeholder_that_rebuilds_unstarted():
    class Worker(threading.Thread):
        def __init__(self, x):
            super().__init__(name="worker", daemon=True)
            self.x = x
            self.result = None

        def run(self):
            self.result = self.x * 2

    placeholder = roundtrip({"w": Worker(21)})["w"]
    assert isinstance(placeholder, cerial.Reconnector) and placeholder.metadata["name"] == "worker"
    thread = cerial.reconnect_all(placeholder)
    assert type(thread) is Worker and not thread.is_alive() and thread.daemon
    thread.start()
    thread.join(TIMEOUT)
    assert thread.result == 42
    main = roundtrip(threading.main_thread())
    assert main.reconnect() is threading.main_thread()


def test_thread_with_unserializable_target_explains_on_reconnect():
    async def agen():
        yield 1

    gen = agen()
    thread = threading.Thread(target=print, args=(gen,))
    placeholder = roundtrip(thread)
    assert "cannot be serialized" in placeholder.note
    with pytest.raises(cerial.ReconnectError, match="threading.Thread"):
        placeholder.reconnect()


# -- queues -------------------------------------------------------------------------


def test_queues_keep_items_order_and_maxsize_in_fresh_interpreter():
    fifo, lifo, prio = queue.Queue(maxsize=4), queue.LifoQueue(), queue.PriorityQueue()
    for item in (3, 1, 2):
        fifo.put(item)
        lifo.put(item)
        prio.put((item, f"task {item}"))
    simple = queue.SimpleQueue()
    for item in "abc":
        simple.put(item)
    fifo.get()  # taken but not task_done(): that task belongs to this process

    def check(fifo, lifo, prio, simple):
        out = {"maxsize": fifo.maxsize, "unfinished": fifo.unfinished_tasks, "full": False}
        fifo.put(9)
        fifo.put(10)
        out["full"] = fifo.full()
        out["fifo"] = [fifo.get(timeout=TIMEOUT) for _ in range(4)]
        for _ in range(4):
            fifo.task_done()
        with fifo.all_tasks_done:  # what join() waits for, with a timeout
            out["joined"] = fifo.all_tasks_done.wait_for(lambda: not fifo.unfinished_tasks, TIMEOUT)
        out["lifo"] = [lifo.get(timeout=TIMEOUT) for _ in range(3)]
        out["prio"] = [prio.get(timeout=TIMEOUT)[1] for _ in range(3)]
        out["simple"] = [simple.get(timeout=TIMEOUT) for _ in range(3)]
        return out

    got = run_in_fresh_interpreter(check, fifo, lifo, prio, simple)
    assert got == {
        "maxsize": 4,
        "unfinished": 2,
        "full": True,
        "fifo": [1, 2, 9, 10],
        "joined": True,
        "lifo": [2, 1, 3],
        "prio": ["task 1", "task 2", "task 3"],
        "simple": ["a", "b", "c"],
    }
    assert fifo.qsize() == 2 and simple.qsize() == 3  # originals untouched


def test_queue_subclass_and_queue_holding_itself():
    class TaggedQueue(queue.Queue):
        pass

    q = TaggedQueue()
    q.tag = "jobs"
    q.put(q)
    back = roundtrip(q)
    assert type(back) is TaggedQueue and back.tag == "jobs"
    assert back.get(timeout=TIMEOUT) is back


# -- logging ------------------------------------------------------------------------


def test_logger_level_travels_in_fresh_interpreter():
    class AuditLogger(logging.Logger):
        def audit(self, msg):
            return f"audit: {msg}"

    logger = logging.getLogger("suitkaise.tests.families.level")
    logger.setLevel(logging.ERROR)
    custom = AuditLogger("suitkaise.tests.families.custom")
    custom.setLevel(logging.DEBUG)
    root_level = logging.getLogger().level

    def check(lg, custom, root):
        same = lg is logging.getLogger("suitkaise.tests.families.level")
        rebuilt = logging.getLogger("suitkaise.tests.families.custom")
        return (
            same,
            lg.level,
            lg.isEnabledFor(logging.WARNING),
            custom is rebuilt,
            custom.audit("x"),
            custom.level,
            root is logging.getLogger(),
            root.level,
        )

    got = run_in_fresh_interpreter(check, logger, custom, logging.getLogger())
    assert got == (True, logging.ERROR, False, True, "audit: x", logging.DEBUG, True, root_level)
    assert roundtrip(logger) is logger


# -- files ---------------------------------------------------------------------------


def test_files_reopen_at_position_in_fresh_interpreter(tmp_path):
    text_path = tmp_path / "text.txt"
    text_path.write_text("ünïcode line\nsecond line\nthird\n", encoding="utf-8")
    bin_path = tmp_path / "data.bin"
    bin_path.write_bytes(bytes(range(16)))
    text = open(text_path, encoding="utf-8")
    text.readline()
    binary = open(bin_path, "rb+")
    binary.seek(10)
    raw = open(bin_path, "rb", buffering=0)
    raw.seek(14)

    def check(text, binary, raw):
        out = (
            text.readline(),
            text.encoding,
            binary.read(2),
            binary.mode,
            raw.read(),
            type(raw).__name__,
        )
        for f in (text, binary, raw):
            f.close()
        return out

    try:
        got = run_in_fresh_interpreter(check, text, binary, raw)
    finally:
        for f in (text, binary, raw):
            f.close()
    assert got == ("second line\n", "utf-8", bytes([10, 11]), "rb+", bytes([14, 15]), "FileIO")


def test_write_and_append_modes_do_not_truncate(tmp_path):
    path = tmp_path / "out.txt"
    with open(path, "w") as w, open(path, "a") as a:
        w.write("written")  # still in the buffer: serializing flushes it
        copy = roundtrip(w)
        with copy:
            assert copy.mode == "w" and copy.tell() == 7
            copy.write("+copy")
        appended = roundtrip(a)
        with appended:
            appended.write("!")
    assert path.read_text() == "written+copy!"


def test_relative_path_survives_chdir(tmp_path, monkeypatch):
    (tmp_path / "rel.txt").write_text("abc")
    monkeypatch.chdir(tmp_path)
    with open("rel.txt") as f:
        f.read(1)
        monkeypatch.chdir(tmp_path.parent)
        data = cerial.serialize(f)

    def check(data):
        with cerial.deserialize(data) as g:
            return g.read(), os.path.isabs(g.name)

    assert run_in_fresh_interpreter(check, data) == ("bc", True)


def test_closed_file_comes_back_closed_even_if_gone(tmp_path):
    path = tmp_path / "gone.txt"
    path.write_text("x")
    f = open(path, "a+")
    f.close()
    path.unlink()
    copy = roundtrip(f)
    assert copy.closed and copy.name == str(path) and copy.mode == "a+"
    assert type(copy) is io.TextIOWrapper


def test_files_without_a_path_are_refused(tmp_path):
    read_fd, write_fd = os.pipe()
    with open(read_fd, "rb") as r, open(write_fd, "wb") as w:
        with pytest.raises(cerial.SerializationError, match="pipe or socket"):
            cerial.serialize({"pipe": w})
        with pytest.raises(cerial.SerializationError) as info:
            cerial.serialize({"pipe": r}, debug=True)
        assert "obj['pipe']" in str(info.value)
    regular = tmp_path / "regular.txt"
    regular.write_text("x")
    with open(os.open(regular, os.O_RDONLY), "rb") as f:
        with pytest.raises(cerial.SerializationError, match="no path to reopen"):
            cerial.serialize(f)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # RDWR: opening does not wait for a writer
        with open(fd, "rb", closefd=True) as f:
            f.raw.name = str(fifo)
            with pytest.raises(cerial.SerializationError, match="pipe or socket"):
                cerial.serialize(f)
    deleted = tmp_path / "deleted.txt"
    deleted.write_text("x")
    with open(deleted) as f:
        deleted.unlink()
        with pytest.raises(cerial.SerializationError, match="deleted"):
            cerial.serialize(f)


def test_file_subclass_is_refused_not_downgraded(tmp_path):
    class Tagged(io.FileIO):
        pass

    path = tmp_path / "tagged.bin"
    path.write_bytes(b"x")
    with Tagged(path) as f:
        with pytest.raises(cerial.SerializationError, match="plain FileIO"):
            cerial.serialize(f)


def test_std_streams_stringio_bytesio_and_text_over_bytesio():
    assert roundtrip(sys.stdout) is sys.stdout and roundtrip(sys.stderr) is sys.stderr
    wrapper = io.TextIOWrapper(io.BytesIO("å\nb\n".encode()), encoding="utf-8")
    wrapper.readline()
    copy = roundtrip(wrapper)
    assert copy.read() == "b\n"
    text, binary = io.StringIO("abcdef"), io.BytesIO(b"abcdef")
    text.seek(2)
    binary.seek(4)

    def check(text, binary):
        return text.read(), binary.read(), text.getvalue()

    assert run_in_fresh_interpreter(check, text, binary) == ("cdef", b"ef", "abcdef")


def test_named_temporary_file_copy_does_not_delete_it():
    with tempfile.NamedTemporaryFile("w+") as tmp:
        tmp.write("data")
        copy = roundtrip(tmp)
        copy.close()
        assert os.path.exists(tmp.name)
        tmp.seek(0)
        assert tmp.read() == "data"


def test_shared_file_stays_one_file(tmp_path):
    path = tmp_path / "shared.txt"
    path.write_text("abc")
    with open(path) as f:
        back = roundtrip({"a": f, "b": f})
    with back["a"]:
        assert back["a"] is back["b"]


# -- generators -------------------------------------------------------------------------


def test_generator_remaining_items_in_fresh_interpreter():
    def numbers():
        yield from range(5)

    gen = numbers()
    next(gen)

    def check(gen):
        return inspect.isgenerator(gen), gen.__name__, list(gen)

    assert run_in_fresh_interpreter(check, gen) == (True, "numbers", [1, 2, 3, 4])
    assert list(gen) == []  # documented: serializing consumes the original


def test_generator_drained_once_across_both_passes():
    pulled = []

    def tracked():
        for i in range(3):
            pulled.append(i)
            yield i

    gen = tracked()
    # The local lambda fails the fast pass, so the full pass pickles the generator again.
    back = roundtrip([gen, gen, lambda: 0])
    assert pulled == [0, 1, 2]
    assert back[0] is back[1] and list(back[0]) == [0, 1, 2]


def test_failing_generator_fails_every_pass():
    def broken():
        yield 1
        raise ValueError("boom inside")

    with pytest.raises(cerial.SerializationError, match="boom inside"):
        cerial.serialize([broken(), lambda: 0])


def test_coroutines_and_async_generators_are_refused():
    async def coro():
        return 1

    async def agen():
        yield 1

    c = coro()
    try:
        with pytest.raises(cerial.SerializationError, match="coroutine 'test_coroutines"):
            cerial.serialize(c)
    finally:
        c.close()
    with pytest.raises(cerial.SerializationError, match="async generator"):
        cerial.serialize(agen())


# -- contextvars -------------------------------------------------------------------------

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")
NO_DEFAULT: contextvars.ContextVar[int] = contextvars.ContextVar("no_default")


def test_contextvar_identity_value_and_default():
    token = REQUEST_ID.set("req-7")
    try:
        assert roundtrip(REQUEST_ID) is REQUEST_ID

        def check(a, b, no_default):
            fresh = contextvars.Context()
            try:
                no_default.get()
                unset = "value"
            except LookupError:
                unset = "lookup error"
            return (a is b, a.name, a.get(), fresh.run(a.get), unset)

        got = run_in_fresh_interpreter(check, REQUEST_ID, REQUEST_ID, NO_DEFAULT)
        assert got == (True, "request_id", "req-7", "none", "lookup error")
        with pytest.raises(cerial.SerializationError, match="Token"):
            cerial.serialize(token)
    finally:
        REQUEST_ID.reset(token)


# -- weak references --------------------------------------------------------------------


def test_weakrefs_point_at_rebuilt_referents_in_fresh_interpreter():
    class Node:
        def __init__(self, v):
            self.v = v
            self.me = weakref.ref(self)

        def value(self):
            return self.v

    nodes = [Node(1), Node(2)]
    graph = {
        "nodes": nodes,
        "ref": weakref.ref(nodes[0]),
        "method": weakref.WeakMethod(nodes[1].value),
        "proxy": weakref.proxy(nodes[1]),
        "values": weakref.WeakValueDictionary({"one": nodes[0]}),
        "keys": weakref.WeakKeyDictionary({nodes[1]: "two"}),
        "set": weakref.WeakSet(nodes),
    }

    def check(g):
        a, b = g["nodes"]
        return (
            g["ref"]() is a,
            a.me() is a,
            g["method"]()(),
            g["proxy"].v,
            g["values"]["one"] is a,
            g["keys"][b],
            len(g["set"]),
        )

    assert run_in_fresh_interpreter(check, graph) == (True, True, 2, 2, True, "two", 2)


def test_weakref_without_its_referent_arrives_dead():
    class Thing:
        pass

    alive = Thing()
    alone = roundtrip(weakref.ref(alive))
    assert alone() is None  # documented: nothing in the copy holds the referent
    assert roundtrip({"only": weakref.WeakValueDictionary({1: alive})})["only"].get(1) is None
    dead = weakref.ref(Thing())
    assert roundtrip(dead)() is None
    with pytest.raises(ReferenceError):
        roundtrip(weakref.proxy(Thing())).anything


# -- __serialize__ hooks win over built-in handlers -----------------------------------------


def test_serialize_hooks_beat_builtin_handlers():
    class Flag(threading.Event):
        def __serialize__(self):
            return {"hooked": True}

        @classmethod
        def __deserialize__(cls, state):
            flag = cls()
            flag.state = state
            return flag

    class Reentrant(type(threading.RLock())):
        def __serialize__(self):
            return "rlock state"

        @classmethod
        def __deserialize__(cls, state):
            lock = cls()
            lock.note = state
            return lock

    @dataclasses.dataclass
    class Config:
        secret: str
        public: str

        def __serialize__(self):
            return self.public

        @classmethod
        def __deserialize__(cls, state):
            return cls("<redacted>", state)

    def check(flag, lock, config):
        return flag.state, lock.note, config.secret, config.public

    objs = (Flag(), Reentrant(), Config("hunter2", "hello"))
    assert check(*roundtrip(objs)) == ({"hooked": True}, "rlock state", "<redacted>", "hello")
    assert run_in_fresh_interpreter(check, *objs) == (
        {"hooked": True},
        "rlock state",
        "<redacted>",
        "hello",
    )
    assert b"hunter2" not in cerial.serialize(objs)


# -- errors and IR ----------------------------------------------------------------------


def test_debug_names_the_path_to_an_async_generator():
    async def handler():
        yield "event"

    class Service:
        def __init__(self):
            self.config = {"retries": 3, "handler": handler()}

    with pytest.raises(cerial.SerializationError) as info:
        cerial.serialize(Service(), debug=True)
    message = str(info.value)
    assert "obj.config['handler']" in message and "async_generator" in message
    assert info.value.path == "obj.config['handler']"
    with pytest.raises(cerial.SerializationError, match="debug=True"):
        cerial.serialize(Service())


def test_debug_and_ir_report_a_misbehaving_reduce():
    # Regression: a reduce tuple with bad dictitems escaped serialize(debug=True) and
    # serialize_ir() as a bare TypeError.
    class BadItems:
        def __reduce__(self):
            return (dict, (), None, None, 5)

    class Short:
        def __reduce__(self):
            return (Short,)

    for call in (lambda obj: cerial.serialize(obj, debug=True), cerial.serialize_ir):
        with pytest.raises(cerial.SerializationError, match=r"dictitems of type int") as info:
            call({"x": BadItems()})
        assert info.value.path == "obj['x']"
        with pytest.raises(cerial.SerializationError, match=r"returned a 1-item tuple"):
            call(Short())


def test_ir_and_json_name_type_and_handler(tmp_path):
    path = tmp_path / "ir.txt"
    path.write_text("x")
    with open(path) as f:
        sample = {
            "lock": threading.Lock(),
            "queue": queue.Queue(),
            "logger": logging.getLogger("suitkaise.tests.ir"),
            "file": f,
            "gen": (i for i in range(2)),
        }
        tree = json.loads(cerial.to_json(sample))
    assert cerial.serialize_ir(threading.Lock())["handler"] == "_lock_reduce"
    by_key = {pair[0]["value"]: pair[1] for pair in tree["items"]}
    assert by_key["lock"]["type"] == "_thread.lock" and by_key["lock"]["handler"] == "_lock_reduce"
    assert (
        by_key["queue"]["type"] == "queue.Queue" and by_key["queue"]["handler"] == "_queue_reduce"
    )
    assert by_key["logger"]["handler"] == "_logger_reduce"
    assert by_key["file"]["handler"] == "_file_reduce"
    assert by_key["gen"]["handler"] == "_generator_reduce"
    assert by_key["gen"]["args"][0]["items"] == [
        {"type": "int", "value": 0},
        {"type": "int", "value": 1},
    ]
