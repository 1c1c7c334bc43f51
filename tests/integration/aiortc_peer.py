"""Shared helpers for the integration tests that call the server with aiortc
(Debian python3-aiortc 1.4) through janus.plugin.echotest, signalled by hand
over the Janus WebSocket API: the aiortc peer (EchoPeer) with its
workarounds for aiortc 1.4 (unique extmap ids across the BUNDLE, data
channel ids by RFC 8832), the NetFilter that drops its datagrams, the offer
and answer exchange (negotiate), small event matchers, the namespace check
(skip_reason) and coturn started inside the test's namespace (Coturn).
The VideoRoom section at the end has what the janus.plugin.videoroom tests
share: a handle wrapper (VrHandle), an aiortc publisher/subscriber that
counts what it sends and decodes per track (RoomPeer), and the publish and
subscribe exchanges.
Why each workaround exists is told in test_echotest_aiortc.py's docstring.
Not a test: it has no TAP plan of its own.
"""

import asyncio
import glob
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

from stoa_harness import JanusClient, TestFailure, check, diag, expect

try:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing aiortc (Debian python3-aiortc): %s" % e, flush=True)
    raise SystemExit(1)

PEER_IP = "127.0.0.2"
TURN_IP = "127.0.0.3"
TURN_PORT = 3478
TURN_USER, TURN_PWD, TURN_REALM = "stoa", "secret", "stoa.test"

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
        if self._net.drop("out", data):
            return
        self._inner.sendto(data, addr)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class NetFilter:
    """Loss on an aiortc peer's ICE sockets: `loss` drops that share of the
    SRTP/SRTCP datagrams (RFC 7983: first byte 128-191) at random, both
    ways; `blackhole` drops everything. Random loss spares STUN and DTLS:
    the tests that use it are about repairing media (NACK, RTX, PLI), and a
    run of lost consent checks could make libnice declare the pair failed,
    ending the call for a reason the test is not about."""

    def __init__(self, seed=7):
        self.loss = 0.0
        self.blackhole = False
        self.rng = random.Random(seed)
        self.dropped = {"in": 0, "out": 0}
        self.passed = {"in": 0, "out": 0}

    def drop(self, direction, data):
        media = len(data) > 0 and 127 < data[0] < 192
        if self.blackhole or (media and self.loss > 0 and self.rng.random() < self.loss):
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
                    if not self.drop("in", data):
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


class _Peer:
    """What the aiortc peers below share: waiting for decoded frames and a
    best-effort close. Subclasses set pc, tasks and closed, and say what was
    decoded so far in frame_counts()."""

    def frame_counts(self):
        raise NotImplementedError

    async def wait_counts(self, video=0, audio=0, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.frame_counts()
            if n["video"] >= video and n["audio"] >= audio:
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


class EchoPeer(_Peer):
    """aiortc sending audio, video and (optionally) a data channel, and
    counting what comes back."""

    def __init__(self, data=True, rfc8832_ids=True, label="stoa-echo", media=True):
        self.pc = RTCPeerConnection()
        self.net = NetFilter()
        self.counts = {"audio": 0, "video": 0}
        self.sizes = set()
        self.received = []
        self.tasks = []
        self.closed = False
        if media:
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

    def frame_counts(self):
        return self.counts


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


# ---------------------------------------------------------------- coturn

def ensure_address(ip):
    """Puts `ip` on ns-run's non-loopback device (stoa0) if it is not there."""
    shown = subprocess.run(["ip", "-4", "addr", "show"], capture_output=True, text=True).stdout
    if (" %s/" % ip) not in shown:
        subprocess.run(["ip", "addr", "add", "%s/32" % ip, "dev", "stoa0"], check=True)


class Coturn:
    """turnserver on TURN_IP with one static long-term-credential user, or,
    with auth_secret, coturn's use-auth-secret (time-limited credentials
    derived from a shared secret)."""

    def __init__(self, auth_secret=None):
        self.auth_secret = auth_secret
        self.dir = tempfile.mkdtemp(prefix="stoa-coturn-")
        self.log = os.path.join(self.dir, "turn.log")
        self.proc = None

    def start(self):
        ensure_address(TURN_IP)
        args = ["turnserver", "-n", "--listening-ip=%s" % TURN_IP,
                "--relay-ip=%s" % TURN_IP, "--listening-port=%d" % TURN_PORT,
                "--min-port=50000", "--max-port=50999",
                *self.auth_args(), "--realm=%s" % TURN_REALM, "--no-tls", "--no-dtls",
                "--allow-loopback-peers", "--no-cli", "--no-software-attribute",
                "--log-file=%s" % self.log, "--simple-log", "-v"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if "UDP listener opened" in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("turnserver did not start: %s" % self.text()[-2000:])

    def auth_args(self):
        if self.auth_secret is not None:
            return ["--use-auth-secret", "--static-auth-secret=%s" % self.auth_secret]
        return ["--lt-cred-mech", "--user=%s:%s" % (TURN_USER, TURN_PWD)]

    def text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.environ.get("STOA_KEEP_COTURN_LOG"):
            diag("coturn log kept in %s" % self.log)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- VideoRoom

VIDEOROOM = "janus.plugin.videoroom"


def videoroom_missing():
    """Why the VideoRoom tests cannot run, or None: the plugins folder
    ($STOA_PLUGINS) holds no VideoRoom library yet."""
    folder = os.environ.get("STOA_PLUGINS")
    if not folder or glob.glob(os.path.join(folder, "*videoroom*.so")):
        return None   # (Tap.run reports a missing $STOA_PLUGINS)
    return "no VideoRoom plugin in %s (janus.plugin.videoroom is not built)" % folder


def vr_data(m):
    """plugindata.data of an event or synchronous reply ({} if none)."""
    return (m.get("plugindata") or {}).get("data") or {}


def vr_error(data, code, what=""):
    """Asserts a VideoRoom error {"videoroom":"event","error_code":code,"error":<str>}."""
    check(isinstance(data, dict) and data.get("error_code") == code,
          "%sexpected VideoRoom error %d" % (what + ": " if what else "", code), data)
    check(isinstance(data.get("error"), str) and data["error"],
          "error %d without a text" % code, data)
    check(data.get("videoroom") == "event", "an error is a videoroom \"event\"", data)
    return data


class VrHandle:
    """One janus.plugin.videoroom handle on a JanusClient (either transport).

    call() sends a message and returns (how, data, jsep): how is "sync"
    (a success carrying plugindata), "async" (an ack, then the event with
    the same transaction) or "error" (a core error; data is the reply)."""

    def __init__(self, c, handle_id):
        self.c = c
        self.id = handle_id

    @classmethod
    async def attach(cls, c):
        r = expect(await c.attach(VIDEOROOM))
        return cls(c, r["data"]["id"])

    async def send(self, body, jsep=None, **fields):
        return await self.c.message(body, jsep=jsep, handle_id=self.id, **fields)

    async def call(self, body, jsep=None, timeout=10):
        r = await self.send(body, jsep)
        kind = r.get("janus")
        if kind == "success":
            check(r.get("sender") == self.id and
                  (r.get("plugindata") or {}).get("plugin") == VIDEOROOM,
                  "a synchronous plugin reply names the handle and the plugin", r)
            return "sync", vr_data(r), None
        if kind == "ack":
            tr = r["transaction"]
            ev = await self.c.event(lambda m: m.get("janus") == "event" and
                                    m.get("transaction") == tr and m.get("sender") == self.id,
                                    timeout, "the event answering %s" % json.dumps(body)[:200])
            return "async", vr_data(ev), ev.get("jsep")
        return "error", r, None

    async def sync(self, body):
        """A request the plugin must answer synchronously; returns data."""
        how, data, _ = await self.call(body)
        check(how == "sync", "%s: expected a synchronous reply" % body.get("request"), data)
        return data

    async def async_(self, body, jsep=None, timeout=10):
        """A request answered by ack + event; returns (data, jsep)."""
        how, data, ev_jsep = await self.call(body, jsep, timeout)
        check(how == "async", "%s: expected an ack and an event" % body.get("request"), data)
        return data, ev_jsep

    async def event(self, pred=None, timeout=5, what="a VideoRoom event"):
        """The next plugin event of this handle whose data matches pred;
        returns the whole message (vr_data() for its data)."""
        return await self.c.event(lambda m: m.get("janus") == "event" and
                                  m.get("sender") == self.id and
                                  (pred is None or pred(vr_data(m))), timeout, what)

    async def core_event(self, kind, timeout=10):
        """The next core event (webrtcup, hangup, ...) of this handle."""
        return await self.c.event(lambda m: m.get("janus") == kind and
                                  m.get("sender") == self.id, timeout,
                                  "%s on handle %s" % (kind, self.id))

    def queued(self):
        """Events of this handle still queued (not taken by event())."""
        src = self.c.ws.inbox if self.c.transport == "ws" else self.c.events
        return [m for m in src if m.get("sender") == self.id]

    async def join(self, room, ptype="publisher", **fields):
        """A join that must succeed: returns the joined/attached data (and
        jsep for subscribers)."""
        body = dict(fields, request="join", room=room, ptype=ptype)
        data, jsep = await self.async_(body)
        want = "joined" if ptype == "publisher" else "attached"
        check(data.get("videoroom") == want, "join: expected %s" % want, data)
        return (data, jsep) if ptype == "subscriber" else data

    async def detach(self):
        return await self.c.detach(handle_id=self.id)


class SourceVideoTrack(VideoStreamTrack):
    """aiortc's synthetic video (30 fps, blank) at a chosen size, counting
    the frames handed to the encoder."""

    def __init__(self, width=640, height=480):
        super().__init__()
        self.width = width
        self.height = height
        self.sent = 0

    async def recv(self):
        from av import VideoFrame
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height)
        for p in frame.planes:
            p.update(bytes(p.buffer_size))
        frame.pts = pts
        frame.time_base = time_base
        self.sent += 1
        return frame


class SourceAudioTrack(AudioStreamTrack):
    """aiortc's synthetic audio (20 ms of silence a frame), counted."""

    def __init__(self):
        super().__init__()
        self.sent = 0

    async def recv(self):
        frame = await super().recv()
        self.sent += 1
        return frame


class RoomPeer(_Peer):
    """aiortc in a VideoRoom: a publisher (publish=True: sends audio and
    video of `size`) or a subscriber (answers the server's offer, receives).
    data=True opens a data channel (ids by RFC 8832), as janus.js does on
    both sides when data is wanted. Every received track is counted on its
    own: self.tracks[mid] = {"kind", "frames", "sizes": {"WxH": n}, "last":
    "WxH"}; data channel messages, on our channel or on one the server
    opened, land in `received`."""

    def __init__(self, publish=False, data=False, size=(640, 480), label="stoa-vr"):
        self.pc = RTCPeerConnection()
        self.tracks = {}
        self.received = []
        self.channels = []
        self.tasks = []
        self.closed = False
        self.audio = self.video = self.dc = None
        self.dc_open = asyncio.Event()
        if publish:
            self.audio = SourceAudioTrack()
            self.video = SourceVideoTrack(*size)
            self.pc.addTrack(self.audio)
            self.pc.addTrack(self.video)
        if data:
            self.dc = self.pc.createDataChannel(label)
            self.dc.on("open", self.dc_open.set)
            self.dc.on("message", self.received.append)
            follow_rfc8832_ids(self.pc)
        self.pc.on("track", self._on_track)
        self.pc.on("datachannel", self._on_channel)

    def _on_channel(self, ch):
        self.channels.append(ch)
        ch.on("message", self.received.append)

    def _on_track(self, track):
        mid = None
        for t in self.pc.getTransceivers():
            if t.receiver.track is track:
                mid = t.mid
        rec = {"kind": track.kind, "frames": 0, "sizes": {}, "last": None}
        self.tracks[mid if mid is not None else "track%d" % len(self.tracks)] = rec

        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except (MediaStreamError, asyncio.CancelledError):
                    return
                rec["frames"] += 1
                if track.kind == "video":
                    size = "%dx%d" % (frame.width, frame.height)
                    rec["sizes"][size] = rec["sizes"].get(size, 0) + 1
                    rec["last"] = size
        self.tasks.append(asyncio.ensure_future(consume()))

    def counts(self):
        out = {"audio": 0, "video": 0}
        for rec in self.tracks.values():
            out[rec["kind"]] = out.get(rec["kind"], 0) + rec["frames"]
        return out

    def sent(self):
        return {"audio": self.audio.sent if self.audio else 0,
                "video": self.video.sent if self.video else 0}

    async def offer(self):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return unique_extmap_ids(self.pc.localDescription.sdp)

    async def set_answer(self, sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def answer(self, offer_sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    def frame_counts(self):
        return self.counts()


def sdp_sections(sdp):
    """{mid: m-section text} of an SDP."""
    out = {}
    for sec in re.split(r"\r?\n(?=m=)", sdp)[1:]:
        m = re.search(r"^a=mid:(\S+)", sec, re.M)
        if m:
            out[m.group(1)] = sec
    return out


def inactive(section):
    """Whether an m-section sends nothing: port 0 or a=inactive."""
    return section.startswith("m=") and (section.split()[1] == "0" or
                                         re.search(r"^a=inactive", section, re.M) is not None)


def rtx_ssrcs(pc):
    """The SSRCs the remote description names as retransmission streams
    (the second SSRC of each a=ssrc-group:FID)."""
    sdp = pc.remoteDescription.sdp if pc.remoteDescription is not None else ""
    return {int(m.group(1)) for m in re.finditer(r"^a=ssrc-group:FID \d+ (\d+)", sdp, re.M)}


def rtp_received(transceiver, rtx=frozenset()):
    """RTP packets the transceiver received on its media SSRCs (not on the
    retransmission SSRCs in `rtx`, see rtx_ssrcs()).

    Read from the receiver's per-SSRC statistics, not from getStats():
    aiortc 1.4 reports every SSRC of a receiver under one stats id, so once
    a retransmission has arrived the report holds whichever SSRC came last
    (the RTX one, whose count barely moves) and media seems to stop."""
    streams = getattr(transceiver.receiver, "_RTCRtpReceiver__remote_streams", None)
    check(streams is not None, "aiortc's RTCRtpReceiver has no per-SSRC statistics")
    return sum(st.packets_received for ssrc, st in streams.items() if ssrc not in rtx)


def watch_sender_rtcp(peer, kind="video"):
    """Records the RTCP feedback that reaches peer's `kind` sender, as aiortc
    routes it there (by the media SSRC, or a REMB's SSRC list): {"pli":
    [monotonic time...], "remb": [(monotonic time, bitrate)...]}. aiortc
    acts on them as before (a PLI forces a keyframe, a REMB sets the
    encoder's target)."""
    from aiortc.rtp import RTCP_PSFB_APP, RTCP_PSFB_PLI, RtcpPsfbPacket, unpack_remb_fci
    seen = {"pli": [], "remb": []}
    sender = next(t.sender for t in peer.pc.getTransceivers() if t.kind == kind)
    orig = sender._handle_rtcp_packet

    async def handle(packet):
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            seen["pli"].append(time.monotonic())
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                seen["remb"].append((time.monotonic(), unpack_remb_fci(packet.fci)[0]))
            except ValueError:
                pass
        await orig(packet)
    sender._handle_rtcp_packet = handle
    return seen


async def send_pli(peer, kind="video"):
    """Makes peer's `kind` receiver ask for a keyframe (RFC 4585 PLI) of
    the stream it receives, as aiortc does when its decoder lost the
    picture. False when nothing was received yet (no SSRC to name)."""
    recv = next(t.receiver for t in peer.pc.getTransceivers() if t.kind == kind)
    sources = recv.getSynchronizationSources()
    if not sources:
        return False
    await recv._send_rtcp_pli(sources[0].source)
    return True


async def vr_publish(h, peer, body=None, timeout=15):
    """`publish` with peer's offer (trickle:false); applies the answer and
    returns the `configured` data."""
    sdp = await peer.offer()
    b = dict(body or {}, request="publish")
    data, jsep = await h.async_(b, {"type": "offer", "sdp": sdp, "trickle": False}, timeout)
    check(data.get("configured") == "ok", "publish: expected configured ok", data)
    check(isinstance(jsep, dict) and jsep.get("type") == "answer" and jsep.get("sdp"),
          "publish: expected a JSEP answer", data, jsep)
    await peer.set_answer(jsep["sdp"])
    return data


async def vr_subscribe(h, peer, room, streams, timeout=15, **fields):
    """Subscriber join (streams) -> attached + offer -> aiortc's answer in
    `start` -> started. Returns the attached data."""
    data, jsep = await h.join(room, "subscriber", streams=streams, **fields)
    check(isinstance(jsep, dict) and jsep.get("type") == "offer" and jsep.get("sdp"),
          "attached without a JSEP offer", data, jsep)
    await vr_start(h, peer, jsep, timeout)
    return data


async def vr_start(h, peer, jsep, timeout=15):
    """Answers a server offer with `start`; returns the started data."""
    answer = await peer.answer(jsep["sdp"])
    data, ev_jsep = await h.async_({"request": "start"},
                                   {"type": "answer", "sdp": answer, "trickle": False}, timeout)
    check(data.get("started") == "ok", "start: expected started ok", data)
    check(ev_jsep is None, "start: no JSEP expected with started", ev_jsep)
    return data


# ---------------------------------------------------------------- VideoCall

VIDEOCALL = "janus.plugin.videocall"


def videocall_missing():
    """Why the VideoCall tests cannot run, or None: the plugins folder
    ($STOA_PLUGINS) holds no VideoCall library yet."""
    folder = os.environ.get("STOA_PLUGINS")
    if not folder or glob.glob(os.path.join(folder, "*videocall*.so")):
        return None   # (Tap.run reports a missing $STOA_PLUGINS)
    return "no VideoCall plugin in %s (janus.plugin.videocall is not built)" % folder


def vc_result(data):
    """The `result` object of VideoCall event data ({} if none)."""
    res = (data or {}).get("result")
    return res if isinstance(res, dict) else {}


def vc_error(data, code, what=""):
    """Asserts a VideoCall error {"videocall":"event","error_code":code,"error":<str>}."""
    check(isinstance(data, dict) and data.get("error_code") == code,
          "%sexpected VideoCall error %d" % (what + ": " if what else "", code), data)
    check(isinstance(data.get("error"), str) and data["error"],
          "error %d without a text" % code, data)
    check(data.get("videocall") == "event", "an error is a videocall \"event\"", data)
    return data


class VcHandle:
    """One janus.plugin.videocall handle on a JanusClient (either transport).
    Every VideoCall request is asynchronous: request() checks the `ack` and
    returns (data, jsep) of the event carrying the request's transaction."""

    def __init__(self, c, handle_id):
        self.c = c
        self.id = handle_id

    @classmethod
    async def attach(cls, c):
        r = expect(await c.attach(VIDEOCALL))
        return cls(c, r["data"]["id"])

    async def request(self, body, jsep=None, timeout=10):
        r = await self.c.message(body, jsep=jsep, handle_id=self.id)
        check(r.get("janus") == "ack", "%s: expected an ack" % json.dumps(body)[:100], r)
        tr = r["transaction"]
        ev = await self.c.event(lambda m: m.get("janus") == "event" and
                                m.get("transaction") == tr and m.get("sender") == self.id,
                                timeout, "the event answering %s" % json.dumps(body)[:200])
        check((ev.get("plugindata") or {}).get("plugin") == VIDEOCALL,
              "the event names the VideoCall plugin", ev)
        return vr_data(ev), ev.get("jsep")

    async def ok(self, body, event, jsep=None, timeout=10):
        """A request that must succeed with result.event == event; returns
        (result, jsep)."""
        data, ev_jsep = await self.request(body, jsep, timeout)
        res = vc_result(data)
        check(data.get("videocall") == "event" and res.get("event") == event,
              "%s: expected result event %r" % (body.get("request"), event), data)
        return res, ev_jsep

    async def error(self, body, code, jsep=None):
        data, _ = await self.request(body, jsep)
        return vc_error(data, code, str(body.get("request", "")))

    async def event(self, pred=None, timeout=5, what="a VideoCall event"):
        """The next plugin event of this handle whose result matches pred;
        returns (result, jsep, whole message)."""
        ev = await self.c.event(lambda m: m.get("janus") == "event" and
                                m.get("sender") == self.id and
                                (pred is None or pred(vc_result(vr_data(m)))), timeout, what)
        return vc_result(vr_data(ev)), ev.get("jsep"), ev

    async def result_event(self, name, timeout=5, **fields):
        """The next event whose result.event is `name` (and whose other
        result fields equal `fields`); returns (result, jsep, message)."""
        return await self.event(lambda r: r.get("event") == name and
                                all(r.get(k) == v for k, v in fields.items()), timeout,
                                "%s event on handle %s" % (name, self.id))

    async def core_event(self, kind, timeout=10):
        """The next core event (webrtcup, hangup, ...) of this handle."""
        return await self.c.event(lambda m: m.get("janus") == kind and
                                  m.get("sender") == self.id, timeout,
                                  "%s on handle %s" % (kind, self.id))

    def queued(self):
        """Events of this handle still queued (not taken by event())."""
        src = self.c.ws.inbox if self.c.transport == "ws" else self.c.events
        return [m for m in src if m.get("sender") == self.id]

    async def detach(self):
        return await self.c.detach(handle_id=self.id)
