#!/usr/bin/env python3
"""stoa-load (src/tools/load, docs/load-testing.md) against the real server.

  - 5 viewers and a publisher that sends a VP8 + Opus file made by
    tests/bench/make-media.py: every viewer joins, receives hundreds of
    packets with (almost) no loss, and the JSON summary carries the
    server's CPU and RSS figures;
  - --verify authenticates every packet with srtp_unprotect;
  - the DTLS fingerprint check is real: --test-bad-fingerprint alters the
    fingerprint the viewers expect, and every viewer must then fail;
  - malformed server messages (offers that are not SDP, SDPs without a
    fingerprint or with absurd lines, JSON that does not parse, a message
    over 1 MB, a broken publisher answer) fail the peer they reach, never
    the tool: a WebSocket proxy in this test rewrites Stoa's messages;
  - broken media files are refused with a message;
  - against Debian's Janus (/usr/bin/janus), when it is installed, the same
    run passes too (Janus skips loopback interfaces, so it and the tool use
    127.0.0.2, which tests/ns-run puts on a non-loopback device).

stoa-load is found next to the server ($STOA_LOAD_BIN, else the build's
top directory). When it was built with sanitizers, its stderr must hold no
report.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

from stoa_harness import SANITIZER_MARKS, Server, Tap, check, diag  # noqa: E402

tap = Tap(timeout=90)

HOST_IP = "127.0.0.1"
ALT_IP = "127.0.0.2"      # tests/ns-run: on an "ifb" device, not flagged LOOPBACK
PROXY_PORT = 8190
JANUS_PORT = 8288
JANUS = "/usr/bin/janus"

_media = {}


def load_bin():
    b = os.environ.get("STOA_LOAD_BIN")
    if b:
        return b
    return os.path.join(os.path.dirname(os.path.dirname(os.environ["STOA_BIN"])), "stoa-load")


def media():
    """(video.ivf, audio.opus) of 4 s, made once per test file."""
    if not _media:
        d = tempfile.mkdtemp(prefix="stoa-load-media-")
        script = os.path.join(os.environ["STOA_SRCDIR"], "tests", "bench", "make-media.py")
        v, a = os.path.join(d, "video.ivf"), os.path.join(d, "audio.opus")
        p = subprocess.run([sys.executable, script, "--video", v, "--audio", a,
                            "--seconds", "4"], capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "make-media.py failed", p.stdout + p.stderr)
        _media.update(dir=d, video=v, audio=a)
    return _media["video"], _media["audio"]


class LoadResult:
    def __init__(self, status, stdout, stderr, lines):
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.lines = lines
        s = [x for x in lines if x.get("summary")]
        self.summary = s[-1] if s else None
        self.seconds = [x for x in lines if not x.get("summary")]

    def describe(self):
        return "exit %s\n--- stdout ---\n%s\n--- stderr (tail) ---\n%s" % (
            self.status, self.stdout[-3000:], self.stderr[-3000:])


async def run_load(args, timeout=60, audio=True):
    """Runs stoa-load to its end; returns a LoadResult."""
    video, opus = media()
    fd, path = tempfile.mkstemp(prefix="stoa-load-", suffix=".json")
    os.close(fd)
    cmd = [load_bin(), "--video", video, "--json", path, "--quiet"] + list(args)
    if audio:
        cmd += ["--audio", opus]
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    p = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, env=env)
    try:
        out, err = await asyncio.wait_for(p.communicate(), timeout)
    except asyncio.TimeoutError:
        p.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(p.communicate(), 20)
        raise AssertionError("stoa-load did not end within %s s:\n%s" % (
            timeout, err.decode("utf-8", "replace")[-3000:]))
    lines = []
    with open(path) as f:
        for line in f:
            if line.strip():
                lines.append(json.loads(line))
    os.unlink(path)
    r = LoadResult(p.returncode, out.decode("utf-8", "replace"),
                   err.decode("utf-8", "replace"), lines)
    found = [x for x in r.stderr.split("\n") if any(m in x for m in SANITIZER_MARKS)]
    check(not found, "sanitizer report from stoa-load:\n" + "\n".join(found), r.describe())
    check(r.status in (0, 1), "stoa-load ended abnormally", r.describe())
    check(r.summary is not None, "no summary in the JSON file", r.describe())
    return r


# ---------------------------------------------------------------- Stoa

@tap.test("--help documents every option")
def test_help():
    p = subprocess.run([load_bin(), "--help"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 0, "--help exits 0", p.stderr)
    for opt in ("--server", "--viewers", "--rooms", "--publishers", "--duration", "--ramp",
                "--video", "--audio", "--server-pid", "--json", "--ice-ip", "--threads",
                "--verify", "--quiet", "--max-loss", "--help"):
        check(opt in p.stdout, "--help mentions %s" % opt, p.stdout)
    p = subprocess.run([load_bin(), "--viewers", "many"], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 2, "a bad option value is a usage error (2)", p.stderr)


@tap.test("5 viewers receive the publisher's media from Stoa")
async def test_five_viewers(srv):
    r = await run_load(["--viewers", "5", "--duration", "6", "--server-pid", str(srv.proc.pid),
                        "--ice-ip", HOST_IP])
    s = r.summary
    diag("summary: %s" % json.dumps(s))
    check(r.status == 0, "exit status 0", r.describe())
    check(s["viewers_requested"] == 5 and s["joined"] == 5 and s["receiving"] == 5,
          "5 joined, 5 receiving", s)
    check(s["failed"] == 0 and s["failed_by"] == {}, "none failed", s)
    check(s["viewer_packets_min"] > 300, "hundreds of packets for every viewer", s)
    check(s["loss_pct"] < 1.0, "loss under 1 %", s)
    check(s["join_ms"]["n"] == 5 and s["join_ms"]["max"] < 5000, "join times", s)
    check(s["publishers"]["ready"] == 1 and s["publishers"]["keyframes"] >= 4,
          "the publisher sent a keyframe a second", s)
    check(s["events"]["webrtcup"] == 6, "webrtcup for the publisher and each viewer", s)
    check(s["events"]["srtp_auth_fail"] == 0 and s["events"]["unknown_ssrc"] == 0,
          "every packet authenticated and on a known stream", s)
    check(s["server_rss_kb_before"] and s["server_rss_kb_after"], "server RSS sampled", s)
    check(s["server_cpu_us_per_packet"] is not None and s["server_cpu_us_per_packet"] > 0,
          "server CPU per forwarded packet", s)
    check(len(r.seconds) >= 4, "a JSON line a second", r.lines)
    check(all("rx_pps" in x and "server_cpu_pct" in x for x in r.seconds), "per-second fields",
          r.seconds[:2])


@tap.test("--verify authenticates every packet")
async def test_verify(srv):
    r = await run_load(["--viewers", "2", "--duration", "4", "--verify", "--ice-ip", HOST_IP,
                        "--threads", "1"], audio=False)
    s = r.summary
    check(r.status == 0 and s["receiving"] == 2, "2 viewers receive", r.describe())
    check(s["events"]["srtp_auth_fail"] == 0, "no authentication failure", s)
    check(s["server_cpu_pct"] is None, "no server figures without --server-pid", s)


@tap.test("a wrong DTLS fingerprint fails every viewer")
async def test_bad_fingerprint(srv):
    r = await run_load(["--viewers", "3", "--duration", "5", "--test-bad-fingerprint",
                        "--ice-ip", HOST_IP])
    s = r.summary
    check(r.status == 1, "exit status 1", r.describe())
    check(s["failed_by"].get("fingerprint-mismatch") == 3 and s["receiving"] == 0,
          "all 3 viewers fail the fingerprint check", s)
    check(s["packets"] == 0, "no packet counted", s)
    check(s["publishers"]["ready"] == 1, "the publisher itself was fine", s)


# ---------------------------------------------------------------- malformed input

BAD_OFFERS = [
    "this is not an SDP",
    # no fingerprint
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=mid:0\r\n"
    "a=rtpmap:96 VP8/90000\r\n",
    # a line longer than any buffer
    "v=0\r\na=ice-ufrag:" + "x" * 20000 + "\r\n",
    # more m-lines than the parser keeps
    "v=0\r\n" + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" * 100,
    # fingerprint with junk, a port that is not a number, an rtpmap without a space
    "v=0\r\na=fingerprint:sha-256 ZZ:!!\r\nm=video port UDP/TLS/RTP/SAVPF 96\r\n"
    "a=rtpmap:96\r\n",
    # everything valid except that nothing can be received
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP "
    "webrtc-datachannel\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
    "a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\na=mid:0\r\n",
]
# Replacements for the whole "attached" message.
BAD_MESSAGES = [
    '{"janus":"event","session_id":',           # JSON cut short
    '[1,2,3]',                                   # JSON, but not a Janus message
    '{"janus":"event","plugindata":{"plugin":"janus.plugin.videoroom",'
    '"data":{"videoroom":"attached"}},"jsep":{"type":"offer","sdp":42}}',
    '{"janus":"event","transaction":"join-3","plugindata":{"plugin":'
    '"janus.plugin.videoroom","data":{"videoroom":"attached"}},"jsep":"nope"}',
    '{"janus":"event","x":"' + "y" * (1100 * 1024) + '"}',   # over the 1 MB limit
]


class Proxy:
    """A janus-protocol WebSocket proxy in front of Stoa that rewrites the
    messages `mangle` returns something for (a str replaces the frame)."""

    def __init__(self, mangle, upstream="ws://127.0.0.1:8188"):
        self.mangle = mangle
        self.upstream = upstream
        self.server = None
        self.mangled = 0

    async def handler(self, down, path=None):
        try:
            async with websockets.connect(self.upstream, subprotocols=["janus-protocol"],
                                          max_size=None) as up:
                await asyncio.gather(self.pump(down, up, False), self.pump(up, down, True))
        except websockets.ConnectionClosed:
            pass

    async def pump(self, src, dst, from_server):
        try:
            async for frame in src:
                if from_server:
                    out = self.mangle(json.loads(frame))
                    if out is not None:
                        self.mangled += 1
                        frame = out
                await dst.send(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            await dst.close()

    async def __aenter__(self):
        self.server = await websockets.serve(self.handler, HOST_IP, PROXY_PORT,
                                             subprotocols=["janus-protocol"], max_size=None)
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        await self.server.wait_closed()


def videoroom_result(m):
    return ((m.get("plugindata") or {}).get("data") or {}).get("videoroom")


@tap.test("malformed offers and messages fail the viewers, not the tool", timeout=120)
async def test_malformed_offers(srv):
    bad = [("sdp", x) for x in BAD_OFFERS] + [("msg", x) for x in BAD_MESSAGES]
    left = list(bad)

    def mangle(m):
        if videoroom_result(m) != "attached" or not left:
            return None
        kind, text = left.pop(0)
        if kind == "msg":
            return text
        m["jsep"]["sdp"] = text
        return json.dumps(m)

    async with Proxy(mangle) as proxy:
        r = await run_load(["--server", "ws://127.0.0.1:%d" % PROXY_PORT, "--viewers",
                            str(len(bad)), "--duration", "6", "--ice-ip", HOST_IP,
                            "--join-timeout", "5", "--threads", "1"])
    s = r.summary
    diag("failed_by: %s" % json.dumps(s["failed_by"]))
    check(proxy.mangled == len(bad), "every viewer got a broken offer", proxy.mangled)
    check(r.status == 1, "exit status 1", r.describe())
    check(s["failed"] == len(bad) and s["receiving"] == 0, "every viewer failed", s)
    fb = s["failed_by"]
    check(fb.get("bad-sdp", 0) >= len(BAD_OFFERS), "the broken SDPs are bad-sdp", fb)
    check(fb.get("bad-reply", 0) >= 3, "the broken messages are bad-reply", fb)
    check(s["publishers"]["ready"] == 1, "the publisher was not disturbed", s)


@tap.test("a malformed answer fails the publisher and the run ends")
async def test_malformed_answer(srv):
    def mangle(m):
        if m.get("jsep", {}).get("type") == "answer":
            m["jsep"]["sdp"] = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
            return json.dumps(m)
        return None

    started = time.monotonic()
    async with Proxy(mangle):
        r = await run_load(["--server", "ws://127.0.0.1:%d" % PROXY_PORT, "--viewers", "2",
                            "--duration", "30", "--ice-ip", HOST_IP])
    s = r.summary
    check(r.status == 1, "exit status 1", r.describe())
    check(s["publishers"]["ready"] == 0 and s["failed_by"].get("no-publisher") == 2,
          "no publisher, so no viewer started", s)
    check("bad-sdp" in r.stderr, "the reason is printed", r.stderr)
    check(time.monotonic() - started < 20, "the run ended without waiting for --duration")


@tap.test("broken media files are refused")
async def test_bad_media():
    d = tempfile.mkdtemp(prefix="stoa-load-bad-")
    try:
        video, audio = media()
        with open(video, "rb") as f:
            good = f.read()
        cases = {
            "empty.ivf": b"",
            "garbage.ivf": b"this is not an IVF file at all" * 10,
            "vp9.ivf": good[:8] + b"VP90" + good[12:],
            "huge-frame.ivf": good[:32] + b"\xff\xff\xff\x7f" + good[36:200],
            "no-frames.ivf": good[:32],
        }
        for name, data in cases.items():
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                f.write(data)
            p = subprocess.run([load_bin(), "--video", path, "--viewers", "1"],
                               capture_output=True, text=True, timeout=20)
            check(p.returncode == 1 and name in p.stderr, "%s is refused" % name,
                  p.stdout + p.stderr)
            check(not any(m in p.stderr for m in SANITIZER_MARKS), "no sanitizer report",
                  p.stderr)
        path = os.path.join(d, "bad.opus")
        with open(path, "wb") as f:
            f.write(b"OggS" + b"\0" * 100)
        p = subprocess.run([load_bin(), "--video", video, "--audio", path],
                           capture_output=True, text=True, timeout=20)
        check(p.returncode == 1 and "bad.opus" in p.stderr, "a bad Ogg file is refused",
              p.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- Janus

JANUS_CONF = """general: {
    configs_folder = "%(folder)s"
    plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"
    transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"
    events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
    loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
    debug_level = 4
}
certificates: {}
media: {}
nat: { ice_enforce_list = "%(ip)s" }
plugins: { disable = "%(plugins)s" }
transports: { disable = "%(transports)s" }
loggers: { disable = "libjanus_jsonlog.so" }
events: {}
"""


def janus_folder():
    d = tempfile.mkdtemp(prefix="stoa-load-janus-")
    lib = "/usr/lib/x86_64-linux-gnu/janus"

    def others(kind, keep):
        try:
            names = sorted(os.listdir(os.path.join(lib, kind)))
        except OSError:
            return ""
        return ",".join(n for n in names if n.endswith(".so") and n != keep)

    files = {
        "janus.jcfg": JANUS_CONF % {
            "folder": d, "ip": ALT_IP,
            "plugins": others("plugins", "libjanus_videoroom.so"),
            "transports": others("transports", "libjanus_websockets.so")},
        "janus.transport.websockets.jcfg":
            "general: { ws = true\n ws_port = %d\n wss = false }\n"
            "admin: { admin_ws = false\n admin_wss = false }\n" % JANUS_PORT,
        "janus.plugin.videoroom.jcfg": "general: {}\n",
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return d


async def port_open(port):
    try:
        _, w = await asyncio.wait_for(asyncio.open_connection(HOST_IP, port), 1)
    except (OSError, asyncio.TimeoutError):
        return False
    w.close()
    return True


def alt_ip_ready():
    """127.0.0.2 sits on a device that is not lo (tests/ns-run sets it up)."""
    try:
        out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                             timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(" %s/" % ALT_IP in line and line.split()[1] != "lo" for line in out.split("\n"))


if os.access(JANUS, os.X_OK) and alt_ip_ready():
    @tap.test("the same run passes against Debian's Janus")
    async def test_janus():
        d = janus_folder()
        log = open(os.path.join(d, "janus.log"), "wb")
        j = subprocess.Popen([JANUS, "-F", d, "-C", os.path.join(d, "janus.jcfg")],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 15
            while not await port_open(JANUS_PORT):
                check(j.poll() is None and time.monotonic() < deadline, "Janus did not start")
                await asyncio.sleep(0.2)
            r = await run_load(["--server", "ws://127.0.0.1:%d" % JANUS_PORT, "--viewers", "3",
                                "--duration", "6", "--ice-ip", ALT_IP, "--server-pid",
                                str(j.pid)])
            s = r.summary
            diag("janus summary: %s" % json.dumps(s))
            check(r.status == 0 and s["receiving"] == 3, "3 viewers receive from Janus",
                  r.describe())
            check(s["loss_pct"] < 1.0 and s["viewer_packets_min"] > 300, "media flowed", s)
        finally:
            if j.poll() is None:
                j.send_signal(signal.SIGINT)
                try:
                    j.wait(10)
                except subprocess.TimeoutExpired:
                    j.kill()
            log.close()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    if not os.access(load_bin(), os.X_OK):
        print("1..0 # SKIP stoa-load is not built (%s)" % load_bin(), flush=True)
        sys.exit(0)
    try:
        tap.run(shared=Server(args=["-E", HOST_IP]))
    finally:
        if _media:
            shutil.rmtree(_media["dir"], ignore_errors=True)
