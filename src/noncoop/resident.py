"""A resident build.py: `build.py serve` imports the libraries once and waits; each later `build.py`
hands it its run (arguments, working folder, environment, umask, cores and its standard streams
themselves) over a Unix socket that only this user can reach, and exits with the run's status.

Starting Python and importing pandas, pyarrow and pandera take about a second, most of a check
after a small edit. The resident process pays it once. Each run happens in a fork of that process
made for it, which holds the imports and the file hashes earlier runs gave back (`hashes`; a check
trusts one while its file's inode, size and times are unchanged, a build hashes afresh: cli.py)
and nothing else: it reads the inputs, schemas and cache as a `build.py` of its own would, and its
output goes straight to the caller's streams. Before each run the code's digest (every file of the
package, the libraries' versions: cache.code_digest) is compared with the one the process started
with; after any change the process stops and `build.py` runs alone.
Ctrl-C (and SIGTERM, SIGHUP) on `build.py` reaches the run; a `build.py` that dies interrupts it.

`NONCOOP_RESIDENT=off` keeps every run in its own process (the tests set it); another value is
the socket's path. This module uses the standard library only: build.py loads it first.
"""
from __future__ import annotations

import atexit
import io
import os
import signal
import socket
import stat
import struct
import sys
import time

# The caller imports only what it needs: typing, pathlib and json (with re and enum) would take
# 30 ms, a tenth of a check handed over; the request is a Python literal (ast.literal_eval reads it).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, NoReturn

ENV = "NONCOOP_RESIDENT"
SOCKET = ".cache/noncoop/resident/socket"  # under the project, in a folder only its user may enter
FORWARDED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")  # passed on to the run
                  if hasattr(signal, name))
_HEADER = struct.Struct("!I")  # the request's length; sent with the three streams
MAX_REQUEST = 1 << 22
STALE = 75  # the status of a run's process that found the code changed (EX_TEMPFAIL), between it and the server


def socket_path(project: str) -> str | None:
    """Where the resident process of `project` listens (None: runs are never handed over)."""
    value = os.environ.get(ENV, "")
    if value.lower() == "off":
        return None
    return value or os.path.join(project, SOCKET)


def _private(folder: str) -> bool:
    """A folder of this user's that no one else may enter (so its socket is this user's own)."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


# --- the caller: build.py ------------------------------------------------------------------------

def hand_over(project: str, argv: list[str]) -> int | None:
    """Run `build.py argv` in the resident process of `project`: the run's exit status, or None
    when there is no such process or it cannot take the run (build.py then runs it itself)."""
    path = socket_path(project)
    if path is None or "serve" in argv or not hasattr(socket, "send_fds") or not _private(os.path.dirname(path)):
        return None  # (none to reach, or a system without Unix sockets that pass files)
    request = repr({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
                          "cores": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None})
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)  # (a closed stream cannot be handed over)
        conn.connect(path)
        body = request.encode("utf-8")
        socket.send_fds(conn, [_HEADER.pack(len(body))], [0, 1, 2])
        conn.sendall(body)
    except OSError:
        conn.close()
        return None
    previous = {sig: signal.signal(sig, lambda sig, _: _tell(conn, sig)) for sig in FORWARDED}
    try:
        reply = _reply(conn)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        conn.close()
    if reply == "stale":
        print("build.py: the resident process (build.py serve) was started with other code or libraries; "
              "it stops, and this run goes on here", file=sys.stderr, flush=True)
        return None
    if reply.startswith("exit "):
        return int(reply[5:])
    print("build.py: the resident process stopped before the run ended: run it again", file=sys.stderr)
    return 1


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tell(conn: socket.socket, sig: int) -> None:
    try:
        conn.send(bytes([sig]))
    except OSError:
        pass


def _reply(conn: socket.socket) -> str:
    """The resident process's one line: "exit N", or "stale" ("": it closed the connection first)."""
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = conn.recv(64)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace").strip()


# --- the resident process: build.py serve --------------------------------------------------------

def serve(project: str, run: Callable[[list[str]], int], digest: Callable[[], str], idle: float,
          say: Callable[[str], None], hashes: tuple[Callable[[], bytes], Callable[[bytes], None]] | None = None) -> int:
    """Take runs until `idle` seconds pass without one, or the code's `digest` changes, or Ctrl-C;
    each run is `run(argv)` in a fork of this process. `hashes` (give, take): what a run gives at its
    end this process takes, so the runs after it start with it."""
    path = socket_path(project)
    if path is None:
        say(f"{ENV}=off: nothing to serve")
        return 2
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o700)
        if not _private(folder):
            raise PermissionError(f"{folder} is not a folder of this user's that only they may enter")
        if answers(path):
            say(f"a resident process already serves {project} (at {path})")
            return 1
        if os.path.lexists(path):
            os.unlink(path)  # left by one that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(16)
    except OSError as exc:
        say(f"cannot listen at {path}: {exc}")
        return 1
    inode = os.stat(path).st_ino
    started = digest()
    say(f"serving the runs of build.py for {project} at {path}; stops after {idle:g} s without one, or on Ctrl-C")
    server = _Server(listener, run, lambda: digest() == started, say, hashes)  # (`digest` is read again in each run)
    try:
        server.loop(idle)
    except KeyboardInterrupt:
        server.interrupt()
    finally:
        server.close(path, inode)
    say("stopped")
    return 0


def answers(path: str) -> bool:
    """Whether a resident process listens at `path` (the socket file exists from bind, before listen)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


class _Server:
    def __init__(self, listener: socket.socket, run: Callable[[list[str]], int], current: Callable[[], bool],
                 say: Callable[[str], None], hashes: tuple[Callable[[], bytes], Callable[[bytes], None]] | None):
        self.listener, self.run, self.current, self.say, self.hashes = listener, run, current, say, hashes
        self.folder = os.path.dirname(listener.getsockname())  # (private: `serve` made sure)
        self.runs: dict[int, socket.socket] = {}  # a run's process -> its caller's connection
        import selectors  # (the server's only)
        self.selector, self.EVENT_READ = selectors.DefaultSelector(), selectors.EVENT_READ
        self.wake_r, self.wake_w = os.pipe()  # a byte on each SIGCHLD
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def loop(self, idle: float) -> None:
        self.selector.register(self.listener, self.EVENT_READ, "accept")
        self.selector.register(self.wake_r, self.EVENT_READ, "child")
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        signal.set_wakeup_fd(self.wake_w)
        last = time.monotonic()
        while self.listener.fileno() >= 0 or self.runs:
            timeout = None if self.runs or self.listener.fileno() < 0 else max(0.0, last + idle - time.monotonic())
            events = self.selector.select(timeout)
            if not events and not self.runs and time.monotonic() >= last + idle:
                break
            for key, _ in events:
                if key.data == "accept":
                    self._accept()
                elif key.data == "child":
                    os.read(self.wake_r, 4096)
                else:
                    self._signal(key.fileobj, key.data)
            if self._reap():
                last = time.monotonic()

    def interrupt(self) -> None:
        """Ctrl-C or SIGTERM on this process: interrupt the runs under way and wait for them."""
        for pid in self.runs:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        while self.runs:
            try:
                self._ended(*os.waitpid(-1, 0))
            except ChildProcessError:
                break
            except KeyboardInterrupt:
                continue

    def close(self, path: str, inode: int) -> None:
        self.listener.close()
        try:
            for name in os.listdir(self.folder):
                if name.startswith("given."):  # (left by a run killed while it wrote, or not taken)
                    os.unlink(os.path.join(self.folder, name))
        except OSError:
            pass
        try:
            if os.stat(path).st_ino == inode:  # (not one that another process put there since)
                os.unlink(path)
        except OSError:
            pass

    def _accept(self) -> None:
        """Take one caller's run: fork the process that runs it."""
        conn, _ = self.listener.accept()
        fds: list[int] = []
        try:
            conn.settimeout(10)
            uid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
            if uid != os.getuid():
                return
            header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
            if len(header) != _HEADER.size or len(fds) != 3 or _HEADER.unpack(header)[0] > MAX_REQUEST:
                return
            request = _request(_exactly(conn, _HEADER.unpack(header)[0]))
            pid = os.fork()
            if pid == 0:
                self._child(conn, fds, request)
            conn.settimeout(None)
            self.runs[pid] = conn
            self.selector.register(conn, self.EVENT_READ, pid)
            conn = None
        except (OSError, ValueError) as exc:
            self.say(f"a run could not be taken: {exc}")
        finally:
            for fd in fds:
                os.close(fd)
            if conn is not None:
                conn.close()

    def _child(self, conn: socket.socket, fds: list[int], request: dict) -> NoReturn:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):  # (the server runs on Unix only)
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for other in (self.listener, *self.runs.values()):
                other.close()
            if not self.current():  # (read here, not in the server, so the run finds it read already)
                conn.sendall(b"stale\n")
                code = STALE
                return
            conn.close()
            self.selector.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            import fcntl  # (Unix only, as the server is)
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for fd in fds]  # (none of 0-2: no dup2 below overwrites another)
            for fd in fds:
                os.close(fd)
            for target, fd in enumerate(high):
                os.dup2(fd, target)
                os.close(fd)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            os.umask(request["umask"])
            if request["cores"] and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, request["cores"])
            _fresh_streams()
            sys.argv = ["build.py", *request["argv"]]
            code = self.run(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, (int, type(None))):
                print(exc.code, file=sys.stderr)
        except BaseException:  # noqa: BLE001 - as Python itself would: the traceback, status 1
            import traceback
            traceback.print_exc()
        finally:
            try:
                atexit._run_exitfuncs()
                sys.stdout.flush()
                sys.stderr.flush()
                if self.hashes is not None and code != STALE:
                    self._give(self.hashes[0]())
            finally:
                os._exit(code)

    def _give(self, data: bytes) -> None:
        """Leave `data` for the server in the private folder (whole or not at all)."""
        path = os.path.join(self.folder, f"given.{os.getpid()}")
        fd = os.open(path + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with open(fd, "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)

    def _take(self, pid: int) -> None:
        """What the run `pid` gave, if it gave anything."""
        path = os.path.join(self.folder, f"given.{pid}")
        try:
            with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as f:
                os.unlink(path)
                data = f.read()
        except OSError:
            return
        self.hashes[1](data)

    def _signal(self, conn: socket.socket, pid: int) -> None:
        """The caller sent a signal's number (Ctrl-C...), or went away (as a Ctrl-C)."""
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        signals = [s for s in data if s in FORWARDED] if data else [signal.SIGINT]
        if not data:
            self.selector.unregister(conn)
        for sig in signals:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _reap(self) -> bool:
        """Whether any run ended (its caller is told its status)."""
        ended = False
        while self.runs:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ended = self._ended(pid, status) or ended
        return ended

    def _ended(self, pid: int, status: int) -> bool:
        conn = self.runs.pop(pid, None)
        if conn is None:
            return False
        code = os.waitstatus_to_exitcode(status)
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        if code == STALE and self.listener.fileno() >= 0:  # the code changed: no more runs here (it told its caller)
            self.say("the code or the libraries changed: stopping (start `build.py serve` again)")
            self.selector.unregister(self.listener)
            self.listener.close()
        try:
            conn.sendall(f"exit {code if code >= 0 else 128 - code}\n".encode())
        except OSError:
            pass
        conn.close()
        if self.hashes is not None:  # (after the reply: its caller does not wait for this)
            self._take(pid)
        return True


def _request(body: bytes) -> dict:
    """The caller's request: a literal of the fields `hand_over` sends, or ValueError."""
    import ast
    try:
        request = ast.literal_eval(body.decode("utf-8"))
    except (SyntaxError, TypeError, UnicodeDecodeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"an unreadable request ({exc.__class__.__name__})") from None
    if not (isinstance(request, dict) and isinstance(request.get("argv"), list) and isinstance(request.get("cwd"), str)
            and isinstance(request.get("env"), dict) and isinstance(request.get("umask"), int)):
        raise ValueError("a request without argv, cwd, env and umask")
    return request


def _exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        data = conn.recv(min(left, 1 << 16))
        if not data:
            raise ValueError("the request ended early")
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


def _fresh_streams() -> None:
    """sys.stdin, stdout and stderr on the caller's streams, buffered as Python buffers them for it."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        old = getattr(sys, name)
        raw = io.open(fd, "rb" if fd == 0 else "wb", closefd=False)
        setattr(sys, name, io.TextIOWrapper(raw, encoding=getattr(old, "encoding", None) or "utf-8",
                                            errors=getattr(old, "errors", None) or "strict",
                                            line_buffering=fd == 2 or (fd == 1 and os.isatty(1))))
