#!/usr/bin/env python3
"""Prometheus metrics: the text the Admin API's `metrics` verb returns
(Stoa's extension) and GET /metrics on the admin port (7088; a failure if
it is not served), parsed with the Prometheus Python parser (Debian
python3-prometheus-client) and checked against what the test did:

  - the text parses; every family has HELP and a counter or gauge TYPE;
    names are stoa_..., counters end in _total, label names are lower
    snake case;
  - stoa_sessions / stoa_handles follow the sessions and handles the test
    creates and destroys;
  - stoa_api_requests_total rises by exactly the requests made, by api,
    verb and code (0 for success, 458 for an unknown session, verb
    "unknown" for a verb no table knows); REST requests by HTTP method and
    status (api="rest"), the transport's early 413 and preflight included;
  - an EchoTest call with aiortc (Debian python3-aiortc): RTP packets and
    bytes received and sent rise, audio and video, between two scrapes (the
    second through GET /metrics); a
    ready peer connection and a loop with a peer connection and rising CPU
    time during the call, no ready one after the hangup; a PLI and a FIR
    the peer sends are counted received, and the EchoTest's keyframe
    request in answer counted sent;
  - 5% loss both ways on the peer's sockets (aiortc_peer.NetFilter): the
    server NACKs what it misses, counts it lost and gets retransmissions,
    and is NACKed and retransmits in turn; the loss the peer reports in its
    receiver reports on what the server sends rises;
  - a peer that goes silent: one consent loss; an offer with a wrong DTLS
    fingerprint: one DTLS handshake failure; a peer that never answers ICE:
    its pc counted in a setup state (not ready) while the checks run, then
    one ICE failure and the pc gone;
  - VideoRoom rooms, participants, publishers and subscribers (from the
    plugin's admin "stats" request) follow a room with one publisher and
    one subscriber, and the publisher is asked for a keyframe.

One shared server (admin_secret set, consent_timeout 3 s, -E 127.0.0.2:
aioice skips 127.0.0.1); values are compared as differences between two
scrapes, so the tests do not depend on one another.
"""

import asyncio
import os
import random
import re
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (ADMIN_HTTP_PORT, ECHOTEST, HttpClient, JanusClient, Server,  # noqa: E402
                          Tap, check, diag, expect, expect_error, raw_http)

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing prometheus_client (Debian python3-prometheus-client): %s" % e,
          flush=True)
    raise SystemExit(1)

from aiortc_peer import (  # noqa: E402
    PEER_IP, EchoPeer, RoomPeer, VrHandle, api_hangup, is_janus, negotiate,
    skip_reason, videoroom_missing, vr_publish, vr_subscribe,
)

tap = Tap(timeout=60)

ADMIN_SECRET = "metrics-test"
CONSENT_TIMEOUT = 3
CONFIG = """general: {
    admin_secret = "%s"
}
nat: {
    consent_timeout = %d
}
""" % (ADMIN_SECRET, CONSENT_TIMEOUT)

NAME_RE = re.compile(r"^stoa_[a-z0-9_]+$")
LABEL_RE = re.compile(r"^[a-z][a-z0-9_]*$")
STATES = ("new", "gathering", "connecting", "connected", "ready", "closed")


class Metrics:
    """One scrape: the parsed families and each sample's value by name and
    labels."""

    def __init__(self, text):
        self.text = text
        try:
            self.families = list(text_string_to_metric_families(text))
        except Exception as e:  # noqa: B902 - any parser complaint fails the test
            raise AssertionError("the metrics text does not parse: %r\n%s" % (e, text[:2000]))
        self.samples = {}
        for f in self.families:
            for s in f.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    def get(self, name, **labels):
        """The sample with exactly these labels; None if absent."""
        return self.samples.get((name, frozenset(labels.items())))

    def total(self, name, **labels):
        """The sum of the samples of `name` whose labels include these."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and want <= ls)


async def scrape():
    async with JanusClient("http", admin=True, admin_secret=ADMIN_SECRET) as a:
        r = expect(await a.request("metrics"))
    text = r.get("metrics")
    check(isinstance(text, str) and text.endswith("\n"), "metrics: expected the text", r)
    return Metrics(text)


def rose(before, after, name, **labels):
    a, b = before.total(name, **labels), after.total(name, **labels)
    check(b > a, "%s%s did not rise (%s -> %s)" % (name, labels or "", a, b))
    return b - a


async def wait_metric(cond, timeout, what):
    """Scrapes until cond(metrics) holds; returns the last scrape."""
    deadline = asyncio.get_event_loop().time() + timeout
    while True:
        m = await scrape()
        if cond(m):
            return m
        if asyncio.get_event_loop().time() > deadline:
            raise AssertionError("%s within %s s" % (what, timeout))
        await asyncio.sleep(0.3)


@tap.test("the Admin API's metrics verb: the text parses; HELP and TYPE on every family; "
          "stoa_ names, _total counters, snake-case labels; 403 without admin_secret")
async def test_format():
    m = await scrape()
    names = set()
    for f in m.families:
        check(f.type in ("counter", "gauge"), "family %s has type %s" % (f.name, f.type))
        check(f.documentation, "family %s has no HELP" % f.name)
        check("# TYPE %s%s %s\n" % (f.name, "_total" if f.type == "counter" else "", f.type)
              in m.text, "no TYPE line for %s" % f.name)
        for s in f.samples:
            names.add(s.name)
            check(NAME_RE.match(s.name), "metric name %r" % s.name)
            check((f.type == "counter") == s.name.endswith("_total"),
                  "%s: counters, and only counters, end in _total" % s.name)
            for k in s.labels:
                check(LABEL_RE.match(k), "label name %r of %s" % (k, s.name))
            check(s.value >= 0, "%s is negative" % s.name, s.value)
    want = ["stoa_sessions", "stoa_handles", "stoa_peer_connections",
            "stoa_rtp_received_packets_total", "stoa_rtp_received_bytes_total",
            "stoa_rtp_sent_packets_total", "stoa_rtp_sent_bytes_total",
            "stoa_nacks_sent_total", "stoa_nacks_received_total",
            "stoa_retransmissions_sent_total", "stoa_retransmissions_received_total",
            "stoa_rtp_lost_packets_total", "stoa_rtp_remote_lost_packets_total",
            "stoa_plis_sent_total", "stoa_plis_received_total",
            "stoa_firs_sent_total", "stoa_firs_received_total",
            "stoa_dtls_handshake_failures_total", "stoa_ice_failures_total",
            "stoa_ice_consent_losses_total", "stoa_media_loop_peer_connections",
            "stoa_media_loop_cpu_seconds_total"]
    missing = [n for n in want if n not in names]
    check(not missing, "families missing from the text", missing)
    for state in STATES:
        check(m.get("stoa_peer_connections", state=state) is not None,
              "no stoa_peer_connections{state=%r}" % state)
    for kind in ("audio", "video"):
        check(m.get("stoa_rtp_received_packets_total", kind=kind) is not None,
              "no kind=%r packets" % kind)
    async with JanusClient("http", admin=True) as a:
        expect_error(await a.request("metrics"), 403)
    async with JanusClient("ws", admin=True, admin_secret=ADMIN_SECRET) as a:
        r = expect(await a.request("metrics"))
    Metrics(r["metrics"])


async def scrape_http():
    """One scrape through GET /metrics on the admin port (the REST route,
    with the admin_secret as its Bearer token)."""
    async with HttpClient(ADMIN_HTTP_PORT) as h:
        r = await h.get("/metrics", headers={"Authorization": "Bearer %s" % ADMIN_SECRET})
    check(r.status == 200, "GET /metrics", repr(r))
    ctype = r.headers.get("Content-Type", "")
    check(ctype.startswith("text/plain") and "0.0.4" in ctype,
          "Content-Type should be text/plain; version=0.0.4", ctype)
    return Metrics(r.body.decode())


@tap.test("GET /metrics on the admin port parses and has the same families as the "
          "Admin API's metrics verb")
async def test_http_metrics():
    m = await scrape_http()
    a = await scrape()
    check(m.get("stoa_sessions") is not None and
          m.get("stoa_peer_connections", state="ready") is not None,
          "GET /metrics lacks the gauges", m.text[:500])
    check({f.name for f in m.families} == {f.name for f in a.families},
          "GET /metrics and the metrics verb have different families",
          sorted({f.name for f in m.families} ^ {f.name for f in a.families}))


@tap.test("stoa_api_requests_total{api=\"rest\"}: +1 GET 200, +1 GET 401, +1 GET 404, "
          "+1 POST 413 (refused before the body), +1 OPTIONS 200 (preflight)")
async def test_rest_requests():
    auth = {"Authorization": "Bearer %s" % ADMIN_SECRET}
    before = await scrape()
    async with HttpClient(ADMIN_HTTP_PORT) as h:
        r = await h.get("/api/v1/health", headers=auth)
        check(r.status == 200, "GET /api/v1/health", repr(r))
        r = await h.get("/api/v1/info")
        check(r.status == 401, "GET /api/v1/info without a token", repr(r))
        r = await h.get("/api/v1/no-such-thing", headers=auth)
        check(r.status == 404, "GET of an unknown path", repr(r))
        r = await h.request("OPTIONS", "/api/v1/rooms",
                            headers={"Origin": "http://ui.example",
                                     "Access-Control-Request-Method": "POST"})
        check(r.status == 200, "the preflight", repr(r))
    status, _, _ = await raw_http(
        "POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n" % ADMIN_SECRET,
        port=ADMIN_HTTP_PORT)
    check(status == 413, "a declared 100 MB body", status)
    after = await scrape()

    def delta(**labels):
        return after.total("stoa_api_requests_total", **labels) - \
            before.total("stoa_api_requests_total", **labels)
    for verb, code in (("GET", "200"), ("GET", "401"), ("GET", "404"), ("POST", "413"),
                       ("OPTIONS", "200")):
        got = delta(api="rest", verb=verb, code=code)
        check(got == 1, "REST %s code %s" % (verb, code), got)
    check(delta(api="rest") == 5, "REST requests in all", delta(api="rest"))
    check(delta(api="admin") == 1 and delta(api="janus") == 0,
          "REST requests counted as another API", delta(api="admin"), delta(api="janus"))


@tap.test("stoa_sessions and stoa_handles follow 2 sessions with 3 handles, a detach and "
          "a destroy")
async def test_sessions_handles():
    before = await scrape()
    s0, h0 = before.get("stoa_sessions"), before.get("stoa_handles")
    async with JanusClient("ws") as c1, JanusClient("ws") as c2:
        await c1.create_session()
        await c2.create_session()
        a = await c1.attach_handle()
        await c1.attach_handle()
        await c2.attach_handle()
        m = await scrape()
        check(m.get("stoa_sessions") == s0 + 2, "sessions after 2 creates",
              s0, m.get("stoa_sessions"))
        check(m.get("stoa_handles") == h0 + 3, "handles after 3 attaches",
              h0, m.get("stoa_handles"))
        expect(await c1.detach(handle_id=a))
        expect(await c2.destroy())
        m = await scrape()
        check(m.get("stoa_sessions") == s0 + 1, "sessions after a destroy", m.get("stoa_sessions"))
        check(m.get("stoa_handles") == h0 + 1, "handles after a detach and a destroy",
              m.get("stoa_handles"))


@tap.test("stoa_api_requests_total: +3 keepalive code 0, +1 keepalive code 458, "
          "+1 verb unknown code 453, +1 admin metrics code 0")
async def test_api_requests():
    async with JanusClient("ws") as c:
        sid = await c.create_session()
        before = await scrape()
        for _ in range(3):
            expect(await c.keepalive(), "ack")
        expect_error(await c.request("keepalive", session_id=sid + 1), 458)
        expect_error(await c.request("frobnicate", session_id=sid), 453)
        after = await scrape()

    def delta(**labels):
        return after.total("stoa_api_requests_total", **labels) - \
            before.total("stoa_api_requests_total", **labels)
    check(delta(api="janus", verb="keepalive", code="0") == 3, "keepalive code 0",
          delta(api="janus", verb="keepalive", code="0"))
    check(delta(api="janus", verb="keepalive", code="458") == 1, "keepalive code 458",
          delta(api="janus", verb="keepalive", code="458"))
    check(delta(api="janus", verb="unknown", code="453") == 1, "unknown verb code 453",
          delta(api="janus", verb="unknown", code="453"))
    check(delta(api="admin", verb="metrics", code="0") == 1, "the scrape itself",
          delta(api="admin", verb="metrics", code="0"))
    check(delta(api="janus") == 5, "janus requests in all", delta(api="janus"))
    labels = [dict(ls) for (n, ls) in after.samples if n == "stoa_api_requests_total"]
    check(all(set(ls) == {"api", "verb", "code"} for ls in labels),
          "every request sample has api, verb and code", labels)


def remote_video_ssrc(peer):
    """The server's video SSRC from its answer."""
    sdp = peer.pc.remoteDescription.sdp
    video = sdp.split("m=video", 1)[1] if "m=video" in sdp else ""
    m = re.search(r"a=ssrc:(\d+)", video)
    return int(m.group(1)) if m else 0


def video_receiver(peer):
    for r in peer.pc.getReceivers():
        if r.track is not None and r.track.kind == "video":
            return r
    return None


async def echo_call(c, peer):
    await c.create_session()
    await c.attach_handle(ECHOTEST)
    await negotiate(c, peer)
    await c.event(is_janus("webrtcup"), 15, "webrtcup")
    check(await peer.wait_counts(video=10, audio=10), "no echoed media", peer.counts)


@tap.test("EchoTest call: RTP packets/bytes in and out rise (audio, video); a ready pc and a "
          "busy loop during, none ready after; PLI and FIR received, PLI sent", timeout=60)
async def test_echo_media():
    peer = EchoPeer(data=False)
    async with JanusClient("ws") as c:
        try:
            await echo_call(c, peer)
            a = await scrape()
            check(a.get("stoa_peer_connections", state="ready") >= 1, "no ready pc in the call",
                  a.get("stoa_peer_connections", state="ready"))
            check(a.total("stoa_media_loop_peer_connections") >= 1,
                  "no pc attached to a loop", a.total("stoa_media_loop_peer_connections"))
            receiver = video_receiver(peer)
            ssrc = remote_video_ssrc(peer)
            await receiver._send_rtcp_pli(ssrc)
            from aiortc.rtp import RtcpPsfbPacket
            rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc
            await receiver._send_rtcp(RtcpPsfbPacket(
                fmt=4, ssrc=rtcp_ssrc, media_ssrc=0, fci=struct.pack("!LB3x", ssrc, 1)))
            await asyncio.sleep(2)
            # Through GET /metrics this time: the HTTP text is what Prometheus reads.
            b = await scrape_http()
            for name in ("stoa_rtp_received_packets_total", "stoa_rtp_received_bytes_total",
                         "stoa_rtp_sent_packets_total", "stoa_rtp_sent_bytes_total"):
                for kind in ("audio", "video"):
                    rose(a, b, name, kind=kind)
            diag("in 2 s: %d video packets in, %d out; %d audio in" % (
                b.total("stoa_rtp_received_packets_total", kind="video") -
                a.total("stoa_rtp_received_packets_total", kind="video"),
                b.total("stoa_rtp_sent_packets_total", kind="video") -
                a.total("stoa_rtp_sent_packets_total", kind="video"),
                b.total("stoa_rtp_received_packets_total", kind="audio") -
                a.total("stoa_rtp_received_packets_total", kind="audio")))
            rose(a, b, "stoa_plis_received_total")
            rose(a, b, "stoa_firs_received_total")
            rose(a, b, "stoa_plis_sent_total")
            cpu = rose(a, b, "stoa_media_loop_cpu_seconds_total")
            diag("media loops used %.3f s of CPU in those 2 s" % cpu)
            await api_hangup(c, peer)
            await wait_metric(lambda m: m.get("stoa_peer_connections", state="ready") == 0, 5,
                              "no ready pc after the hangup")
        finally:
            await peer.close()


@tap.test("5% loss both ways on the peer: NACKs sent and received, retransmissions sent and "
          "received, packets lost rise, ours and those the peer reports (video)", timeout=60)
async def test_loss():
    peer = EchoPeer(data=False)
    async with JanusClient("ws") as c:
        try:
            await echo_call(c, peer)
            names = ("stoa_nacks_sent_total", "stoa_nacks_received_total",
                     "stoa_retransmissions_sent_total", "stoa_retransmissions_received_total",
                     "stoa_rtp_lost_packets_total", "stoa_rtp_remote_lost_packets_total")
            a = await scrape()
            peer.net.loss = 0.05
            # Five seconds drop ~7 video packets each way; a few more if
            # chance dropped too few (losses are counted once a second).
            for waited in range(1, 13):
                await asyncio.sleep(1)
                b = await scrape()
                if waited >= 5 and all(b.total(n, kind="video") > a.total(n, kind="video")
                                       for n in names):
                    break
            peer.net.loss = 0
            diag("peer dropped %s in %d s" % (peer.net.dropped, waited))
            out = {n: rose(a, b, n, kind="video") for n in names}
            diag("video at 5%% loss: %s" % out)
            await api_hangup(c, peer)
        finally:
            await peer.close()


@tap.test("a peer that goes silent: stoa_ice_consent_losses_total +1, its pc closed",
          timeout=30)
async def test_consent_loss():
    peer = EchoPeer(data=False)
    async with JanusClient("ws") as c:
        try:
            await echo_call(c, peer)
            a = await scrape()
            peer.net.blackhole = True
            ev = await c.event(is_janus("hangup"), CONSENT_TIMEOUT + 5, "hangup")
            check(ev.get("reason") == "ICE failed", "hangup reason", ev)
            b = await scrape()
            got = b.total("stoa_ice_consent_losses_total") - \
                a.total("stoa_ice_consent_losses_total")
            check(got == 1, "consent losses", got)
            check(b.get("stoa_peer_connections", state="ready") ==
                  a.get("stoa_peer_connections", state="ready") - 1, "the pc is no longer ready")
        finally:
            await peer.close()


@tap.test("a peer that never answers ICE: a pc seen connecting (not ready) while the checks "
          "run, then stoa_ice_failures_total +1, the call hung up and the pc gone",
          timeout=45)
async def test_ice_failure():
    peer = EchoPeer(data=False)
    # Every datagram to and from aiortc's ICE sockets is dropped from the
    # start: the server's connectivity checks all time out.
    peer.net.blackhole = True
    async with JanusClient("ws") as c:
        try:
            await c.create_session()
            await c.attach_handle(ECHOTEST)
            a = await scrape()
            await negotiate(c, peer)
            mid = await scrape()
            setup = sum(mid.get("stoa_peer_connections", state=s) -
                        a.get("stoa_peer_connections", state=s)
                        for s in ("new", "gathering", "connecting"))
            check(setup == 1 and mid.get("stoa_peer_connections", state="ready") ==
                  a.get("stoa_peer_connections", state="ready"),
                  "while ICE checks run: one more pc in a setup state, none more ready",
                  {s: (a.get("stoa_peer_connections", state=s),
                       mid.get("stoa_peer_connections", state=s)) for s in STATES})
            started = asyncio.get_event_loop().time()
            ev = await c.event(lambda m: m.get("janus") in ("hangup", "webrtcup"), 35,
                               "hangup after ICE failed")
            check(ev.get("janus") == "hangup" and ev.get("reason") == "ICE failed",
                  "ICE with a silent peer", ev)
            diag("ICE failed after %.1f s" % (asyncio.get_event_loop().time() - started))
            b = await wait_metric(lambda m: sum(m.get("stoa_peer_connections", state=s)
                                                for s in STATES) ==
                                  sum(a.get("stoa_peer_connections", state=s) for s in STATES),
                                  5, "the failed pc gone from stoa_peer_connections")
            got = b.total("stoa_ice_failures_total") - a.total("stoa_ice_failures_total")
            check(got == 1, "ICE failures", got)
            check(peer.net.passed["in"] == 0, "the blackhole let packets in", peer.net.passed)
        finally:
            await peer.close()


@tap.test("a wrong DTLS fingerprint in the offer: stoa_dtls_handshake_failures_total +1",
          timeout=30)
async def test_dtls_failure():
    fake = ":".join("%02X" % random.randrange(256) for _ in range(32))

    def munge(sdp):
        out, n = re.subn(r"a=fingerprint:sha-256 [0-9A-Fa-f:]+", "a=fingerprint:sha-256 " + fake,
                         sdp)
        check(n > 0, "no sha-256 fingerprint in aiortc's offer", sdp)
        return out

    peer = EchoPeer(data=False)
    async with JanusClient("ws") as c:
        try:
            await c.create_session()
            await c.attach_handle(ECHOTEST)
            a = await scrape()
            await negotiate(c, peer, munge=munge)
            ev = await c.event(lambda m: m.get("janus") in ("hangup", "webrtcup"), 10,
                               "hangup after the DTLS handshake")
            check(ev.get("janus") == "hangup", "webrtcup with a wrong fingerprint", ev)
            b = await scrape()
            got = b.total("stoa_dtls_handshake_failures_total") - \
                a.total("stoa_dtls_handshake_failures_total")
            check(got == 1, "DTLS handshake failures", got, ev.get("reason"))
        finally:
            await peer.close()


@tap.test("VideoRoom: rooms +1, participants +1, publishers +1, subscribers +1 with a "
          "publisher and a subscriber, back after; the publisher is sent a PLI", timeout=60)
async def test_videoroom():
    why = videoroom_missing()
    check(not why, "the VideoRoom plugin is part of the build", why)
    base = await scrape()
    missing = [g for g in ("stoa_videoroom_rooms", "stoa_videoroom_participants",
                           "stoa_videoroom_publishers", "stoa_videoroom_subscribers")
               if base.get(g) is None]
    check(not missing, "no VideoRoom gauges: the plugin does not answer the admin stats "
          "request", missing)
    pub, sub = RoomPeer(publish=True), RoomPeer()
    async with JanusClient("ws") as c:
        try:
            await c.create_session()
            admin = await VrHandle.attach(c)
            data = await admin.sync({"request": "create", "room": 7001})
            check(data.get("videoroom") == "created", "create", data)
            m = await scrape()
            check(m.get("stoa_videoroom_rooms") == base.get("stoa_videoroom_rooms") + 1,
                  "rooms after a create", m.get("stoa_videoroom_rooms"))
            h = await VrHandle.attach(c)
            joined = await h.join(7001, display="pub")
            await vr_publish(h, pub)
            await h.core_event("webrtcup", 15)
            before_sub = await scrape()
            sh = await VrHandle.attach(c)
            await vr_subscribe(sh, sub, 7001, [{"feed": joined["id"]}])
            check(await sub.wait_counts(video=10, timeout=15), "the subscriber decodes nothing",
                  sub.counts())
            m = await scrape()
            for g, d in (("stoa_videoroom_rooms", 1), ("stoa_videoroom_participants", 1),
                         ("stoa_videoroom_publishers", 1), ("stoa_videoroom_subscribers", 1)):
                check(m.get(g) == base.get(g) + d, "%s: %s + %d" % (g, base.get(g), d), m.get(g))
            rose(before_sub, m, "stoa_plis_sent_total")
            rose(before_sub, m, "stoa_rtp_sent_packets_total", kind="video")
            check(m.get("stoa_peer_connections", state="ready") >= 2, "2 ready pcs",
                  m.get("stoa_peer_connections", state="ready"))
            await sub.close()
            await pub.close()
            await sh.detach()
            await h.detach()
            data = await admin.sync({"request": "destroy", "room": 7001})
            check(data.get("videoroom") == "destroyed", "destroy", data)
            m = await wait_metric(
                lambda m: all(m.get(g) == base.get(g) for g in (
                    "stoa_videoroom_rooms", "stoa_videoroom_participants",
                    "stoa_videoroom_publishers", "stoa_videoroom_subscribers")),
                5, "the VideoRoom gauges back where they were")
        finally:
            await sub.close()
            await pub.close()


if __name__ == "__main__":
    why = skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run(shared=Server(config=CONFIG, args=["-E", PEER_IP]))
