#!/usr/bin/env python3
"""janus.plugin.videoroom participant requests end to end (janus-api-compat.md
§8.2.3-8.2.5), with real aiortc peers wherever media is involved, and the
exact event and error shapes Janus gives:

  - notify_joining: the others get `joining`, a newcomer's `joined` lists
    `attendees` (participants that do not publish);
  - joinandconfigure: joined + the publish fields + the answer, in one step;
  - publisher `configure`: `display` (the others get {videoroom:event, id,
    display}), `descriptions` without an offer (the others get `publishers`
    again with the new description), `keyframe` (the publisher's aiortc gets
    a PLI, and a second request inside the one-second window is deferred,
    not dropped), per-stream `send` false/true (a subscriber stops and
    resumes receiving RTP on that stream only);
  - subscriber `pause` then `start` without a JSEP (RTP stops, resumes),
    `configure` send false/true, `unsubscribe` and `update` (the new offer's
    m-lines, and the streams left keep flowing);
  - require_pvtid (433 without or with a wrong private_id), a PIN on a
    subscriber join (429 / 433), require_e2ee (433 for a plain offer), a
    codec the room does not allow (430);
  - kick: every later request on the kicked handle (join again included)
    gets 433 "Unauthorized, you have been kicked", its pc is hung up, and in
    a require_pvtid room the subscriptions made with its private_id are cut
    (hangup, RTP stops, 433 after);
  - destroy: the publisher's and the subscriber's pcs are both hung up and
    the subscriber's RTP stops.

RTP is counted with aiortc's own per-SSRC receive statistics (media SSRCs
per m-line, not retransmissions: aiortc_peer.rtp_received). One shared server (-E 127.0.0.2: aioice
skips 127.0.0.1), one room per test.

Skipped (1..0) while the plugins folder has no VideoRoom plugin.
"""

import asyncio
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import JanusClient, Server, Tap, TestFailure, check, diag  # noqa: E402

from aiortc_peer import (  # noqa: E402
    PEER_IP, RoomPeer, VrHandle, inactive, rtp_received, rtx_ssrcs, sdp_sections, skip_reason,
    videoroom_missing, vr_data, vr_error, vr_publish, vr_start, vr_subscribe,
)

tap = Tap(timeout=60)

SETTLE = 0.7    # s for packets in flight to land after a change
WINDOW = 1.5    # s over which "flows" / "stopped" are judged
FLOWS = 15      # packets in WINDOW that count as flowing (video ~30/s, audio 50/s)
STOPPED = 2     # at most this many in WINDOW count as stopped


def rid():
    return random.randrange(10 ** 6, 2 ** 31)


async def session():
    c = await JanusClient("ws").open()
    await c.create_session()
    return c


async def create(h, **fields):
    room = fields.pop("room", rid())
    d = await h.sync(dict(fields, request="create", room=room, fir_freq=0))
    check(d.get("videoroom") == "created" and d.get("room") == room, "create", d)
    return room


async def async_error(h, body, code, jsep=None, text=None):
    data, ev_jsep = await h.async_(body, jsep)
    check(ev_jsep is None, "an error event with a JSEP", data, ev_jsep)
    vr_error(data, code, body.get("request"))
    if text is not None:
        check(data.get("error") == text, "error text", data)
    return data


def is_key(key):
    return lambda d: key in d


async def publisher(c, room, display="pub", body=None, **join):
    """A joined, publishing, webrtcup'd aiortc publisher: (handle, peer, id, configured)."""
    h = await VrHandle.attach(c)
    pid = (await h.join(room, display=display, **join))["id"]
    peer = RoomPeer(publish=True)
    cfg = await vr_publish(h, peer, body)
    await h.core_event("webrtcup", 15)
    return h, peer, pid, cfg


async def subscriber(c, room, streams, **fields):
    h = await VrHandle.attach(c)
    peer = RoomPeer()
    att = await vr_subscribe(h, peer, room, streams, **fields)
    await h.core_event("webrtcup", 15)
    return h, peer, att


async def rtp_in(peer):
    """{mid: RTP packets received on the media SSRCs} (aiortc_peer.rtp_received)."""
    rtx = rtx_ssrcs(peer.pc)
    return {t.mid: rtp_received(t, rtx) for t in peer.pc.getTransceivers() if t.mid is not None}


async def flow(peer, seconds=WINDOW):
    """{mid: packets received over the next `seconds`}."""
    a = await rtp_in(peer)
    await asyncio.sleep(seconds)
    b = await rtp_in(peer)
    return {m: b.get(m, 0) - a.get(m, 0) for m in b}


async def wait_flowing(peer, mids, timeout=15):
    deadline = time.monotonic() + timeout
    last = {}
    while time.monotonic() < deadline:
        last = await flow(peer, 1.0)
        if all(last.get(m, 0) >= FLOWS * 2 / 3 for m in mids):
            return last
    raise TestFailure("RTP does not flow on %s: %s" % (mids, last))


def mids_of(streams, kind=None):
    return [s["mid"] for s in streams if kind is None or s.get("type") == kind]


def video_sender(peer):
    return [t.sender for t in peer.pc.getTransceivers() if t.sender.track is not None and
            t.sender.track.kind == "video"][0]


async def close(peers, c):
    for p in peers:
        await p.close()
    await c.close()


class RoomTest:
    """One test's session, a handle and a fresh room made with `opts`; the
    peers put in .peers are closed, and the session with them, at exit."""

    def __init__(self, **opts):
        self.opts = opts
        self.peers = []

    async def __aenter__(self):
        self.c = await session()
        try:
            self.h = await VrHandle.attach(self.c)
            self.room = await create(self.h, **self.opts)
        except BaseException:
            await self.c.close()
            raise
        return self

    async def __aexit__(self, *exc):
        await close(self.peers, self.c)

    async def live_feed(self):
        """A publisher and one subscriber to all its streams, with RTP flowing:
        (publisher handle, publisher peer, feed id, configured, subscriber
        handle, subscriber peer, attached)."""
        ph, pub, pid, cfg = await publisher(self.c, self.room)
        sh, sp, att = await subscriber(self.c, self.room, [{"feed": pid}])
        self.peers += [pub, sp]
        await wait_flowing(sp, mids_of(att["streams"]))
        return ph, pub, pid, cfg, sh, sp, att


# ---------------------------------------------------------------- joining, joinandconfigure

@tap.test("notify_joining: the others get {videoroom:event, room, joining:{id, display}}; "
          "a newcomer's joined lists attendees [{id, display}] of those not publishing")
async def test_joining():
    async with RoomTest(notify_joining=True) as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        a = await VrHandle.attach(c)
        aj = await a.join(room, display="ann")
        check(aj.get("attendees") == [] and aj.get("publishers") == [], "first joined", aj)
        b = await VrHandle.attach(c)
        bj = await b.join(room, display="bob")
        check(bj.get("attendees") == [{"id": aj["id"], "display": "ann"}], "attendees", bj)
        ev = vr_data(await a.event(is_key("joining"), 5, "joining on ann"))
        check(ev == {"videoroom": "event", "room": room,
                     "joining": {"id": bj["id"], "display": "bob"}}, "joining event", ev)
        # Not in a room without notify_joining.
        plain = await create(h)
        x, y = await VrHandle.attach(c), await VrHandle.attach(c)
        xj = await x.join(plain)
        check("attendees" not in xj, "attendees without notify_joining", xj)
        await y.join(plain)
        await c.no_event(lambda m: m.get("sender") == x.id and "joining" in vr_data(m), 1.0)


@tap.test("joinandconfigure with an offer: joined with audio_codec, video_codec, streams and "
          "a JSEP answer; webrtcup; the others get publishers")
async def test_joinandconfigure():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        peer = RoomPeer(publish=True)
        peers.append(peer)
        obs = await VrHandle.attach(c)
        await obs.join(room)
        p = await VrHandle.attach(c)
        sdp = await peer.offer()
        d, jsep = await p.async_({"request": "joinandconfigure", "room": room,
                                  "ptype": "publisher", "display": "jc"},
                                 {"type": "offer", "sdp": sdp, "trickle": False}, 15)
        check(d.get("videoroom") == "joined" and d.get("room") == room and
              isinstance(d.get("id"), int) and isinstance(d.get("private_id"), int), "joined", d)
        check(d.get("audio_codec") == "opus" and d.get("video_codec") == "vp8", "codecs", d)
        check(sorted(s.get("type") for s in d.get("streams") or []) == ["audio", "video"],
              "streams", d)
        check(isinstance(jsep, dict) and jsep.get("type") == "answer", "answer", jsep)
        await peer.set_answer(jsep["sdp"])
        await p.core_event("webrtcup", 15)
        ev = vr_data(await obs.event(is_key("publishers"), 10, "publishers"))
        check([x.get("id") for x in ev["publishers"]] == [d["id"]], "publishers event", ev)


# ---------------------------------------------------------------- publisher configure

@tap.test("publisher configure: display -> the others get {videoroom:event, id, display}; "
          "descriptions without an offer -> configured ok and the others get publishers with "
          "the new description; a bad descriptions entry -> 429")
async def test_configure_display_descriptions():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        obs = await VrHandle.attach(c)
        await obs.join(room)
        ph, pub, pid, cfg = await publisher(c, room, display="before")
        peers.append(pub)
        await obs.event(is_key("publishers"), 10, "publishers")
        d, jsep = await ph.async_({"request": "configure", "display": "after"})
        check(d == {"videoroom": "event", "room": room, "configured": "ok"} and jsep is None,
              "configure reply", d, jsep)
        ev = vr_data(await obs.event(lambda x: x.get("display") == "after", 5, "display event"))
        check(ev == {"videoroom": "event", "id": pid, "display": "after"}, "display event", ev)

        vmid = mids_of(cfg["streams"], "video")[0]
        d, jsep = await ph.async_({"request": "configure", "descriptions": [
            {"mid": vmid, "description": "my camera"}]})
        check(d == {"videoroom": "event", "room": room, "configured": "ok"} and jsep is None,
              "configure (descriptions) reply", d, jsep)
        ev = vr_data(await obs.event(is_key("publishers"), 5,
                                     "publishers after a description change"))
        st = {s.get("mid"): s for s in ev["publishers"][0].get("streams") or []}
        check(ev["publishers"][0].get("id") == pid and
              st.get(vmid, {}).get("description") == "my camera", "re-announced", ev)
        await async_error(ph, {"request": "configure", "descriptions": [{"mid": vmid}]}, 429)
        await async_error(ph, {"request": "configure", "descriptions": ["x"]}, 430)


@tap.test("publisher configure keyframe:true: the publisher's aiortc gets a PLI; a second "
          "request 0.2 s later is sent when the one-second window ends, not dropped")
async def test_configure_keyframe():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg = await publisher(c, room)
        peers.append(pub)
        sender = video_sender(pub)
        plis = []
        orig = sender._send_keyframe

        def counted():
            plis.append(time.monotonic())
            orig()
        sender._send_keyframe = counted
        await asyncio.sleep(1.5)
        check(plis == [], "PLIs with nobody asking", plis)
        t0 = time.monotonic()
        for _ in range(2):
            d, _ = await ph.async_({"request": "configure", "keyframe": True})
            check(d.get("configured") == "ok", "configure keyframe", d)
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)
        diag("PLIs at %s s" % [round(t - t0, 2) for t in plis])
        check(len(plis) == 2, "expected 2 PLIs (the second deferred), got %d" % len(plis))
        check(plis[1] - plis[0] >= 0.9, "the second PLI came inside the window",
              plis[1] - plis[0])


@tap.test("publisher configure streams [{mid, send:false}] stops that stream at the "
          "subscriber (the other keeps flowing); send:true resumes it")
async def test_configure_send():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg, sh, sp, att = await t.live_feed()
        amid, vmid = mids_of(att["streams"], "audio")[0], mids_of(att["streams"], "video")[0]
        pvmid = mids_of(cfg["streams"], "video")[0]
        d, _ = await ph.async_({"request": "configure",
                                "streams": [{"mid": pvmid, "send": False}]})
        check(d.get("configured") == "ok", "configure send false", d)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(vmid, 0) <= STOPPED and f.get(amid, 0) >= FLOWS, "video stopped, audio not",
              f)
        d, _ = await ph.async_({"request": "configure",
                                "streams": [{"mid": pvmid, "send": True}]})
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(vmid, 0) >= FLOWS, "video resumed", f)
        await async_error(ph, {"request": "configure", "streams": [{"mid": "nope", "send": True}]},
                          428, text="No such mid 'nope' published")


# ---------------------------------------------------------------- subscriber requests

@tap.test("subscriber pause -> paused ok, RTP stops; start without a JSEP -> started ok, RTP "
          "resumes; configure send:false/true on one mid stops/resumes that m-line only")
async def test_pause_start_configure():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg, sh, sp, att = await t.live_feed()
        amid, vmid = mids_of(att["streams"], "audio")[0], mids_of(att["streams"], "video")[0]
        d, jsep = await sh.async_({"request": "pause"})
        check(d == {"videoroom": "event", "room": room, "paused": "ok"} and jsep is None,
              "pause", d)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(amid, 0) <= STOPPED and f.get(vmid, 0) <= STOPPED, "paused but flowing", f)
        d, jsep = await sh.async_({"request": "start"})
        check(d == {"videoroom": "event", "room": room, "started": "ok"} and jsep is None,
              "start without jsep", d)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(amid, 0) >= FLOWS and f.get(vmid, 0) >= FLOWS, "not resumed", f)

        d, _ = await sh.async_({"request": "configure", "streams": [{"mid": vmid, "send": False}]})
        check(d == {"videoroom": "event", "room": room, "configured": "ok"}, "configure", d)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(vmid, 0) <= STOPPED and f.get(amid, 0) >= FLOWS, "send:false on video", f)
        await sh.async_({"request": "configure", "streams": [{"mid": vmid, "send": True}]})
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(vmid, 0) >= FLOWS, "send:true on video", f)


@tap.test("unsubscribe -> updated with an offer whose m-line for that stream is inactive, "
          "the other keeps flowing; update {subscribe} -> updated with an offer that adds it "
          "back (an active m-line), and it flows again")
async def test_unsubscribe_update():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg, sh, sp, att = await t.live_feed()
        amid, vmid = mids_of(att["streams"], "audio")[0], mids_of(att["streams"], "video")[0]
        pvmid = mids_of(cfg["streams"], "video")[0]
        d, jsep = await sh.async_({"request": "unsubscribe",
                                   "streams": [{"feed": pid, "mid": pvmid}]})
        check(d.get("videoroom") == "updated" and d.get("room") == room, "updated", d)
        check(isinstance(jsep, dict) and jsep.get("type") == "offer", "offer", jsep)
        st = {s["mid"]: s for s in d.get("streams") or []}
        check(st[vmid].get("active") is False and st[amid].get("active") is True,
              "streams after unsubscribe", d)
        secs = sdp_sections(jsep["sdp"])
        check(inactive(secs[vmid]) and not inactive(secs[amid]), "m-lines after unsubscribe",
              jsep["sdp"])
        await vr_start(sh, sp, jsep)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(f.get(vmid, 0) <= STOPPED and f.get(amid, 0) >= FLOWS, "after unsubscribe", f)

        d, jsep = await sh.async_({"request": "update",
                                   "subscribe": [{"feed": pid, "mid": pvmid}]})
        check(d.get("videoroom") == "updated" and isinstance(jsep, dict) and
              jsep.get("type") == "offer", "update", d, jsep)
        video = [s for s in d.get("streams") or [] if s.get("type") == "video" and s.get("active")]
        check(len(video) == 1 and video[0].get("feed_id") == pid and
              video[0].get("feed_mid") == pvmid, "the video stream is back", d)
        secs = sdp_sections(jsep["sdp"])
        check(not inactive(secs[video[0]["mid"]]) and not inactive(secs[amid]),
              "m-lines after update", jsep["sdp"])
        await vr_start(sh, sp, jsep)
        await wait_flowing(sp, [amid, video[0]["mid"]])
        await async_error(sh, {"request": "update"}, 429)


# ---------------------------------------------------------------- access rules

@tap.test("require_pvtid: subscriber join without private_id or with a wrong one -> 433 "
          "(Janus's text); with a participant's private_id -> attached")
async def test_require_pvtid():
    async with RoomTest(require_pvtid=True) as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg = await publisher(c, room)
        peers.append(pub)
        o = await VrHandle.attach(c)
        pvt = (await o.join(room))["private_id"]
        s = await VrHandle.attach(c)
        text = "Unauthorized (this room requires a valid private_id)"
        body = {"request": "join", "room": room, "ptype": "subscriber", "streams": [{"feed": pid}]}
        await async_error(s, body, 433, text=text)
        await async_error(s, dict(body, private_id=pvt + 1), 433, text=text)
        d, jsep = await s.async_(dict(body, private_id=pvt))
        check(d.get("videoroom") == "attached" and jsep.get("type") == "offer", "attached", d)


@tap.test("pin: a subscriber join without it -> 429, wrong -> 433, right -> attached")
async def test_subscriber_pin():
    async with RoomTest(pin="1234") as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg = await publisher(c, room, pin="1234")
        peers.append(pub)
        s = await VrHandle.attach(c)
        body = {"request": "join", "room": room, "ptype": "subscriber", "streams": [{"feed": pid}]}
        await async_error(s, body, 429)
        await async_error(s, dict(body, pin="0000"), 433, text="Unauthorized (wrong pin)")
        d, jsep = await s.async_(dict(body, pin="1234"))
        check(d.get("videoroom") == "attached" and jsep.get("type") == "offer", "attached", d)


@tap.test("require_e2ee: publishing a plain offer -> 433; a codec the room does not allow "
          "(videocodec h264 in a vp8 room) -> 430 \"Video codec unavailable in this room\"")
async def test_e2ee_and_codec():
    async with RoomTest(require_e2ee=True) as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        p = await VrHandle.attach(c)
        await p.join(room)
        peer = RoomPeer(publish=True)
        peers.append(peer)
        offer = {"type": "offer", "sdp": await peer.offer(), "trickle": False}
        await async_error(p, {"request": "publish"}, 433, offer)
        room2 = await create(h, videocodec="vp8")
        q = await VrHandle.attach(c)
        await q.join(room2)
        await async_error(q, {"request": "publish", "videocodec": "h264"}, 430, offer,
                          text="Video codec unavailable in this room")
        await async_error(q, {"request": "publish", "audiocodec": "pcmu"}, 430, offer,
                          text="Audio codec unavailable in this room")


# ---------------------------------------------------------------- kick, destroy

KICKED = "Unauthorized, you have been kicked"


@tap.test("kick: the kicked publisher's pc is hung up; configure, publish, leave and join "
          "again on its handle -> 433 \"%s\"; in a require_pvtid room the subscription made "
          "with its private_id is hung up too, its RTP stops, and start -> 433" % KICKED)
async def test_kicked():
    async with RoomTest(require_pvtid=True, secret="s") as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        # The victim publishes and also subscribes (with its private_id) to
        # another publisher, as a janus.js client in a meeting does.
        other_h, other, other_id, _ = await publisher(c, room, display="other")
        vh = await VrHandle.attach(c)
        vj = await vh.join(room, display="victim")
        victim = RoomPeer(publish=True)
        await vr_publish(vh, victim)
        await vh.core_event("webrtcup", 15)
        sh, sp, att = await subscriber(c, room, [{"feed": other_id}],
                                       private_id=vj["private_id"])
        # A bystander's subscription (another private_id) must survive.
        bh = await VrHandle.attach(c)
        bpvt = (await bh.join(room))["private_id"]
        bsh, bsp, batt = await subscriber(c, room, [{"feed": other_id}], private_id=bpvt)
        peers += [other, victim, sp, bsp]
        await wait_flowing(sp, mids_of(att["streams"]))
        d = await h.sync({"request": "kick", "room": room, "secret": "s", "id": vj["id"]})
        check(d == {"videoroom": "success"}, "kick reply", d)
        await vh.core_event("hangup", 5)
        await sh.core_event("hangup", 5)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(all(n <= STOPPED for n in f.values()), "the kicked user's subscription flows", f)
        f = await flow(bsp)
        check(all(n >= FLOWS for n in f.values()), "a bystander's subscription stopped", f)
        again = RoomPeer(publish=True)
        peers.append(again)
        offer = {"type": "offer", "sdp": await again.offer(), "trickle": False}
        for body, jsep in (({"request": "configure", "bitrate": 1000}, None),
                           ({"request": "publish"}, offer),
                           ({"request": "join", "room": room, "ptype": "publisher"}, None),
                           ({"request": "leave"}, None)):
            await async_error(vh, body, 433, jsep, text=KICKED)
        await async_error(sh, {"request": "start"}, 433, text=KICKED)
        lp = await h.sync({"request": "listparticipants", "room": room})
        check(vj["id"] not in [p.get("id") for p in lp.get("participants") or []],
              "the kicked user is still listed", lp)


@tap.test("destroy: the publisher's and the subscriber's pcs are hung up, the subscriber's "
          "RTP stops, both handles got {videoroom:destroyed, room}")
async def test_destroy_closes_pcs():
    async with RoomTest() as t:
        c, h, room, peers = t.c, t.h, t.room, t.peers
        ph, pub, pid, cfg, sh, sp, att = await t.live_feed()
        d = await h.sync({"request": "destroy", "room": room})
        check(d.get("videoroom") == "destroyed", "destroy", d)
        for x in (ph, sh):
            ev = vr_data(await x.event(lambda e: e.get("videoroom") == "destroyed", 5,
                                       "destroyed"))
            check(ev == {"videoroom": "destroyed", "room": room}, "destroyed event", ev)
        await ph.core_event("hangup", 5)
        await sh.core_event("hangup", 5)
        await asyncio.sleep(SETTLE)
        f = await flow(sp)
        check(all(n <= STOPPED for n in f.values()), "the subscriber still receives", f)


if __name__ == "__main__":
    why = videoroom_missing() or skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run(shared=Server(args=["-E", PEER_IP]))
