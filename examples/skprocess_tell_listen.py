"""tell() and listen() from the processing guide, runnable.

The parent tells the process what to do; the process runs the command and tells the
parent about a corrupt file it found. A second process is never told anything: its
``listen(timeout=5.0)`` gives up, so it raises ``TimeoutError("No command received")``,
and the parent's own ``listen(timeout=5.0)`` returns ``None``.

Run it with ``python examples/skprocess_tell_listen.py`` (about 5 seconds: the
timeouts are real).
"""

from __future__ import annotations

from suitkaise.processing import ProcessError, Skprocess

FILES = {"notes.txt": b"hello", "corrupt_file.txt": b"\x00\x00\x00", "data.csv": b"a,b\n1,2\n"}


def run_command(command):
    """'check <file>' -> the file's name if it looks corrupt, else None."""
    verb, name = command.split(" ", 1)
    assert verb == "check"
    return name if FILES[name].startswith(b"\x00") else None


class MyProcess(Skprocess):
    def __init__(self):
        self.process_config.runs = len(FILES)

    def __run__(self):

        command = self.listen(timeout=5.0)

        if not command:
            raise TimeoutError("No command received")
        else:
            corrupt = run_command(command)

        if corrupt:
            self.tell(("i have found a corrupt file", corrupt))


if __name__ == "__main__":
    corrupt_files = []

    p = MyProcess()
    p.start()

    # sends "check <file>" to the subprocess (tell() does not block)
    for name in FILES:
        p.tell(f"check {name}")

    data = p.listen()

    if data[0] == "i have found a corrupt file":
        corrupt_files.append(data[1])

    p.wait()
    print("corrupt files:", corrupt_files)

    # nobody tells this one anything
    q = MyProcess()
    q.start()

    # with timeout - returns None if timeout reached
    data = q.listen(timeout=5.0)
    print("listen(timeout=5.0) returned", data)

    try:
        q.result()
    except ProcessError as e:
        print(f"{type(e).__name__}: {e} ({e.original_error!r})")
