#!/usr/bin/env python3
"""Real media through janus.plugin.videoroom (janus-api-compat.md §8.2,
the multistream API) with aiortc (Debian python3-aiortc) on both sides,
signalled by hand over the Janus WebSocket API.

One room, one call, checked from several angles (the first test makes the
call and records what it saw in MAIN, the tests after it check the
records; a call cannot span tests because each runs on its own event loop):

  - an "observer": a publisher-type participant that joins and never
    publishes, to see what the others are told;
  - a publisher: aiortc with its synthetic audio (Opus silence, 50 frames/s)
    and video (a blank 640x480 picture, VP8, ~30 frames/s, counted as they
    go to the encoder) and a data channel; `join` (ptype publisher), then
    `publish` with aiortc's offer (trickle:false);
  - 10 subscribers, each a participant the way a Janus client is one: a
    publisher-type handle that joins the room (display viewer-N) and does
    not publish, to get the room's events, and a subscriber handle with its
    own aiortc peer: `join` (ptype subscriber, streams [{feed}], the
    participant's private_id) -> `attached` with the server's offer ->
    aiortc's answer in `start`. Over a window, each subscriber's RTP packet
    counts (aiortc's per-SSRC receive statistics on the media SSRCs, audio
    and video apart: aiortc_peer.rtp_received)
    are compared with what the publisher sent in the same window (its
    outbound-rtp packetsSent): every subscriber must get at least 90% of
    them. Measured: 100% of the audio (200 packets) and of the video (120)
    on every subscriber, both in the plain build and under ASan+UBSan on 2
    shared cores; the 10% margin is for packets in flight at the window's
    edges and a busier machine, not for loss. The server's own counts
    (Admin API handle_info) are checked too. Each
    subscriber opens a data channel of its own, as janus.js does when it
    answers an offer with data (Janus forwards nothing to a subscriber that
    has no channel open yet); a message the publisher sends must reach
    every subscriber;
  - a second publisher whose video is 320x240, so that the source of a
    decoded picture can be told from its size, and one subscriber of both
    publishers on one PeerConnection (multistream): both videos decode.
    `switch` then points the m-line that carried the first publisher's
    video at the second one's: no renegotiation, and the frames decoded on
    that m-line turn 320x240;
  - that subscriber `leave`s (left:ok); then the publisher `leave`s: the
    observer and every one of the 10 participants' publisher-type handles
    are told `unpublished` and `leaving` for it (its PeerConnection goes
    away with it), and every subscriber handle gets `updated` (autoupdate)
    with an offer in which the publisher's m-lines are inactive, answered
    with `start`.

Network and aiortc workarounds as in test_echotest_aiortc.py: stoa runs with
-E 127.0.0.2 (aioice skips 127.0.0.1), publisher offers get unique extmap ids
(aiortc issue #745), data channel ids follow RFC 8832.

Skipped (1..0) while the plugins folder has no VideoRoom plugin.
"""

import asyncio
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import JanusClient, Server, Tap, TestFailure, check, diag, expect  # noqa: E402

from aiortc_peer import (  # noqa: E402
    PEER_IP, RoomPeer, VrHandle, inactive, media_stats, rtp_received, rtx_ssrcs, sdp_sections,
    skip_reason, videoroom_missing, vr_data, vr_publish, vr_start, vr_subscribe, within,
)

tap = Tap(timeout=30)

ROOM = 4242
SUBSCRIBERS = 10
WINDOW = 4.0          # seconds over which packet counts are compared
MIN_SHARE = 0.9       # of the publisher's RTP packets each subscriber must receive
SMALL = (320, 240)    # the second publisher's picture

MAIN = {}


def new_server():
    return Server(args=["-E", PEER_IP])


def is_data(key):
    return lambda d: key in d


async def handle_info(c, hid):
    async with JanusClient("http", admin=True) as a:
        r = await a.request("handle_info", session_id=c.session_id, handle_id=hid)
    return expect(r)["info"]


async def rtp_counts(peer, out):
    """RTP packets per kind: sent (out=True: aiortc's outbound-rtp
    packetsSent) or received on the media SSRCs (aiortc_peer.rtp_received)."""
    counts = {"audio": 0, "video": 0}
    rtx = rtx_ssrcs(peer.pc)
    for t in peer.pc.getTransceivers():
        if t.kind not in counts:
            continue
        if not out:
            counts[t.kind] += rtp_received(t, rtx)
            continue
        try:
            st = await t.sender.getStats()
        except Exception:  # noqa: B902 - a stopped transceiver has none
            continue
        for s in st.values():
            if getattr(s, "type", "") == "outbound-rtp":
                counts[t.kind] += s.packetsSent
    return counts


async def wait_all(peers, video, audio, timeout):
    ok = await asyncio.gather(*[p.wait_counts(video=video, audio=audio, timeout=timeout)
                                for p in peers])
    return all(ok)


async def send_until_received(pub, subs, prefix, seconds=8):
    """The publisher sends numbered messages every 0.2 s until every
    subscriber has one of them (or time runs out); returns what each got."""
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pub.dc.send("%s %d" % (prefix, n))
        n += 1
        await asyncio.sleep(0.2)
        if all(any(isinstance(m, str) and m.startswith(prefix) for m in p.received)
               for p in subs):
            break
    return [[m for m in p.received if isinstance(m, str) and m.startswith(prefix)]
            for p in subs]


@tap.test("the call: room, observer, publisher (audio+video+data), %d subscribers, a second "
          "publisher, a multistream subscriber with switch, then the publisher leaves"
          % SUBSCRIBERS, timeout=150)
async def test_call():
    srv = new_server()
    await srv.start()
    peers = []
    c = None
    try:
        c = await JanusClient("ws").open()
        await c.create_session()
        admin = await VrHandle.attach(c)
        d = await admin.sync({"request": "create", "room": ROOM, "publishers": 3})
        check(d.get("videoroom") == "created", "create", d)
        obs = await VrHandle.attach(c)
        MAIN["observer_joined"] = await obs.join(ROOM, display="observer")

        # The publisher.
        ph = await VrHandle.attach(c)
        pj = await ph.join(ROOM, display="alice")
        MAIN["joined"] = pj
        pid = pj["id"]
        pub = RoomPeer(publish=True, data=True, label="room-chat")
        peers.append(pub)
        MAIN["configured"] = await vr_publish(ph, pub)
        await ph.core_event("webrtcup")
        MAIN["up"] = True
        MAIN["announced"] = vr_data(await obs.event(is_data("publishers"), 10,
                                                    "publishers event on the observer"))

        # The subscribers: each a participant (a publisher-type handle
        # that joins and does not publish) with its subscriber handle.
        viewers = []
        for i in range(SUBSCRIBERS):
            vh = await VrHandle.attach(c)
            viewers.append((vh, await vh.join(ROOM, display="viewer-%d" % i)))
        MAIN["viewers_joined"] = [j for _, j in viewers]
        subs = []
        for _ in range(SUBSCRIBERS):
            subs.append((await VrHandle.attach(c), RoomPeer(data=True, label="sub-chat")))
        peers += [p for _, p in subs]
        MAIN["attached"] = await asyncio.gather(*[
            vr_subscribe(h, p, ROOM, [{"feed": pid}], private_id=j["private_id"])
            for (h, p), (_, j) in zip(subs, viewers)])
        for h, _ in subs:
            await h.core_event("webrtcup", 15)
        MAIN["subs_up"] = True
        # Until every subscriber decodes (its first keyframe); the rate
        # tests judge what follows, so the call goes on either way.
        warm = await wait_all([p for _, p in subs], 5, 5, 15)
        MAIN["warm"] = {"ok": warm, "counts": [p.counts() for _, p in subs]}

        # RTP packets over a window: what the publisher sent, what each
        # subscriber received (sampled together at both edges).
        async def sample():
            return await asyncio.gather(rtp_counts(pub, True),
                                        *[rtp_counts(p, False) for _, p in subs])
        s0 = await sample()
        t0 = time.monotonic()
        await asyncio.sleep(WINDOW)
        s1 = await sample()
        took = time.monotonic() - t0
        MAIN["window"] = {
            "seconds": round(took, 2),
            "sent": {k: s1[0][k] - s0[0][k] for k in s1[0]},
            "got": [{k: g1[k] - g0[k] for k in g1} for g0, g1 in zip(s0[1:], s1[1:])],
            "sizes": [p.tracks.get(str(a_vmid(a)), {}).get("sizes")
                      for (_, p), a in zip(subs, MAIN["attached"])],
        }

        # The server's counts.
        MAIN["info_pub"] = media_stats(await handle_info(c, ph.id))
        MAIN["info_subs"] = [media_stats(await handle_info(c, h.id)) for h, _ in subs]

        # Data.
        try:
            await within(pub.dc_open.wait(), 10, "the publisher's data channel opening")
            for _, p in subs:
                await within(p.dc_open.wait(), 10, "a subscriber's data channel opening")
            MAIN["data"] = await send_until_received(pub, [p for _, p in subs], "from alice")
        except TestFailure as e:
            MAIN["data"] = str(e)

        # A second publisher, and a subscriber of both.
        p2h = await VrHandle.attach(c)
        p2id = (await p2h.join(ROOM, display="bob"))["id"]
        pub2 = RoomPeer(publish=True, size=SMALL)
        peers.append(pub2)
        cfg2 = await vr_publish(p2h, pub2)
        await p2h.core_event("webrtcup")
        MAIN["announced2"] = vr_data(await obs.event(is_data("publishers"), 10,
                                                     "publishers event for bob"))
        mh, mp = await VrHandle.attach(c), RoomPeer()
        peers.append(mp)
        multi = await vr_subscribe(mh, mp, ROOM, [{"feed": pid}, {"feed": p2id}])
        await mh.core_event("webrtcup", 15)
        MAIN["multi_attached"] = multi
        vmid = {s.get("feed_id"): s.get("mid") for s in multi.get("streams") or []
                if s.get("type") == "video"}
        MAIN["multi_vmid"] = vmid
        ok = False
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not ok:
            t = mp.tracks
            ok = all(t.get(vmid.get(f), {}).get("frames", 0) >= 10 for f in (pid, p2id))
            await asyncio.sleep(0.1)
        MAIN["multi"] = {"ok": ok, "tracks": json.loads(json.dumps(mp.tracks))}

        # switch alice's video m-line over to bob's video.
        bob_vmid = [s.get("mid") for s in cfg2.get("streams") or [] if s.get("type") == "video"]
        sub_mid = vmid.get(pid)
        check(bob_vmid and sub_mid is not None, "video mids for the switch", cfg2, multi)
        before = dict(mp.tracks.get(sub_mid, {}).get("sizes") or {})
        sw, sw_jsep = await mh.async_({"request": "switch", "streams": [
            {"feed": p2id, "mid": bob_vmid[0], "sub_mid": sub_mid}]})
        small = "%dx%d" % SMALL
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = mp.tracks.get(sub_mid, {}).get("sizes") or {}
            if now.get(small, 0) - before.get(small, 0) >= 30:
                break
            await asyncio.sleep(0.1)
        after = dict(mp.tracks.get(sub_mid, {}).get("sizes") or {})
        f0 = mp.tracks.get(sub_mid, {}).get("frames", 0)
        await asyncio.sleep(1)
        renegotiations = [m for m in mh.queued() if m.get("jsep") or
                          vr_data(m).get("videoroom") in ("updated", "updating")]
        MAIN["switch"] = {"reply": sw, "jsep": sw_jsep, "before": before, "after": after,
                          "sub_mid": sub_mid, "more": mp.tracks.get(sub_mid, {}).get("frames", 0)
                          - f0, "renegotiations": renegotiations}

        # The multistream subscriber leaves.
        d, _ = await mh.async_({"request": "leave"})
        MAIN["left"] = d
        await mp.close()

        # The publisher leaves.
        lv, _ = await ph.async_({"request": "leave"})
        MAIN["leave"] = lv
        seen = {"leaving": None, "unpublished": None}
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and None in seen.values():
            try:
                ev = vr_data(await obs.event(lambda x: "leaving" in x or "unpublished" in x, 0.5))
            except TestFailure:
                continue
            for k in seen:
                if k in ev and seen[k] is None:
                    seen[k] = ev
        MAIN["observer_told"] = seen

        async def told(vh):
            got = {"leaving": None, "unpublished": None}
            for k in got:
                try:
                    got[k] = vr_data(await vh.event(
                        lambda x, k=k: x.get(k) == pid, 10, "%s on a viewer" % k))
                except TestFailure:
                    pass
            return got
        MAIN["viewers_told"] = await asyncio.gather(*[told(vh) for vh, _ in viewers])

        async def updated(h, p):
            try:
                ev = await h.event(lambda x: x.get("videoroom") == "updated", 10, "updated")
            except TestFailure as e:
                return {"error": str(e)}
            out = {"data": vr_data(ev), "jsep": ev.get("jsep")}
            try:
                if (ev.get("jsep") or {}).get("type") == "offer":
                    out["started"] = await vr_start(h, p, ev["jsep"])
            except TestFailure as e:
                out["start_error"] = str(e)
            return out
        MAIN["updated"] = await asyncio.gather(*[updated(h, p) for h, p in subs])
        MAIN["pid"] = pid
        MAIN["participants"] = await admin.sync({"request": "listparticipants", "room": ROOM})
    except BaseException:
        # The test's own failure comes first; a server that died or does
        # not stop cleanly is reported by test_stopped.
        await close_all(peers, c)
        await stop(srv, quiet=True)
        raise
    await close_all(peers, c)
    await stop(srv)


async def close_all(peers, c):
    for p in peers:
        await p.close()
    if c is not None:
        await c.close()


async def stop(srv, quiet=False):
    died = srv.proc.poll()
    try:
        await srv.stop()
        MAIN["stopped"] = True if died is None else \
            "the server had died during the call (exit status %s)" % died
    except TestFailure as e:
        MAIN["stopped"] = str(e)
        if not quiet:
            raise


def a_vmid(attached):
    for s in attached.get("streams") or []:
        if s.get("type") == "video":
            return s.get("mid")
    return None


def need(key):
    check(MAIN.get("up"), "the publisher never came up (see the first test)")
    check(key in MAIN, "the call test did not get as far as this check")
    return MAIN[key]


@tap.test("publish: configured ok with audio (opus), video (vp8) and data streams; the "
          "observer gets a publishers event listing them")
def test_published():
    cfg = need("configured")
    types = {s.get("type"): s for s in cfg.get("streams") or []}
    check(set(types) == {"audio", "video", "data"}, "configured streams", cfg)
    check(types["audio"].get("codec") == "opus" and types["video"].get("codec") == "vp8",
          "codecs", cfg)
    check(all(isinstance(s.get("mid"), str) and isinstance(s.get("mindex"), int)
              for s in types.values()), "stream mid/mindex", cfg)
    joined = need("joined")
    check(joined.get("room") == ROOM and isinstance(joined.get("private_id"), int) and
          joined.get("publishers") == [], "joined", joined)
    ev = need("announced")
    pubs = ev.get("publishers") or []
    check(ev.get("room") == ROOM and len(pubs) == 1 and pubs[0].get("id") == joined["id"] and
          pubs[0].get("display") == "alice", "publishers event", ev)
    check({s.get("type") for s in pubs[0].get("streams") or []} == {"audio", "video", "data"},
          "publishers event streams", ev)


@tap.test("%d subscribers: attached with the feed's audio, video and data streams and an "
          "offer; start -> started; webrtcup" % SUBSCRIBERS)
def test_attached():
    atts = need("attached")
    pid = need("joined")["id"]
    check(len(atts) == SUBSCRIBERS, "attached replies", atts)
    for a in atts:
        check(a.get("videoroom") == "attached" and a.get("room") == ROOM, "attached", a)
        st = a.get("streams") or []
        check(sorted(s.get("type") for s in st) == ["audio", "data", "video"], "streams", a)
        for s in st:
            check(s.get("mid") == str(s.get("mindex")), "subscriber mids are the mindex", s)
            if s.get("type") != "data":
                check(s.get("feed_id") == pid and s.get("active") is True, "stream feed", s)
    check(MAIN.get("subs_up"), "not every subscriber got webrtcup")


def rate_check(kind, least):
    w = need("window")
    sent = w["sent"][kind]
    got = [g[kind] for g in w["got"]]
    diag("publisher sent %d %s RTP packets in %.1f s; subscribers received %s (%s%%)"
         % (sent, kind, w["seconds"], got,
            " ".join("%.0f" % (100.0 * g / sent) for g in got) if sent else "-"))
    check(sent >= least, "the publisher itself sent only %d %s packets" % (sent, kind), w)
    low = [(i, g) for i, g in enumerate(got) if g < MIN_SHARE * sent]
    check(not low, "subscribers below %d%%: %s" % (MIN_SHARE * 100, low), w)


@tap.test("every subscriber receives >= %d%% of the video RTP packets the publisher sent "
          "over %.0f s, and decodes 640x480" % (MIN_SHARE * 100, WINDOW))
def test_video_rate():
    check(need("warm")["ok"], "not every subscriber decoded audio and video within 15 s",
          MAIN["warm"])
    rate_check("video", WINDOW * 15)
    w = MAIN["window"]
    check(all(s and set(s) == {"640x480"} for s in w["sizes"]), "decoded sizes", w["sizes"])


@tap.test("every subscriber receives >= %d%% of the audio RTP packets the publisher sent"
          % (MIN_SHARE * 100))
def test_audio_rate():
    rate_check("audio", WINDOW * 25)


@tap.test("Admin API handle_info: the publisher's audio/video in packets, every "
          "subscriber's audio/video out packets > 0")
def test_admin_counts():
    pub = need("info_pub")
    for kind in ("audio", "video"):
        check(((pub.get(kind) or {}).get("in") or {}).get("packets", 0) > 0,
              "publisher %s in packets" % kind, pub)
    for i, st in enumerate(need("info_subs")):
        for kind in ("audio", "video"):
            check(((st.get(kind) or {}).get("out") or {}).get("packets", 0) > 0,
                  "subscriber %d %s out packets" % (i, kind), st)


@tap.test("data: a message on the publisher's data channel reaches every subscriber")
def test_data():
    d = need("data")
    check(not isinstance(d, str), d)
    missing = [i for i, got in enumerate(d) if not got]
    check(not missing, "subscribers that got no message: %s" % missing, d)


@tap.test("multistream: one subscriber of both publishers (one PeerConnection) decodes "
          "both videos (640x480 from alice, %dx%d from bob)" % SMALL)
def test_multistream():
    a = need("multi_attached")
    feeds = [s.get("feed_id") for s in a.get("streams") or [] if s.get("type") != "data"]
    check(len(feeds) == 4 and len(set(feeds)) == 2, "attached streams of two feeds", a)
    m = need("multi")
    vmid = MAIN["multi_vmid"]
    pid = MAIN["joined"]["id"]
    check(m["ok"], "not both videos decode", m, vmid)
    sizes = {f: set((m["tracks"].get(mid) or {}).get("sizes") or {}) for f, mid in vmid.items()}
    check(sizes.get(pid) == {"640x480"} and {"%dx%d" % SMALL} in sizes.values(),
          "sizes per feed", sizes)


@tap.test("switch: switched ok (changes 1) with no renegotiation; the switched m-line keeps "
          "decoding, now bob's %dx%d picture" % SMALL)
def test_switch():
    s = need("switch")
    r = s["reply"]
    check(r.get("switched") == "ok" and r.get("room") == ROOM and r.get("changes") == 1,
          "switch reply", r)
    entry = [x for x in r.get("streams") or [] if x.get("mid") == s["sub_mid"]]
    check(entry and entry[0].get("feed_display") == "bob", "switched stream entry", r)
    check(s["jsep"] is None and not s["renegotiations"], "switch renegotiated",
          s["jsep"], s["renegotiations"])
    small = "%dx%d" % SMALL
    gained = s["after"].get(small, 0) - s["before"].get(small, 0)
    check(gained >= 30, "only %d %s frames on the switched m-line" % (gained, small), s)
    check(s["more"] > 10, "frames stopped after the switch", s)


@tap.test("subscriber leave: left ok")
def test_sub_leave():
    d = need("left")
    check(d.get("left") == "ok" and d.get("room") == ROOM, "leave reply", d)


@tap.test("publisher leave: leaving ok; the observer gets leaving:<id>")
def test_leave():
    lv = need("leave")
    check(lv.get("leaving") == "ok" and lv.get("room") == ROOM, "leave reply", lv)
    ev = need("observer_told")["leaving"]
    check(ev is not None and ev.get("leaving") == MAIN["pid"] and ev.get("room") == ROOM,
          "leaving event on the observer", MAIN["observer_told"])
    ids = [p.get("id") for p in (need("participants").get("participants") or [])]
    check(MAIN["pid"] not in ids, "the publisher is still listed", ids)


@tap.test("publisher leave: the observer gets unpublished:<id> (its PeerConnection went away)")
def test_leave_unpublished():
    ev = need("observer_told")["unpublished"]
    check(ev is not None and ev.get("unpublished") == MAIN["pid"] and ev.get("room") == ROOM,
          "unpublished event on the observer", MAIN["observer_told"])


@tap.test("publisher leave: each of the %d participants' publisher-type handles gets "
          "unpublished:<id> and leaving:<id>" % SUBSCRIBERS)
def test_leave_viewers():
    told = need("viewers_told")
    pid = MAIN["pid"]
    check(len(told) == SUBSCRIBERS, "viewers", told)
    for i, t in enumerate(told):
        for k in ("unpublished", "leaving"):
            ev = t.get(k)
            check(ev is not None and ev.get(k) == pid and ev.get("room") == ROOM and
                  ev.get("videoroom") == "event" and ev.get("display") == "alice",
                  "viewer %d: %s event" % (i, k), t)


@tap.test("publisher leave: every subscriber gets updated with an offer whose audio/video "
          "m-lines are inactive; start with the answer -> started")
def test_leave_updated():
    ups = need("updated")
    for i, u in enumerate(ups):
        check("error" not in u, "subscriber %d: %s" % (i, u.get("error")))
        d, jsep = u["data"], u["jsep"] or {}
        check(d.get("room") == ROOM and jsep.get("type") == "offer", "updated + offer", d, jsep)
        live = [s for s in d.get("streams") or [] if s.get("type") in ("audio", "video") and
                s.get("active") is not False]
        check(not live, "subscriber %d: streams still active" % i, d)
        secs = sdp_sections(jsep.get("sdp") or "")
        media = [mid for mid, sec in secs.items() if sec.startswith(("m=audio", "m=video"))]
        check(media and all(inactive(secs[mid]) for mid in media),
              "subscriber %d: audio/video m-lines not inactive" % i, jsep.get("sdp"))
        check((u.get("started") or {}).get("started") == "ok",
              "subscriber %d: start after updated" % i, u)


@tap.test("the server exits 0 on SIGINT with no sanitizer report")
def test_stopped():
    check("stopped" in MAIN, "the call test did not stop the server")
    check(MAIN["stopped"] is True, MAIN["stopped"])


if __name__ == "__main__":
    why = videoroom_missing() or skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run()
