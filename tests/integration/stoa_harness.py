#!/usr/bin/env python3
"""Shared helpers for Stoa's integration tests.

Each tests/integration/test_*.py file imports this module, registers its
tests on a Tap and calls tap.run(). Tests start the real binary
($STOA_BIN) on loopback with a generated configs folder and talk to it
over HTTP and WebSocket like janus.js would. Every test file runs in its own
network namespace (tests/ns-run), so fixed ports are safe.

What is here:
  Tap         TAP producer: test registration, per-test timeout, diagnostics.
  Server      starts/stops one stoa process; checks exit status and sanitizers.
  HttpClient  thin aiohttp wrapper returning (status, headers, body).
  WsClient    websockets wrapper with transaction matching and an event stash.
  JanusClient the same Janus/Admin API calls over either transport, so a test
              body runs unchanged over HTTP and WebSocket.

Only the Python standard library plus Debian's python3-websockets and
python3-aiohttp are used; run with /usr/bin/python3.
"""

import asyncio
import inspect
import json
import os
import random
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import aiohttp
    import websockets
    import yarl
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing Python module: %s (use /usr/bin/python3 with "
          "python3-aiohttp and python3-websockets)" % e, flush=True)
    sys.exit(1)

HOST = "127.0.0.1"
HTTP_PORT = 8088
WS_PORT = 8188
ADMIN_HTTP_PORT = 7088
ADMIN_WS_PORT = 7188
DEFAULT_PORTS = (HTTP_PORT, WS_PORT, ADMIN_HTTP_PORT, ADMIN_WS_PORT)

ECHOTEST = "janus.plugin.echotest"
JANUS_PROTOCOL = "janus-protocol"
ADMIN_PROTOCOL = "janus-admin-protocol"

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")

# Replies to a request; everything else on a socket is an event.
REPLY_KINDS = ("success", "ack", "error", "server_info", "pong")


def bail_out(msg):
    print("Bail out! %s" % msg, flush=True)
    sys.exit(1)


def env_path(name, required=True):
    v = os.environ.get(name)
    if required and not v:
        bail_out("%s is not set (run through make check, or set STOA_BIN, "
                 "STOA_PLUGINS, STOA_HTML)" % name)
    return v


def transaction():
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(12))


# ---------------------------------------------------------------- assertions

class TestFailure(AssertionError):
    pass


def check(cond, msg="check failed", *detail):
    if not cond:
        text = msg
        for d in detail:
            text += "\n" + (d if isinstance(d, str) else json.dumps(d, default=str))
        raise TestFailure(text)


def expect(reply, kind="success"):
    """Asserts reply["janus"] == kind and returns the reply."""
    check(isinstance(reply, dict), "expected a JSON object reply", reply)
    check(reply.get("janus") == kind, "expected janus=%r" % kind, reply)
    return reply


def expect_error(reply, code):
    """Asserts an error reply with this code and returns it."""
    check(isinstance(reply, dict), "expected a JSON object reply", reply)
    check(reply.get("janus") == "error", "expected an error %d" % code, reply)
    err = reply.get("error")
    check(isinstance(err, dict) and err.get("code") == code,
          "expected error code %d" % code, reply)
    check(isinstance(err.get("reason"), str), "error without a reason", reply)
    return reply


# ---------------------------------------------------------------- TAP

_current_servers = []   # servers started by the running test (for diagnostics)
_live_servers = set()   # servers not yet stopped (for cleanup)


def diag(text):
    for line in str(text).rstrip("\n").split("\n"):
        print("# " + line, flush=True)


class _Test:
    def __init__(self, name, fn, timeout, kwargs, uses_shared=True, skip_if=None):
        self.name = name
        self.fn = fn
        self.timeout = timeout
        self.kwargs = kwargs
        self.uses_shared = uses_shared
        self.skip_if = skip_if


class Tap:
    """Collects tests and runs them, printing TAP.

    @tap.test("name")            a test (sync or async function)
    @tap.test("name", skip_if=f) skipped ("ok N - name # SKIP why") when
                                 f() returns a reason, e.g. a test that needs
                                 a peer address the machine does not have
    @tap.both("name")            the same async body twice, called with
                                 transport="http" and transport="ws"
    tap.run(shared=Server(...))  runs them all; with `shared`, the server is
                                 started first (test "server starts") and
                                 stopped last (test "server stops cleanly"),
                                 and tests may take a `srv` argument. A test
                                 during which the shared server dies, or
                                 writes a sanitizer report, fails.

    Test functions can take any of: srv (the shared server), transport.
    A failing test does not stop the others; the exit status is 0 unless
    the harness itself breaks (then "Bail out!" and 1).
    """

    def __init__(self, timeout=30):
        self.timeout = timeout
        self.tests = []
        self.shared = None

    def test(self, name=None, timeout=None, skip_if=None, **kwargs):
        def deco(fn):
            self.tests.append(_Test(name or fn.__name__, fn, timeout or self.timeout, kwargs,
                                    skip_if=skip_if))
            return fn
        return deco

    def both(self, name=None, timeout=None, **kwargs):
        def deco(fn):
            for t in ("http", "ws"):
                kw = dict(kwargs, transport=t)
                self.tests.append(_Test("%s [%s]" % (name or fn.__name__, t), fn,
                                        timeout or self.timeout, kw))
            return fn
        return deco

    # -- running

    def _call_args(self, t):
        params = inspect.signature(t.fn).parameters
        kw = {k: v for k, v in t.kwargs.items() if k in params}
        if "srv" in params:
            kw["srv"] = self.shared
        return kw

    def _run_one(self, t):
        kw = self._call_args(t)
        if inspect.iscoroutinefunction(t.fn):
            async def body():
                await asyncio.wait_for(t.fn(**kw), t.timeout)
            asyncio.run(body())
            return
        # A plain function runs on a daemon thread, so that one that hangs
        # cannot hold up the rest of the file.
        result = {}

        def body():
            try:
                t.fn(**kw)
            except BaseException as e:  # noqa: B902 - handed to the caller
                result["error"] = e
        th = threading.Thread(target=body, daemon=True)
        th.start()
        th.join(t.timeout)
        if th.is_alive():
            raise asyncio.TimeoutError()
        if "error" in result:
            raise result["error"]

    def _execute(self, num, t):
        why = t.skip_if() if t.skip_if is not None else None
        if why:
            print("ok %d - %s # SKIP %s" % (num, t.name, why), flush=True)
            return
        _current_servers.clear()
        shared = self.shared if t.uses_shared else None
        log_mark = shared.log_size() if shared is not None else 0
        error = None
        started = time.monotonic()
        if shared is not None and not shared.alive():
            # Its log was shown by the test during which it died.
            print("not ok %d - %s" % (num, t.name), flush=True)
            diag("the shared server is not running (%s)" % (
                "exit status %s" % shared.proc.returncode if shared.proc else
                "it did not start"))
            return
        try:
            self._run_one(t)
        except asyncio.TimeoutError:
            error = "timed out after %s s\n%s" % (t.timeout, traceback.format_exc())
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: B902 - everything is a test failure
            error = traceback.format_exc()
        if shared is not None and shared.proc is not None:
            if error is None and not shared.alive():
                error = "the shared server died during this test (exit status %s)" % \
                    shared.proc.returncode
            elif error is None:
                found = shared.sanitizer_lines(since=log_mark)
                if found:
                    error = "sanitizer report in the server log:\n" + "\n".join(found)
            if error is not None and shared not in _current_servers:
                _current_servers.append(shared)
        # Servers a test forgot to stop are killed so the next test has its ports.
        for s in list(_live_servers):
            if s is not self.shared:
                s.kill()
        elapsed = time.monotonic() - started
        if error is None:
            print("ok %d - %s" % (num, t.name), flush=True)
        else:
            print("not ok %d - %s" % (num, t.name), flush=True)
            diag(error.rstrip())
            for s in _current_servers:
                tail = s.log_tail(40)
                if tail:
                    diag("--- last lines of %s ---" % s.log_path)
                    diag(tail)
        if elapsed > 10:
            diag("(%s took %.1f s)" % (t.name, elapsed))

    def run(self, shared=None):
        for name in ("STOA_BIN", "STOA_PLUGINS", "STOA_HTML"):
            env_path(name)
        if not os.access(os.environ["STOA_BIN"], os.X_OK):
            bail_out("STOA_BIN=%s is not an executable" % os.environ["STOA_BIN"])
        self.shared = shared
        tests = list(self.tests)
        if shared is not None:
            async def start_shared():
                await shared.start()

            async def stop_shared():
                _current_servers.append(shared)
                check(shared.proc is not None, "the shared server never started")
                await shared.stop()
            tests.insert(0, _Test("server starts", start_shared, 20, {}, False))
            tests.append(_Test("server stops cleanly (exit 0, no sanitizer report)",
                               stop_shared, 20, {}, False))
        print("1..%d" % len(tests), flush=True)
        try:
            for i, t in enumerate(tests, 1):
                self._execute(i, t)
        except KeyboardInterrupt:
            bail_out("interrupted")
        except Exception:  # a bug in the harness itself
            diag(traceback.format_exc())
            bail_out("harness error")
        finally:
            for s in list(_all_servers):
                s.cleanup()
        sys.exit(0)


# ---------------------------------------------------------------- server

_all_servers = []


class Server:
    """One stoa process with a fresh configs folder.

    config      text of stoa.jcfg (None: no main config file at all)
    transports  {"http": text, "websockets": text} -> janus.transport.<x>.jcfg
    files       {"name": text} more files in the configs folder
    args        extra command-line arguments
    env         extra environment variables
    ports       ports that must accept connections before start() returns
    html        --html-folder (default $STOA_HTML; False: leave it out)
    split_stderr  write stderr to its own file (stoa.err) instead of the log
    offset      run on the default ports + offset (set with --http-port etc.),
                so a test can start its own server next to a shared one;
                srv.http_port, srv.ws_port, srv.admin_http_port and
                srv.admin_ws_port tell where it listens
    """

    def __init__(self, config=None, transports=None, files=None, args=(), env=None,
                 ports=None, html=None, split_stderr=False, folder_args=True, offset=0):
        self.bin = env_path("STOA_BIN")
        self.plugins = env_path("STOA_PLUGINS")
        self.html = env_path("STOA_HTML") if html is None else html
        self.tmp = tempfile.mkdtemp(prefix="stoa-test-")
        self.folder = os.path.join(self.tmp, "conf")
        os.mkdir(self.folder)
        self.log_path = os.path.join(self.tmp, "stoa.log")
        self.err_path = os.path.join(self.tmp, "stoa.err") if split_stderr else None
        self.config = config
        self.transports = transports or {}
        self.files = files or {}
        self.args = list(args)
        self.env = env or {}
        self.http_port = HTTP_PORT + offset
        self.ws_port = WS_PORT + offset
        self.admin_http_port = ADMIN_HTTP_PORT + offset
        self.admin_ws_port = ADMIN_WS_PORT + offset
        if offset:
            self.args = ["--http-port", str(self.http_port), "--ws-port", str(self.ws_port),
                         "--admin-http-port", str(self.admin_http_port),
                         "--admin-ws-port", str(self.admin_ws_port)] + self.args
        if ports is None:
            ports = (self.http_port, self.ws_port, self.admin_http_port, self.admin_ws_port)
        self.ports = tuple(ports)
        self.folder_args = folder_args
        self.proc = None
        self.started = False
        self._log = None
        self._err = None
        self.write_configs()
        _all_servers.append(self)

    def write_configs(self):
        if self.config is not None:
            self.write_file("stoa.jcfg", self.config)
        for name, text in self.transports.items():
            self.write_file("janus.transport.%s.jcfg" % name, text)
        for name, text in self.files.items():
            self.write_file(name, text)

    def write_file(self, name, text):
        path = os.path.join(self.folder, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def command(self):
        cmd = [self.bin]
        if self.folder_args:
            cmd += ["-F", self.folder, "-P", self.plugins]
            if self.html:
                cmd += ["--html-folder", self.html]
        return cmd + self.args

    def environment(self):
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        env.update(self.env)
        return env

    async def start(self, timeout=10):
        _current_servers.append(self)
        self._log = open(self.log_path, "ab")
        self._err = open(self.err_path, "ab") if self.err_path else None
        self.proc = subprocess.Popen(self.command(), stdout=self._log,
                                     stderr=self._err or subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.environment())
        _live_servers.add(self)
        self.started = True
        deadline = time.monotonic() + timeout
        waiting = list(self.ports)
        while waiting:
            if self.proc.poll() is not None:
                raise TestFailure("stoa exited during start-up with status %s"
                                  % self.proc.returncode)
            if time.monotonic() > deadline:
                raise TestFailure("stoa did not open port(s) %s within %s s"
                                  % (", ".join(map(str, waiting)), timeout))
            port = waiting[0]
            if await port_open(port):
                waiting.pop(0)
            else:
                await asyncio.sleep(0.05)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    async def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.02)
        return self.proc.returncode

    def dump_threads(self):
        """Appends every thread's backtrace (gdb) to the server log: a hung
        shutdown is otherwise impossible to diagnose after the fact."""
        try:
            out = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-nx",
                                  "-ex", "thread apply all bt 25"],
                                 capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as e:
            out = "gdb unavailable: %s" % e
        with open(self.log_path, "a") as f:
            f.write("\n--- threads of the hung server ---\n" + out)

    async def stop(self, sig=signal.SIGINT, timeout=5, expect_status=0):
        """Sends `sig`, waits for the exit and checks it was clean."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            status = await self.wait_exit(timeout)
            if status is None:
                self.dump_threads()
                self.kill()
                _live_servers.discard(self)
                raise TestFailure("stoa did not exit within %s s of %s"
                                  % (timeout, signal.Signals(sig).name))
        status = self.proc.returncode
        _live_servers.discard(self)
        self._close_files()
        found = self.sanitizer_lines()
        check(not found, "sanitizer report in the server log:\n" + "\n".join(found))
        if expect_status is not None:
            check(status == expect_status, "stoa exited with status %s, expected %s"
                  % (status, expect_status))
        return status

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        _live_servers.discard(self)
        self._close_files()

    def _close_files(self):
        for f in (self._log, self._err):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._log = self._err = None

    def cleanup(self):
        self.kill()
        if not os.environ.get("STOA_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the log

    def log_text(self, stderr=False, since=0):
        """The log (or stderr) as text, from byte offset `since`."""
        path = self.err_path if stderr else self.log_path
        try:
            with open(path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, n=40):
        text = self.log_text()
        if self.err_path:
            err = self.log_text(stderr=True)
            if err:
                text += "\n--- stderr ---\n" + err
        lines = text.rstrip("\n").split("\n")
        return "\n".join(lines[-n:]) if text.strip() else ""

    def sanitizer_lines(self, since=0):
        texts = [self.log_text(since=since)]
        if self.err_path:
            texts.append(self.log_text(stderr=True))
        found = []
        for text in texts:
            for line in text.split("\n"):
                if any(m in line for m in SANITIZER_MARKS):
                    found.append(line)
        return found

    async def __aenter__(self):
        try:
            await self.start()
        except BaseException:
            self.kill()
            raise
        return self

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is not None:
            # The test already failed: stop quietly, keep its error.
            try:
                await self.stop()
            except BaseException:
                self.kill()
            return False
        await self.stop()
        return False


async def port_open(port, host=HOST):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
    except (OSError, asyncio.TimeoutError):
        return False
    w.close()
    try:
        await w.wait_closed()
    except OSError:
        pass
    return True


def run_stoa(args, config=None, files=None, timeout=10, folder_args=True, env=None):
    """Runs stoa to completion (for --help, bad configs, ...); returns
    (status, stdout, stderr). Kills it after `timeout` seconds (status None)."""
    srv = Server(config=config, files=files, args=args, folder_args=folder_args)
    try:
        e = srv.environment()
        if env:
            e.update(env)
        p = subprocess.run(srv.command(), capture_output=True, timeout=timeout, env=e,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout.decode("utf-8", "replace"), \
            p.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as te:
        return None, (te.stdout or b"").decode("utf-8", "replace"), \
            (te.stderr or b"").decode("utf-8", "replace")
    finally:
        srv.cleanup()


# ---------------------------------------------------------------- HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            raise TestFailure("HTTP %d body is not JSON: %r" % (self.status, self.body[:300]))

    def __repr__(self):
        return "<HTTP %d %r %r>" % (self.status, dict(self.headers), self.body[:300])


class HttpClient:
    """aiohttp session against one port. Paths are sent as given (no
    normalisation or re-quoting)."""

    def __init__(self, port=HTTP_PORT, host=HOST, limit=100):
        self.base = "http://%s:%d" % (host, port)
        self.limit = limit
        self.session = None

    async def open(self):
        conn = aiohttp.TCPConnector(limit=self.limit, force_close=False)
        self.session = aiohttp.ClientSession(connector=conn, auto_decompress=False)
        return self

    async def close(self):
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc):
        await self.close()

    async def request(self, method, path, data=None, obj=None, headers=None, timeout=10,
                      allow_redirects=False):
        if obj is not None:
            data = json.dumps(obj)
        url = yarl.URL(self.base + path, encoded=True)
        async with self.session.request(method, url, data=data, headers=headers,
                                        allow_redirects=allow_redirects,
                                        timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            body = await r.read()
            return Response(r.status, r.headers, body)

    async def post(self, path, obj, **kw):
        """POSTs a JSON object (or a raw str/bytes body) and returns the parsed
        JSON reply, which must come with HTTP 200."""
        if isinstance(obj, (str, bytes)):
            r = await self.request("POST", path, data=obj, **kw)
        else:
            r = await self.request("POST", path, obj=obj, **kw)
        check(r.status == 200, "POST %s: HTTP %d, expected 200" % (path, r.status), repr(r))
        return r.json()

    async def get(self, path, **kw):
        return await self.request("GET", path, **kw)


# ---------------------------------------------------------------- WebSocket

class WsClient:
    """A WebSocket connection with a reader task: replies are matched to
    requests by transaction, everything else waits in `inbox` in arrival
    order (events, transaction-less errors)."""

    def __init__(self, port=WS_PORT, protocol=JANUS_PROTOCOL, host=HOST, path="/"):
        self.url = "ws://%s:%d%s" % (host, port, path)
        self.protocol = protocol
        self.ws = None
        self.inbox = []
        self.reader = None
        self.closed = False
        self.close_code = None
        self.close_reason = None
        self._changed = None

    async def open(self, **kw):
        opts = dict(subprotocols=[self.protocol] if self.protocol else None,
                    max_size=None, ping_interval=None, open_timeout=5, close_timeout=2)
        opts.update(kw)
        self.ws = await websockets.connect(self.url, **opts)
        self._changed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self):
        try:
            async for msg in self.ws:
                try:
                    obj = json.loads(msg)
                except ValueError:
                    obj = {"_raw": msg}
                self.inbox.append(obj)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed = True
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason
            self._changed.set()

    async def close(self):
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 3)
            except (asyncio.TimeoutError, OSError, websockets.WebSocketException):
                pass
        if self.reader is not None:
            try:
                await asyncio.wait_for(self.reader, 3)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self.reader.cancel()

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc):
        await self.close()

    async def send(self, obj):
        """Sends a JSON object, or a str/bytes payload as is."""
        if isinstance(obj, (dict, list)):
            obj = json.dumps(obj)
        await self.ws.send(obj)

    async def next(self, pred=None, timeout=5, what="a message"):
        """Removes and returns the first queued message matching pred,
        waiting up to `timeout` seconds for one."""
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if pred is None or pred(m):
                    return self.inbox.pop(i)
            if self.closed:
                raise TestFailure("connection closed (code %s %r) while waiting for %s; "
                                  "queued: %s" % (self.close_code, self.close_reason, what,
                                                  json.dumps(self.inbox)[:1000]))
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("no %s within %s s; queued: %s"
                                  % (what, timeout, json.dumps(self.inbox)[:1000]))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def recv(self, timeout=5):
        return await self.next(None, timeout)

    async def request(self, obj, timeout=5):
        """Sends obj (a transaction is added if missing) and returns the
        reply carrying that transaction, or an error without a transaction
        (what envelope errors look like). Events stay queued."""
        obj = dict(obj)
        obj.setdefault("transaction", transaction())
        tr = obj["transaction"]
        await self.send(obj)

        def mine(m):
            if m.get("janus") == "error" and "transaction" not in m:
                return True
            return m.get("transaction") == tr and m.get("janus") != "event"
        return await self.next(mine, timeout, "reply to %s" % json.dumps(obj)[:200])

    async def wait_closed(self, timeout=5):
        try:
            await asyncio.wait_for(asyncio.shield(self.reader), timeout)
        except asyncio.TimeoutError:
            raise TestFailure("the server did not close the connection within %s s" % timeout)


# ---------------------------------------------------------------- transport-neutral client

def is_event(m):
    return m.get("janus") not in REPLY_KINDS or m.get("transaction") is None


class JanusClient:
    """Janus (or Admin) API client over "http" or "ws".

    Over HTTP, session/handle ids are put in the URL path as janus.js does,
    and after a successful create (or claim) a background long poll
    (GET /janus/<sid>?maxev=N) collects events. Over WebSocket, events come
    on the socket. Either way `await c.event(pred)` returns the next one.

    apisecret/token/admin_secret, when set, are added to every request.
    """

    def __init__(self, transport, admin=False, port=None, apisecret=None, token=None,
                 admin_secret=None, poll=True, maxev=10):
        check(transport in ("http", "ws"), "transport must be http or ws")
        self.transport = transport
        self.admin = admin
        if port is None:
            port = {("http", False): HTTP_PORT, ("ws", False): WS_PORT,
                    ("http", True): ADMIN_HTTP_PORT, ("ws", True): ADMIN_WS_PORT}[
                        (transport, admin)]
        self.port = port
        self.base = "/admin" if admin else "/janus"
        self.auth = {}
        if apisecret is not None:
            self.auth["apisecret"] = apisecret
        if token is not None:
            self.auth["token"] = token
        if admin_secret is not None:
            self.auth["admin_secret"] = admin_secret
        self.poll = poll and not admin
        self.maxev = maxev
        self.http = None
        self.ws = None
        self.session_id = None
        self.handle_id = None
        self.events = []
        self.keepalives = 0
        self.poll_status = None   # last non-200 long-poll status
        self._poller = None
        self._changed = None

    # -- connection

    async def open(self):
        self._changed = asyncio.Event()
        if self.transport == "http":
            self.http = await HttpClient(self.port).open()
        else:
            self.ws = await WsClient(self.port, ADMIN_PROTOCOL if self.admin
                                     else JANUS_PROTOCOL).open()
        return self

    async def close(self):
        await self.stop_poll()
        if self.http is not None:
            await self.http.close()
        if self.ws is not None:
            await self.ws.close()

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc):
        await self.close()

    # -- raw requests

    async def send(self, obj, session_id=None, handle_id=None, timeout=5, ids_in_body=False):
        """Sends one request object and returns the reply. Over HTTP, integer
        session_id/handle_id (arguments or body fields) go in the path unless
        ids_in_body."""
        obj = dict(obj)
        obj.setdefault("transaction", transaction())
        for k, v in self.auth.items():
            obj.setdefault(k, v)
        if session_id is not None:
            obj["session_id"] = session_id
        if handle_id is not None:
            obj["handle_id"] = handle_id
        if self.transport == "ws":
            return await self.ws.request(obj, timeout)
        path = self.base
        sid, hid = obj.get("session_id"), obj.get("handle_id")
        if not ids_in_body and _is_id(sid):
            path += "/%d" % obj.pop("session_id")
            if _is_id(hid):
                path += "/%d" % obj.pop("handle_id")
        return await self.http.post(path, obj, timeout=timeout)

    async def request(self, verb, session_id=None, handle_id=None, **fields):
        """{"janus": verb, **fields} with the given ids."""
        obj = dict(fields)
        obj["janus"] = verb
        return await self.send(obj, session_id, handle_id)

    # -- Janus API verbs (the ids default to the client's current ones)

    async def info(self):
        return await self.request("info")

    async def ping(self):
        return await self.request("ping")

    async def create(self, **fields):
        r = await self.request("create", **fields)
        if r.get("janus") == "success":
            self.session_id = r["data"]["id"]
            await self.start_poll()
        return r

    async def create_session(self, **fields):
        """create that must succeed; returns the session id."""
        r = expect(await self.create(**fields))
        return r["data"]["id"]

    async def claim(self, session_id=None):
        sid = session_id or self.session_id
        r = await self.request("claim", session_id=sid)
        if r.get("janus") == "success":
            self.session_id = sid
            await self.start_poll()
        return r

    async def attach(self, plugin=ECHOTEST, session_id=None, **fields):
        r = await self.request("attach", session_id=session_id or self.session_id,
                               plugin=plugin, **fields)
        if r.get("janus") == "success":
            self.handle_id = r["data"]["id"]
        return r

    async def attach_handle(self, plugin=ECHOTEST, **fields):
        r = expect(await self.attach(plugin, **fields))
        return r["data"]["id"]

    async def message(self, body, jsep=None, session_id=None, handle_id=None, **fields):
        if body is not None:
            fields["body"] = body
        if jsep is not None:
            fields["jsep"] = jsep
        return await self.request("message", session_id=session_id or self.session_id,
                                  handle_id=handle_id or self.handle_id, **fields)

    async def trickle(self, session_id=None, handle_id=None, **fields):
        return await self.request("trickle", session_id=session_id or self.session_id,
                                  handle_id=handle_id or self.handle_id, **fields)

    async def keepalive(self, session_id=None):
        return await self.request("keepalive", session_id=session_id or self.session_id)

    async def detach(self, session_id=None, handle_id=None):
        return await self.request("detach", session_id=session_id or self.session_id,
                                  handle_id=handle_id or self.handle_id)

    async def hangup(self, session_id=None, handle_id=None):
        return await self.request("hangup", session_id=session_id or self.session_id,
                                  handle_id=handle_id or self.handle_id)

    async def destroy(self, session_id=None):
        r = await self.request("destroy", session_id=session_id or self.session_id)
        if r.get("janus") == "success" and (session_id is None or
                                             session_id == self.session_id):
            await self.stop_poll()
        return r

    # -- events

    async def start_poll(self):
        if self.transport != "http" or not self.poll or self.session_id is None:
            return
        await self.stop_poll()
        self.poll_status = None
        self._poller = asyncio.create_task(self._poll_loop(self.session_id))

    async def stop_poll(self):
        if self._poller is not None:
            self._poller.cancel()
            try:
                await self._poller
            except (asyncio.CancelledError, Exception):
                pass
            self._poller = None

    async def _poll_loop(self, sid):
        q = "maxev=%d" % self.maxev
        for k in ("apisecret", "token"):
            if k in self.auth:
                q += "&%s=%s" % (k, self.auth[k])
        while True:
            try:
                r = await self.http.get("%s/%d?%s&rid=%d" % (self.base, sid, q,
                                                             int(time.time() * 1000)),
                                        timeout=120)
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                self.poll_status = "error: %r" % e
                self._changed.set()
                await asyncio.sleep(0.2)
                continue
            if r.status != 200:
                self.poll_status = r.status
                self._changed.set()
                return
            try:
                got = r.json()
            except TestFailure as e:
                self.poll_status = "bad long-poll reply: %s" % e
                self._changed.set()
                return
            for ev in got if isinstance(got, list) else [got]:
                if ev.get("janus") == "keepalive":
                    self.keepalives += 1
                else:
                    self.events.append(ev)
            self._changed.set()

    def _source(self):
        return self.ws.inbox if self.transport == "ws" else self.events

    async def event(self, pred=None, timeout=5, what="an event"):
        """Removes and returns the next event matching pred."""
        if self.transport == "ws":
            return await self.ws.next(lambda m: is_event(m) and (pred is None or pred(m)),
                                      timeout, what)
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if pred is None or pred(m):
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("no %s within %s s (long poll status %s); queued: %s"
                                  % (what, timeout, self.poll_status,
                                     json.dumps(self.events)[:1000]))
            if self._poller is None or self._poller.done():
                raise TestFailure("no %s: no long poll running (status %s); queued: %s"
                                  % (what, self.poll_status, json.dumps(self.events)[:1000]))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def no_event(self, pred=None, seconds=1.0):
        """Asserts that no event matching pred arrives within `seconds`."""
        try:
            ev = await self.event(pred, seconds)
        except TestFailure:
            return
        raise TestFailure("unexpected event: %s" % json.dumps(ev))

    async def plugin_event(self, tr=None, timeout=5):
        """The next plugin `event` (with transaction tr, if given)."""
        return await self.event(lambda m: m.get("janus") == "event" and
                                (tr is None or m.get("transaction") == tr), timeout,
                                "plugin event" + (" for transaction %s" % tr if tr else ""))


def _is_id(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


# ---------------------------------------------------------------- raw sockets

async def raw_http(data, port=HTTP_PORT, host=HOST, timeout=5):
    """Sends raw bytes and returns (status, headers dict lower-cased, body) of
    the first response; status None if the server closed without one."""
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        if isinstance(data, str):
            data = data.encode("latin-1")
        w.write(data)
        await w.drain()
        head = b""
        try:
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), timeout)
        except asyncio.IncompleteReadError as e:
            if not e.partial:
                return None, {}, b""
            head = e.partial
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = b""
        if "content-length" in headers:
            n = int(headers["content-length"])
            if n and not data.startswith(b"HEAD "):
                body = await asyncio.wait_for(r.readexactly(n), timeout)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await r.readline()).strip() or b"0", 16)
                if size == 0:
                    await r.readline()
                    break
                body += await r.readexactly(size)
                await r.readline()
        return status, headers, body
    finally:
        w.close()


def raw_get(path, port=HTTP_PORT, method="GET", extra=""):
    return raw_http("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s\r\n"
                    % (method, path, port, extra), port)
