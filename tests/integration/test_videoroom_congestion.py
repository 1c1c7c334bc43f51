#!/usr/bin/env python3
"""A congested VideoRoom subscriber drops video up to the next keyframe and
slows nobody else (docs/fanout.md, "A slow subscriber blocks nobody").

One aiortc publisher (audio + VP8 video) and two aiortc subscribers of it,
each on its own PeerConnection (so each has its own server socket). The
slow subscriber's downlink is throttled with tc inside the test's network
namespace: an htb root on lo whose default class is fast, and a u32 filter
that sends UDP to the slow subscriber's ports into a class of 8 kbit/s with
a long queue (pfifo of 100000 packets). On loopback a datagram's memory is
charged to the sending socket until it leaves the qdisc, so the long slow
queue fills the server socket's send buffer and the server's sendto() gets
EAGAIN -- the real signal of a congested path. (A qdisc that drops instead
would not do: a UDP send whose packet the qdisc drops still succeeds.)
This image's kernel has htb, tbf and pfifo but no prio, so htb classifies.
Only SRTP/SRTCP (first payload byte 10xxxxxx) takes the slow class: STUN
consent checks, queued behind a minute of media, would time out and libnice
would fail the pair, which is another test's subject.

Checked, from what flowed:
  - during the throttle the slow subscriber's video stream entered the
    wait for a keyframe and dropped packets there (its handle_info
    counters; the plugin-wide totals in the `metrics` text);
  - the fast subscriber got the publisher's video packet for packet
    (server counts) and kept decoding at the publisher's frame rate; the
    publisher's received rate did not change;
  - what reached the slow subscriber has no gap in its video sequence
    numbers and it sent no NACK: the refused packet and the dropped run
    were taken out of the numbering (without that, every refused packet is
    a hole it NACKs);
  - once the throttle is lifted (the slow class made fast, so its queue
    drains and nothing queued is lost), the slow subscriber receives a
    keyframe and decodes again.

Skipped (1..0) while the plugins folder has no VideoRoom plugin, or outside
a private network namespace (tests/ns-run).
"""

import asyncio
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import JanusClient, Server, Tap, check, diag, expect  # noqa: E402

from aiortc_peer import (  # noqa: E402
    PEER_IP, RoomPeer, VrHandle, media_stats, skip_reason, videoroom_missing, vr_publish,
    vr_subscribe,
)

tap = Tap(timeout=90)

ROOM = 4343
SLOW_RATE = "8kbit"
THROTTLE = 8.0      # seconds the slow subscriber's path is throttled
RECOVERY = 6.0      # seconds given to it to decode again afterwards


def tc(*args, check_rc=True):
    r = subprocess.run(["tc", *args], capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise RuntimeError("tc %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def throttle(ports):
    """SRTP to `ports` (on lo: every address of this namespace is local, so
    127.0.0.2 goes through lo too) into a slow class with a long queue."""
    tc("qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10")
    tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit")
    tc("class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate", SLOW_RATE,
       "ceil", SLOW_RATE)
    tc("qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo", "limit", "100000")
    for port in ports:
        tc("filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
           "match", "ip", "protocol", "17", "0xff", "match", "ip", "dport", str(port), "0xffff",
           "match", "u8", "0x80", "0xc0", "at", "28", "flowid", "1:20")


def unthrottle():
    """The slow class made fast: its queue drains, nothing queued is lost."""
    tc("class", "change", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate",
       "10gbit")


def remove_qdisc():
    tc("qdisc", "del", "dev", "lo", "root", check_rc=False)


def ice_ports(peer):
    """The local UDP ports of every ICE socket of an aiortc peer."""
    ports = set()
    for t in peer.pc.getTransceivers():
        conn = t.receiver.transport.transport._connection
        for proto in conn._protocols:
            if proto.local_candidate is not None:
                ports.add(proto.local_candidate.port)
    return sorted(ports)


def vp8_keyframe(payload):
    """True when a VP8 RTP payload starts a keyframe (RFC 7741 4.2, 4.3)."""
    if len(payload) < 1:
        return False
    b0 = payload[0]
    if not (b0 & 0x10) or (b0 & 0x07) != 0:
        return False   # not the start of partition 0
    off = 1
    if b0 & 0x80:
        if len(payload) < 2:
            return False
        x = payload[1]
        off = 2
        if x & 0x80:
            off += 2 if off < len(payload) and payload[off] & 0x80 else 1
        if x & 0x40:
            off += 1
        if x & 0x30:
            off += 1
    return off < len(payload) and (payload[off] & 0x01) == 0


class VideoTap:
    """Records the video RTP an aiortc subscriber receives (before its
    jitter buffer): sequence numbers per payload type, and when keyframes
    start."""

    def __init__(self, peer):
        self.seqs = {}
        self.keyframes = []
        self.vp8_pts = set()
        for t in peer.pc.getTransceivers():
            if t.kind == "video":
                self._wrap(t.receiver)
                self.vp8_pts |= {c.payloadType for c in t._codecs
                                 if c.mimeType.lower() == "video/vp8"}

    def _wrap(self, receiver):
        orig = receiver._handle_rtp_packet

        async def handle(packet, arrival_time_ms):
            self.seqs.setdefault(packet.payload_type, []).append(packet.sequence_number)
            if vp8_keyframe(packet.payload):
                self.keyframes.append(time.monotonic())
            await orig(packet, arrival_time_ms)
        receiver._handle_rtp_packet = handle

    def media_seqs(self):
        """The sequence numbers of the VP8 packets (retransmissions as RTX,
        when negotiated, have their own payload type and numbering)."""
        check(len(self.vp8_pts) == 1, "one VP8 payload type negotiated", self.vp8_pts)
        return self.seqs.get(next(iter(self.vp8_pts)), [])

    def gaps(self):
        """Holes in the numbering as the packets first arrived: sequence
        numbers still missing between the first and the last received, and
        those that came after a newer one (a retransmission filling a hole;
        loopback does not reorder)."""
        seqs = self.media_seqs()
        if not seqs:
            return 0
        unwrapped, last, base = [], seqs[0], 0
        for s in seqs:
            if s < last and last - s > 0x8000:
                base += 0x10000
            elif s > last and s - last > 0x8000:
                base -= 0x10000
            unwrapped.append(s + base)
            last = s
        late, newest = 0, unwrapped[0]
        for s in unwrapped:
            if s < newest:
                late += 1
            newest = max(newest, s)
        lo, hi = min(unwrapped), max(unwrapped)
        return (hi - lo + 1) - len(set(unwrapped)) + late


async def handle_info(hid, session_id):
    async with JanusClient("http", admin=True) as a:
        r = await a.request("handle_info", session_id=session_id, handle_id=hid)
    return expect(r)["info"]


async def video_stream_info(hid, session_id):
    """The slow subscriber's video stream in handle_info's plugin section."""
    info = await handle_info(hid, session_id)
    streams = (info.get("plugin_specific") or {}).get("streams") or []
    video = [s for s in streams if s.get("type") == "video"]
    check(len(video) == 1, "one video stream in the subscriber's plugin_specific", info)
    return video[0], media_stats(info)


async def server_counts(c, pub_h, fast_h):
    pub = media_stats(await handle_info(pub_h.id, c.session_id))
    fast = media_stats(await handle_info(fast_h.id, c.session_id))
    return {"pub_in": ((pub.get("video") or {}).get("in") or {}).get("packets", 0),
            "fast_out": ((fast.get("video") or {}).get("out") or {}).get("packets", 0),
            "t": time.monotonic()}


async def metrics_text():
    async with JanusClient("http", admin=True) as a:
        r = expect(await a.request("metrics"))
    return r.get("metrics") or ""


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


@tap.test("a throttled subscriber waits for a keyframe (counted), has no gap to NACK, decodes "
          "again after; the other subscriber and the publisher are not slowed", timeout=90)
async def test_slow_subscriber():
    peers = []
    try:
        async with JanusClient("ws") as c:
            await c.create_session()
            admin = await VrHandle.attach(c)
            d = await admin.sync({"request": "create", "room": ROOM})
            check(d.get("videoroom") == "created", "create", d)
            ph = await VrHandle.attach(c)
            pid = (await ph.join(ROOM, display="pub"))["id"]
            pub = RoomPeer(publish=True)
            peers.append(pub)
            await vr_publish(ph, pub)
            await ph.core_event("webrtcup", 15)

            fast, slow = RoomPeer(), RoomPeer()
            peers += [fast, slow]
            fh, sh = await VrHandle.attach(c), await VrHandle.attach(c)
            await vr_subscribe(fh, fast, ROOM, [{"feed": pid}])
            await vr_subscribe(sh, slow, ROOM, [{"feed": pid}])
            slow_tap = VideoTap(slow)
            for h in (fh, sh):
                await h.core_event("webrtcup", 15)
            ok = all(await asyncio.gather(*[p.wait_counts(video=20, timeout=20)
                                            for p in (fast, slow)]))
            check(ok, "both subscribers decode before the throttle",
                  fast.counts(), slow.counts())

            # Baseline: the publisher's rate before anything happens.
            base0 = await server_counts(c, ph, fh)
            await asyncio.sleep(2)
            base1 = await server_counts(c, ph, fh)
            base_rate = (base1["pub_in"] - base0["pub_in"]) / (base1["t"] - base0["t"])

            ports = ice_ports(slow)
            check(ports, "the slow subscriber's ICE ports")
            before, _ = await video_stream_info(sh.id, c.session_id)
            sent0, fast0, c0 = pub.sent(), fast.counts(), await server_counts(c, ph, fh)
            throttle(ports)
            t_start = time.monotonic()
            timeline = []
            try:
                while time.monotonic() - t_start < THROTTLE:
                    await asyncio.sleep(0.5)
                    info = await handle_info(sh.id, c.session_id)
                    v = [s for s in (info.get("plugin_specific") or {}).get("streams") or []
                         if s.get("type") == "video"] or [{}]
                    timeline.append((round(time.monotonic() - t_start, 1),
                                     v[0].get("keyframe_waits"), v[0].get("keyframe_wait_drops"),
                                     ((info.get("webrtc") or {}).get("ice") or {}).get("state")))
                diag("throttle timeline (s, waits, drops, ice): %s" % timeline)
                during, _ = await video_stream_info(sh.id, c.session_id)
                sent1, fast1, c1 = pub.sent(), fast.counts(), await server_counts(c, ph, fh)
                text = await metrics_text()
                unthrottle()
                lifted = time.monotonic()
                slow_lifted = slow.counts()["video"]
                await asyncio.sleep(RECOVERY)
            finally:
                remove_qdisc()
            after, slow_media = await video_stream_info(sh.id, c.session_id)
            slow_after = slow.counts()["video"] - slow_lifted

            pub_rate = (c1["pub_in"] - c0["pub_in"]) / (c1["t"] - c0["t"])
            pub_pkts = c1["pub_in"] - c0["pub_in"]
            fast_pkts = c1["fast_out"] - c0["fast_out"]
            fast_frames = fast1["video"] - fast0["video"]
            pub_frames = sent1["video"] - sent0["video"]
            key_after = [t for t in slow_tap.keyframes if t >= lifted]
            slow_out = (slow_media.get("video") or {}).get("out") or {}
            diag("slow subscriber video stream: before %s, during %s, after %s" % (
                {k: before.get(k) for k in ("keyframe_waits", "keyframe_wait_drops", "relayed")},
                {k: during.get(k) for k in ("keyframe_waits", "keyframe_wait_drops", "relayed")},
                {k: after.get(k) for k in ("keyframe_waits", "keyframe_wait_drops", "relayed")}))
            diag("publisher: %.1f video packets/s before, %.1f during; fast subscriber got %d of "
                 "%d packets, decoded %d of %d frames" % (base_rate, pub_rate, fast_pkts,
                                                          pub_pkts, fast_frames, pub_frames))
            diag("slow subscriber: %d frames decoded in the %.0f s after, %d keyframes after; "
                 "video seq gaps %d; server out %s; metrics waits %s drops %s" % (
                     slow_after, RECOVERY, len(key_after), slow_tap.gaps(), slow_out,
                     metric(text, "stoa_videoroom_keyframe_waits_total"),
                     metric(text, "stoa_videoroom_keyframe_wait_dropped_packets_total")))

            check(during.get("keyframe_waits", 0) > before.get("keyframe_waits", 0),
                  "the throttled stream never waited for a keyframe", before, during)
            check(during.get("keyframe_wait_drops", 0) > before.get("keyframe_wait_drops", 0),
                  "no video dropped while waiting", before, during)
            check((metric(text, "stoa_videoroom_keyframe_waits_total") or 0) > 0 and
                  (metric(text, "stoa_videoroom_keyframe_wait_dropped_packets_total") or 0) > 0,
                  "the metrics totals did not count the wait", text[-1500:])
            check(pub_pkts > 0 and fast_pkts >= 0.95 * pub_pkts,
                  "the fast subscriber did not get the publisher's video", fast_pkts, pub_pkts)
            check(pub_frames > 0 and fast_frames >= 0.7 * pub_frames,
                  "the fast subscriber stopped decoding at the publisher's rate",
                  fast_frames, pub_frames)
            check(pub_rate >= 0.8 * base_rate, "the publisher's rate dropped",
                  base_rate, pub_rate)
            check(slow_tap.gaps() == 0, "the slow subscriber saw gaps in its video numbering",
                  slow_tap.gaps())
            check(slow_out.get("nacks", 0) == 0, "the slow subscriber NACKed", slow_out)
            check(key_after, "no keyframe reached the slow subscriber after the throttle")
            check(slow_after >= 30, "the slow subscriber did not decode again", slow_after)
    finally:
        remove_qdisc()
        for p in peers:
            await p.close()


if __name__ == "__main__":
    why = videoroom_missing() or skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run(shared=Server(args=["-E", PEER_IP]))
