#!/usr/bin/env python3
"""Real media through janus.plugin.echotest with aiortc (Debian
python3-aiortc) as the client, signalled by hand over the Janus WebSocket
API: create, attach, then a message {audio:true, video:true} whose jsep is
aiortc's offer with trickle:false (aiortc gathers before it creates an
offer, so every candidate is in the SDP).

aiortc sends its synthetic tracks (aiortc.mediastreams.AudioStreamTrack,
VideoStreamTrack: silence and a green 640x480 picture, VP8) and opens a data
channel. What is checked is what flowed: the frames aiortc decodes from the
echo (track.recv() on the remote tracks), the data channel echo, the events
on the WebSocket, and the server's own counts (Admin API handle_info).

Network set-up: tests/ns-run gives the namespace 127.0.0.2 on a device that
is not flagged LOOPBACK, because aioice skips 127.0.0.1; stoa runs with
-E 127.0.0.2 so that it gathers there too (loopback addresses are only used
when named).

Two tricks keep aiortc 1.4 (Debian 12) usable, both for bugs of aiortc's,
not of the server's:
  - aiortc gives ssrc-audio-level (audio) and abs-send-time (video) the same
    extmap id 2 in one BUNDLE group, and parses every packet on the
    transport with one merged map, so the echoed audio (audio level under
    id 2) kills its receive loop (aiortc issue #745). The offer is sent with
    the ids made unique across the bundle; aiortc then uses the answer's.
  - aiortc picks its data channel ids by ICE role (controlling: odd), but
    Stoa answers a=setup:passive, which makes aiortc the DTLS client, and
    RFC 8832 §6 gives the DTLS client the even ids. The main call makes
    aiortc follow RFC 8832; a separate test keeps aiortc's own choice,
    because Janus accepts it (see that test).

Network conditions, inside aiortc: NetFilter wraps the UDP sockets of
aiortc's ICE connection (aioice StunProtocol: its transport's sendto() and
its datagram_received()) once gathering is done. `blackhole` drops
everything both ways, which is how a peer that vanishes (a dead laptop, a
NAT that forgot the binding) looks from the server: no DTLS close_notify,
no ICMP, just silence. It is done there rather than with iptables/nft
because neither is installed here, and rather than by closing aiortc's
sockets because a closed port answers with ICMP and aiortc's own teardown
could still send a close_notify. `loss` drops that share of datagrams at
random (seeded): the loss test uses it when the kernel has no netem qdisc
(`tc qdisc add dev lo root netem loss 5%` is tried first and removed at
the end).

Per call, a fresh stoa (consent_timeout 3 s, -E 127.0.0.2) that must exit 0
on SIGINT with no sanitizer report. Calls end with a Janus API hangup unless
the test is about another ending, so a server bug on one ending does not
fail every test. The first test makes one call and records it; the seven
after it check those records.
"""

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (  # noqa: E402
    JanusClient, Server, Tap, TestFailure, check, diag, expect, expect_error,
)

try:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing aiortc (Debian python3-aiortc): %s" % e, flush=True)
    sys.exit(1)

tap = Tap(timeout=30)

PEER_IP = "127.0.0.2"
ECHO_PREFIX = "Janus EchoTest here! You wrote: "
CONSENT_TIMEOUT = 3
# consent_timeout plus the 100 ms tick, the event's trip and some slack for
# a sanitizer build on two cores.
VANISH_DEADLINE = 6.5
CONFIG = "nat: {\n\tconsent_timeout = %d\n}\n" % CONSENT_TIMEOUT
MIN_VIDEO_FRAMES = 30
MIN_AUDIO_FRAMES = 50
AIORTC_PROFILE = "SRTP_AES128_CM_SHA1_80"  # the only one aiortc offers


def new_server(**kw):
    return Server(config=CONFIG, args=["-E", PEER_IP], **kw)


# ---------------------------------------------------------------- SDP

EXTMAP_RE = re.compile(r"^a=extmap:(\d+)(/\w+)? (\S+)(.*)$")


def unique_extmap_ids(sdp):
    """Gives every header extension URI one id across the whole SDP (BUNDLE:
    RFC 8843 §9.1 wants the same id for the same URI, and one URI per id).
    aiortc 1.4 reuses ids across m-lines (issue #745)."""
    lines = sdp.split("\r\n")
    by_uri, taken = {}, {}
    for line in lines:
        m = EXTMAP_RE.match(line)
        if not m:
            continue
        ident, uri = int(m.group(1)), m.group(3)
        if uri in by_uri:
            continue
        if taken.get(ident, uri) != uri:
            ident = next(i for i in range(1, 15) if i not in taken)
        by_uri[uri] = ident
        taken[ident] = uri
    out = []
    for line in lines:
        m = EXTMAP_RE.match(line)
        if m:
            line = "a=extmap:%d%s %s%s" % (by_uri[m.group(3)], m.group(2) or "", m.group(3),
                                           m.group(4))
        out.append(line)
    return "\r\n".join(out)


# ---------------------------------------------------------------- network

class _FilteredTransport:
    """Stands in for an asyncio datagram transport: sendto() may drop."""

    def __init__(self, inner, net):
        self._inner = inner
        self._net = net

    def sendto(self, data, addr=None):
        if self._net.drop("out"):
            return
        self._inner.sendto(data, addr)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class NetFilter:
    def __init__(self, seed=7):
        self.loss = 0.0
        self.blackhole = False
        self.rng = random.Random(seed)
        self.dropped = {"in": 0, "out": 0}
        self.passed = {"in": 0, "out": 0}

    def drop(self, direction):
        if self.blackhole or (self.loss > 0 and self.rng.random() < self.loss):
            self.dropped[direction] += 1
            return True
        self.passed[direction] += 1
        return False

    def attach(self, pc):
        """Wraps every UDP socket of pc's ICE connections (after gathering)."""
        conns = []
        for t in pc.getTransceivers():
            conns.append(t.sender.transport.transport._connection)
        if pc.sctp is not None:
            conns.append(pc.sctp.transport.transport._connection)
        n = 0
        for conn in {id(c): c for c in conns}.values():
            for proto in conn._protocols:
                if getattr(proto, "_stoa_net", None) is not None:
                    continue
                proto._stoa_net = self
                orig = proto.datagram_received

                def received(data, addr, orig=orig):
                    if not self.drop("in"):
                        orig(data, addr)
                proto.datagram_received = received
                proto.transport = _FilteredTransport(proto.transport, self)
                n += 1
        check(n > 0, "no ICE socket found in aiortc's peer connection to filter")


# ---------------------------------------------------------------- aiortc peer

def follow_rfc8832_ids(pc):
    """Makes aiortc pick data channel ids by its DTLS role (RFC 8832 §6: the
    DTLS client uses even ids) instead of its ICE role. aiortc assigns ids
    in _data_channel_flush(), once the association is up."""
    sctp = pc.sctp
    orig = sctp._data_channel_flush

    async def flush():
        want = 0 if sctp.transport._role == "client" else 1
        if sctp._data_channel_id is not None and sctp._data_channel_id % 2 != want:
            sctp._data_channel_id = want
        await orig()
    sctp._data_channel_flush = flush


class EchoPeer:
    """aiortc sending audio, video and (optionally) a data channel, and
    counting what comes back."""

    def __init__(self, data=True, rfc8832_ids=True, label="stoa-echo"):
        self.pc = RTCPeerConnection()
        self.net = NetFilter()
        self.counts = {"audio": 0, "video": 0}
        self.sizes = set()
        self.received = []
        self.tasks = []
        self.closed = False
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(VideoStreamTrack())
        self.dc = None
        self.dc_open = asyncio.Event()
        if data:
            self.dc = self.pc.createDataChannel(label)
            self.dc.on("open", self.dc_open.set)
            self.dc.on("message", self.received.append)
            if rfc8832_ids:
                follow_rfc8832_ids(self.pc)
        self.pc.on("track", self._on_track)

    def _on_track(self, track):
        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except (MediaStreamError, asyncio.CancelledError):
                    return
                self.counts[track.kind] += 1
                if track.kind == "video":
                    self.sizes.add((frame.width, frame.height))
        self.tasks.append(asyncio.ensure_future(consume()))

    async def offer(self, munge=None):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.net.attach(self.pc)
        sdp = unique_extmap_ids(self.pc.localDescription.sdp)
        return munge(sdp) if munge else sdp

    async def answer(self, sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def wait_counts(self, video=0, audio=0, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.counts["video"] >= video and self.counts["audio"] >= audio:
                return True
            await asyncio.sleep(0.1)
        return False

    async def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            await asyncio.wait_for(self.pc.close(), 5)
        except Exception as e:  # noqa: B902 - best effort
            diag("aiortc close: %r" % e)
        for t in self.tasks:
            t.cancel()


async def negotiate(c, peer, munge=None, body=None, timeout=15):
    """Sends aiortc's offer (trickle:false) and applies the answer; returns
    the plugin event."""
    sdp = await peer.offer(munge)
    r = await c.message(body or {"audio": True, "video": True},
                        jsep={"type": "offer", "sdp": sdp, "trickle": False})
    expect(r, "ack")
    ev = await c.plugin_event(r["transaction"], timeout=timeout)
    data = ev.get("plugindata", {}).get("data", {})
    check(data.get("result") == "ok" and isinstance(ev.get("jsep"), dict) and
          ev["jsep"].get("type") == "answer",
          "expected result ok with a JSEP answer", ev)
    await peer.answer(ev["jsep"]["sdp"])
    return ev


async def open_session(c):
    await c.create_session()
    await c.attach_handle()


def is_janus(kind, **fields):
    return lambda m: m.get("janus") == kind and all(m.get(k) == v for k, v in fields.items())


def is_done(m):
    return m.get("janus") == "event" and \
        m.get("plugindata", {}).get("data", {}).get("result") == "done"


async def handle_info(c):
    async with JanusClient("http", admin=True) as a:
        r = await a.request("handle_info", session_id=c.session_id, handle_id=c.handle_id)
    expect(r)
    return r["info"]


async def api_hangup(c, peer):
    """Janus API hangup (the server closes first, so no close_notify from
    aiortc races it), then aiortc closes."""
    expect(await c.hangup())
    ev = await c.event(is_janus("hangup"), 5, "hangup event")
    await peer.close()
    return ev


def media_stats(info):
    return {m.get("type"): m.get("stats") for m in
            info.get("webrtc", {}).get("media", {}).values()}


async def within(aw, seconds, what):
    """Awaits aw; a timeout is a test failure that says what was awaited
    (the harness reports a bare asyncio.TimeoutError as the test's own)."""
    try:
        return await asyncio.wait_for(aw, seconds)
    except asyncio.TimeoutError:
        raise TestFailure("%s: nothing within %s s" % (what, seconds)) from None


class Call:
    """One stoa (new_server()), a WebSocket client with a session and an
    echotest handle, and an aiortc peer. On the way out the peer closes
    first, then the server must exit 0 with a clean log (Server.stop). When
    a test fails and the server is no longer running, the failure says so."""

    def __init__(self, **peer_kw):
        self.peer_kw = peer_kw
        self.srv = self.c = self.peer = None

    async def __aenter__(self):
        self.srv = new_server()
        await self.srv.start()
        try:
            self.c = await JanusClient("ws").open()
            await open_session(self.c)
            self.peer = EchoPeer(**self.peer_kw)
        except BaseException:
            await self._close_clients()
            self.srv.kill()
            raise
        return self

    async def _close_clients(self):
        if self.peer is not None:
            await self.peer.close()
        if self.c is not None:
            await self.c.close()

    async def __aexit__(self, et, e, tb):
        # A crash also closes the WebSocket: give the exit a moment to show.
        dead = et is not None and await self.srv.wait_exit(1.0) is not None
        await self._close_clients()
        if et is None:
            await self.srv.stop()
            return False
        try:
            await self.srv.stop()
        except BaseException:  # noqa: B902 - the test's own failure comes first
            self.srv.kill()
        if dead:
            raise TestFailure("stoa died during the test (exit status %s; its log is below): %s"
                              % (self.srv.proc.returncode, e)) from e
        return False


# ---------------------------------------------------------------- the main call
# One call, checked from several angles: the first test makes the call and
# records what it saw in MAIN, the tests after it look at the records (a
# call cannot span tests: each runs on its own event loop).

MAIN = {}


async def echo_data(peer, text, seconds=5):
    """Sends text once the channel is open; True when the echo came back."""
    await within(peer.dc_open.wait(), 5, "the data channel opening (state %s)"
                 % peer.dc.readyState)
    peer.dc.send(text)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ECHO_PREFIX + text in peer.received:
            return True
        await asyncio.sleep(0.05)
    return False


@tap.test("aiortc call through echotest: offer (trickle:false) answered, webrtcup", timeout=45)
async def test_call():
    MAIN.clear()
    async with Call() as k:
        c, peer = k.c, k.peer
        await negotiate(c, peer)
        await c.event(is_janus("webrtcup"), 10, "webrtcup")
        MAIN["up"] = True
        ok = await peer.wait_counts(MIN_VIDEO_FRAMES + 1, MIN_AUDIO_FRAMES + 1, timeout=15)
        MAIN["counts"] = dict(peer.counts, ok=ok, sizes=sorted(peer.sizes))
        media = []
        for kind in ("audio", "video"):
            try:
                media.append(await c.event(
                    lambda m, k=kind: m.get("janus") == "media" and m.get("type") == k and
                    m.get("receiving") is True, 3, "media %s receiving:true" % kind))
            except TestFailure as e:
                media.append(str(e))
        MAIN["media"] = media
        text = "hello from aiortc %d" % os.getpid()
        try:
            echoed = await echo_data(peer, text)
            MAIN["data"] = {"sent": text, "echoed": echoed, "got": list(peer.received),
                            "id": peer.dc.id}
        except TestFailure as e:
            MAIN["data"] = {"error": str(e)}
        MAIN["info"] = await handle_info(c)
        # Trickles that do not parse: acked, and nothing breaks.
        bad = [
            {"candidate": {"candidate": "candidate:garbage", "sdpMid": "0", "sdpMLineIndex": 0}},
            {"candidate": {"candidate": "candidate:1 1 UDP 2130706431 999.1.2.3 70000 typ host",
                           "sdpMid": "0"}},
            {"candidate": {"candidate": "candidate:1 1 sctp 1 127.0.0.2 9 typ nonsense",
                           "sdpMLineIndex": 0}},
            {"candidates": [{"candidate": "not a candidate", "sdpMid": "0"},
                            {"candidate": "candidate:x", "sdpMLineIndex": 0},
                            {"completed": True}]},
        ]
        replies = [await c.trickle(**b) for b in bad]
        v0 = peer.counts["video"]
        await asyncio.sleep(1.5)
        MAIN["trickle"] = {"replies": replies, "video_before": v0,
                           "video_after": peer.counts["video"],
                           "ping": (await c.ping()).get("janus")}
        # Janus API hangup, and the handle lives on.
        hang = await api_hangup(c, peer)
        done = await c.event(is_done, 5, "echotest done event")
        MAIN["hangup"] = {"event": hang, "done": done}
        r = await c.message({"audio": True})
        MAIN["hangup"]["after"] = (await c.plugin_event(r.get("transaction"))).get(
            "plugindata", {}).get("data")
        MAIN["hangup"]["webrtc_after"] = (await handle_info(c)).get("webrtc")


def need_main(key):
    check(MAIN.get("up"), "the call did not come up (see the first test)")
    check(key in MAIN, "the call test did not get as far as this check")
    return MAIN[key]


@tap.test("echoed video: aiortc decodes > %d frames" % MIN_VIDEO_FRAMES)
def test_video():
    n = need_main("counts")
    check(n["video"] > MIN_VIDEO_FRAMES and n["sizes"], "too few video frames", n)
    diag("frames: %s" % json.dumps(n))


@tap.test("echoed audio: aiortc decodes > %d frames" % MIN_AUDIO_FRAMES)
def test_audio():
    n = need_main("counts")
    check(n["audio"] > MIN_AUDIO_FRAMES, "too few audio frames", n)


@tap.test("data channel (ids by RFC 8832): the text comes back prefixed %r" % ECHO_PREFIX)
def test_data():
    d = need_main("data")
    check("error" not in d, d.get("error", ""))
    check(d["echoed"], "no echo of %r" % d["sent"], d)
    diag("channel id %s" % d["id"])


@tap.test("webrtcup and media receiving:true (audio, video) on the WebSocket")
def test_events():
    media = need_main("media")
    bad = [m for m in media if not isinstance(m, dict)]
    check(not bad, "missing media events", *bad)


@tap.test("Admin API handle_info: dtls-state connected, srtp-profile %s, "
          "audio and video stats in/out packets > 0" % AIORTC_PROFILE)
def test_admin():
    info = need_main("info")
    dtls = info.get("webrtc", {}).get("dtls", {})
    check(dtls.get("dtls-state") == "connected", "dtls-state", dtls)
    check(dtls.get("srtp-profile") == AIORTC_PROFILE, "srtp-profile", dtls)
    st = media_stats(info)
    for kind in ("audio", "video"):
        s = st.get(kind) or {}
        check(s.get("in", {}).get("packets", 0) > 0 and s.get("out", {}).get("packets", 0) > 0,
              "%s stats" % kind, st)
    check(info.get("sdps", {}).get("remote") and info.get("sdps", {}).get("local"),
          "sdps.local/remote missing", info.get("sdps"))
    diag("stats: %s" % json.dumps(st))


@tap.test("trickle candidates that do not parse mid-call: acked, media keeps flowing")
def test_bad_trickle():
    t = need_main("trickle")
    for r in t["replies"]:
        check(r.get("janus") == "ack", "expected an ack", r)
    check(t["video_after"] > t["video_before"] + 10, "video stopped after the bad trickles", t)
    check(t["ping"] == "pong", "ping after the bad trickles", t)


@tap.test("Janus API hangup: hangup event, echotest {\"result\":\"done\"}, the handle lives on")
def test_hangup():
    h = need_main("hangup")
    check(isinstance(h["event"].get("reason"), str) and h["event"]["reason"],
          "hangup without a reason", h["event"])
    check((h.get("after") or {}).get("result") == "ok", "message after the hangup", h)
    check(not h.get("webrtc_after"), "handle_info still shows a peer connection",
          h.get("webrtc_after"))
    diag("hangup reason: %s" % h["event"]["reason"])


# ---------------------------------------------------------------- more calls

@tap.test("data channel with aiortc's own ids (odd: it goes by ICE role) is echoed, "
          "as Janus does", timeout=30)
async def test_data_aiortc_ids():
    # Janus answers a=setup:active (aiortc is then the DTLS server and its
    # odd ids are right) and its SCTP code does not check the parity of a
    # peer's DATA_CHANNEL_OPEN anyway. Stoa answers passive, which makes
    # aiortc a DTLS client that still opens stream 1.
    async with Call(rfc8832_ids=False) as k:
        c, peer = k.c, k.peer
        await negotiate(c, peer)
        await c.event(is_janus("webrtcup"), 10, "webrtcup")
        text = "odd id %d" % os.getpid()
        try:
            echoed = await echo_data(peer, text)
        except TestFailure as e:
            echoed = str(e)
        refused = [line for line in k.srv.log_text().split("\n") if "DATA_CHANNEL_OPEN" in line]
        check(echoed is True, "no echo on stream %s (aiortc is the DTLS %s): %s"
              % (peer.dc.id if peer.dc.id is not None else peer.pc.sctp._data_channel_id,
                 peer.pc.sctp.transport._role, echoed or "no echo within 5 s"), *refused)
        await api_hangup(c, peer)


@tap.test("peer closes its PeerConnection (DTLS close_notify): hangup \"DTLS alert\", "
          "done, server keeps running", timeout=30)
async def test_peer_close():
    async with Call(data=False) as k:
        c, peer = k.c, k.peer
        await negotiate(c, peer)
        await c.event(is_janus("webrtcup"), 10, "webrtcup")
        check(await peer.wait_counts(video=10), "no video before the close", peer.counts)
        await peer.close()
        ev = await c.event(is_janus("hangup"), 5, "hangup after close_notify")
        check(ev.get("reason") == "DTLS alert", "expected reason \"DTLS alert\"", ev)
        await c.event(is_done, 5, "echotest done event")
        await asyncio.sleep(0.5)
        expect(await c.ping(), "pong")


@tap.test("DTLS fingerprint mismatch: handshake refused, hangup naming DTLS, no media",
          timeout=30)
async def test_fingerprint_mismatch():
    fake = ":".join("%02X" % random.randrange(256) for _ in range(32))

    def munge(sdp):
        out, n = re.subn(r"a=fingerprint:sha-256 [0-9A-Fa-f:]+", "a=fingerprint:sha-256 " + fake,
                         sdp)
        check(n > 0, "no sha-256 fingerprint in aiortc's offer", sdp)
        return out

    async with Call(data=False) as k:
        c, peer = k.c, k.peer
        await negotiate(c, peer, munge=munge)
        ev = await c.event(lambda m: m.get("janus") in ("hangup", "webrtcup"), 10,
                           "hangup after the DTLS handshake")
        check(ev.get("janus") == "hangup", "got webrtcup with a wrong fingerprint", ev)
        check("DTLS" in (ev.get("reason") or ""), "the hangup reason does not name DTLS", ev)
        diag("hangup reason: %s" % ev.get("reason"))
        await asyncio.sleep(1)
        check(peer.counts == {"audio": 0, "video": 0}, "media flowed", peer.counts)
        check(not [m for m in c.ws.inbox if m.get("janus") in ("webrtcup", "media")],
              "webrtcup or media events", c.ws.inbox)
        info = await handle_info(c)
        w = info.get("webrtc") or {}
        st = media_stats(info)
        check(all(not s or s.get("in", {}).get("packets", 0) == 0 for s in st.values()),
              "the server counted media", st)
        check(w.get("dtls", {}).get("dtls-state") in (None, "failed", "created"),
              "dtls-state", w.get("dtls"))
        expect(await c.ping(), "pong")


@tap.test("peer vanishes mid-call (its UDP dropped, no close_notify): hangup \"ICE failed\" "
          "within %.1f s (consent_timeout %d), done, session usable"
          % (VANISH_DEADLINE, CONSENT_TIMEOUT), timeout=40)
async def test_vanish():
    async with Call(data=False) as k:
        c, peer = k.c, k.peer
        await negotiate(c, peer)
        await c.event(is_janus("webrtcup"), 10, "webrtcup")
        check(await peer.wait_counts(video=10, audio=10), "no media before", peer.counts)
        peer.net.blackhole = True
        t0 = time.monotonic()
        ev = await c.event(is_janus("hangup"), VANISH_DEADLINE + 4, "hangup after silence")
        took = time.monotonic() - t0
        diag("hangup %r after %.1f s of silence" % (ev.get("reason"), took))
        check(ev.get("reason") == "ICE failed", "expected reason \"ICE failed\"", ev)
        check(took <= VANISH_DEADLINE, "hangup after %.1f s, expected <= %.1f s"
              % (took, VANISH_DEADLINE))
        await c.event(is_done, 5, "echotest done event")
        # The session and the handle still work.
        expect(await c.keepalive(), "ack")
        r = await c.message({"video": True})
        ok = await c.plugin_event(r.get("transaction"))
        check(ok.get("plugindata", {}).get("data", {}).get("result") == "ok", "message", ok)
        check(expect(await c.attach())["data"]["id"] > 0, "attach after the hangup")


@tap.test("garbage offers: SDP that does not parse -> 465, no usable m-line -> 465; "
          "the same handle then takes a real offer", timeout=40)
async def test_garbage():
    async with Call(data=False) as k:
        c, peer = k.c, k.peer
        head = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        ice = "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
        fp = "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n"
        cases = [
            ("not an SDP", "this is not an SDP, just text\r\n"),
            ("binary junk", "".join(chr(random.randrange(1, 256)) for _ in range(300))),
            ("half an SDP", "v=0\r\nm=audio"),
            ("no m-line", head),
            ("only a rejected m-line", head + "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n"
             "c=IN IP4 0.0.0.0\r\na=mid:0\r\n" + ice + fp),
            ("m-line without ICE credentials", head + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"
             "c=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:0 PCMU/8000\r\n" + fp),
        ]
        for name, sdp in cases:
            r = await c.message({"audio": True}, jsep={"type": "offer", "sdp": sdp})
            expect_error(r, 465)
            diag("%s: 465 %s" % (name, r["error"]["reason"]))
        expect(await c.ping(), "pong")
        check(not [m for m in c.ws.inbox if m.get("janus") == "event"],
              "plugin events for refused offers", c.ws.inbox)
        await negotiate(c, peer)
        await c.event(is_janus("webrtcup"), 10, "webrtcup after the garbage")
        check(await peer.wait_counts(video=10), "no video after the garbage", peer.counts)
        await api_hangup(c, peer)


# ---------------------------------------------------------------- loss

def tc_qdisc(*args):
    tc = shutil.which("tc") or "/usr/sbin/tc"
    try:
        p = subprocess.run([tc, "qdisc"] + list(args), capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return p.returncode == 0, (p.stderr or p.stdout).strip()


LOSS = 0.05


@tap.test("5% loss both ways: the server NACKs what it misses (in.nacks > 0) and "
          "retransmits what aiortc NACKs (out.retransmissions > 0); the echo still decodes",
          timeout=45)
async def test_loss():
    # netem on the namespace's lo when the kernel has it (it drops the
    # WebSocket's segments too, hence the longer waits); otherwise the same
    # loss at aiortc's sockets.
    check(os.environ.get("STOA_IN_NETNS") == "1", "needs tests/ns-run (tc on the namespace's lo)")
    netem, why = tc_qdisc("add", "dev", "lo", "root", "netem", "loss", "%g%%" % (LOSS * 100))
    diag("loss %g%% by %s" % (LOSS * 100, "netem on lo" if netem else
                              "aiortc's sockets (no netem here: %s)" % why))
    try:
        async with Call(data=False) as k:
            c, peer = k.c, k.peer
            await negotiate(c, peer, timeout=20)
            await c.event(is_janus("webrtcup"), 15, "webrtcup")
            check(await peer.wait_counts(video=10), "no video before the loss", peer.counts)
            if not netem:
                peer.net.loss = LOSS
            v0 = peer.counts["video"]
            deadline = time.monotonic() + 15
            vs = {}
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                vs = media_stats(await handle_info(c)).get("video") or {}
                if vs.get("in", {}).get("nacks", 0) > 0 and \
                        vs.get("out", {}).get("retransmissions", 0) > 0 and \
                        peer.counts["video"] > v0 + MIN_VIDEO_FRAMES:
                    break
            peer.net.loss = 0
            diag("server video stats: %s" % json.dumps(vs))
            diag("aiortc: %d video frames decoded under loss; datagrams dropped %s, passed %s"
                 % (peer.counts["video"] - v0, peer.net.dropped, peer.net.passed))
            check(vs.get("in", {}).get("nacks", 0) > 0,
                  "the server sent no NACK for aiortc's lost packets", vs)
            check(vs.get("in", {}).get("retransmissions", 0) > 0,
                  "no retransmission from aiortc reached the server", vs)
            check(vs.get("out", {}).get("nacks", 0) > 0, "no NACK from aiortc", vs)
            check(vs.get("out", {}).get("retransmissions", 0) > 0,
                  "the server answered no NACK of aiortc's", vs)
            check(peer.counts["video"] > v0 + MIN_VIDEO_FRAMES,
                  "the echo stopped decoding under loss", peer.counts)
            if netem:
                tc_qdisc("del", "dev", "lo", "root")
                netem = False
            await api_hangup(c, peer)
    finally:
        if netem:
            tc_qdisc("del", "dev", "lo", "root")


def addresses():
    """Every address of this network namespace (aiortc gathers on all)."""
    import netifaces  # aioice's own dependency
    out = []
    for ifc in netifaces.interfaces():
        for fam in (netifaces.AF_INET, netifaces.AF_INET6):
            for a in netifaces.ifaddresses(ifc).get(fam, []):
                out.append((ifc, a["addr"].split("%")[0]))
    return out


def skip_reason():
    addrs = addresses()
    bad = ["%s %s" % a for a in addrs if not (a[1].startswith("127.") or a[1] == "::1" or
                                               a[1].lower().startswith("fe80:"))]
    if bad:
        return ("not in a private network namespace (aiortc would use %s); run it through "
                "tests/ns-run" % ", ".join(bad))
    if PEER_IP not in [a[1] for a in addrs]:
        return "no %s here for aiortc (tests/ns-run adds it)" % PEER_IP
    return None


if __name__ == "__main__":
    why = skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run()
