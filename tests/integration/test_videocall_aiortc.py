#!/usr/bin/env python3
"""janus.plugin.videocall (janus-api-compat.md §8.3) with aiortc (Debian
python3-aiortc) on both ends of real calls, signalled by hand over the
Janus WebSocket API.

The first test runs the request errors on a server of its own (no media
but one ringing call), as Janus's janus_videocall.c sends them: before
`register` only `call` (and Stoa's `presence`) get 473, `accept` gets 481
and `set` and `hangup` succeed; a taken name (476), registering twice (477,
checked before the fields), an unknown name (478), calling yourself (479),
calling while in a call (480), accepting with no call (481), a hangup with
no call (not an error: "Explicit hangup"), a call or an accept without an
SDP (482), unknown and malformed requests (472/475/474), a ringing call hung
up by the caller with a reason that is not a string (ignored); then SIGINT
while another call rings.

The second test makes the calls and records what it saw in CALL; the tests
after it check the records (a call cannot span tests: each runs on its own
event loop). Users, one handle each on one WebSocket session:
  - eve registers with "presence": true and only watches;
  - alice and bob register and see each other in `list`;
  - alice calls bob: `calling`, bob gets `incomingcall` with the server's
    offer, answers it with `accept`, alice gets `accepted` with the
    server's answer. Both aiortc peers send synthetic audio (Opus, 50
    frames/s) and video (VP8, 640x480, ~30 frames/s, counted as they go to
    the encoder) and open a data channel; each must decode the other's video
    and audio at more than half the rate sent, and data must flow both ways;
  - alice's `set` video:false stops her video at bob (audio goes on),
    video:true brings it back (the server waits for a keyframe and asks
    alice for one);
  - alice renegotiates (`set` with a new offer): bob gets `update` with a
    server offer, answers with `set`, alice gets `update` with the answer;
    media keeps flowing;
  - carol calls bob during the call: she gets hangup "User busy" and the
    call goes on undisturbed;
  - bob hangs up with a reason: alice gets it, both PeerConnections close;
  - alice calls again, bob declines (hangup "Declined"): alice gets that;
  - alice calls again, bob accepts, then bob's aiortc vanishes without a
    hangup (its pc stops: DTLS close_notify, or the consent check, 3 s
    here, notices): alice gets hangup "Remote WebRTC hangup" and her
    PeerConnection is closed; then bob calls alice and media flows;
  - alice's network then goes silent (NetFilter blackhole): the consent
    check ends her pc and bob gets "Remote WebRTC hangup";
  - eve was told about every registration, the calls starting and ending,
    and dave's detach (presence);
  - carol's handle is detached in the middle of a call with alice: alice
    gets hangup "Remote WebRTC hangup";
  - the server is stopped while alice and eve are in a call (and, in the
    first test, while a call rings): it must exit 0 on SIGINT with no
    sanitizer report.

Two more tests run on servers of their own:
  - test_settings: bob's PLIs (aiortc's receiver, as when its decoder lost
    the picture) reach alice's video sender (watched where aiortc hands it
    RTCP); `set` bitrate reaches her sender as REMB at once and every
    second, bitrate 0 as Janus's 10 Mbit/s "no limit"; then alice mutes,
    caps, hangs up, and in the next call bob decodes her audio and no cap
    reaches her (Janus resets these controls at every hangup);
  - test_caller_gone: the caller's pc drops mid-call, and the caller's
    session closes while the call rings: the callee gets "Remote WebRTC
    hangup" and its pc closed; the name is freed; both call each other
    again with media.

Network and aiortc workarounds as in test_echotest_aiortc.py: stoa runs with
-E 127.0.0.2 (aioice skips 127.0.0.1), aiortc's offers get unique extmap ids
(aiortc issue #745), data channel ids follow RFC 8832.

Skipped (1..0) while the plugins folder has no VideoCall plugin.
"""

import asyncio
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import JanusClient, Server, Tap, TestFailure, check, diag  # noqa: E402

from aiortc_peer import (  # noqa: E402
    PEER_IP, NetFilter, RoomPeer, VcHandle, media_stats, send_pli, skip_reason, videocall_missing,
    watch_sender_rtcp, within,
)

tap = Tap(timeout=30)

CONSENT_TIMEOUT = 3
CONFIG = "nat: {\n\tconsent_timeout = %d\n}\n" % CONSENT_TIMEOUT
WINDOW = 3.0          # seconds over which frame rates are compared
MIN_SHARE = 0.5       # of the frames sent that the peer must decode
LABEL = "stoa-call"

CALL = {}


def new_server():
    return Server(config=CONFIG, args=["-E", PEER_IP])


def offer_jsep(sdp):
    return {"type": "offer", "sdp": sdp, "trickle": False}


def answer_jsep(sdp):
    return {"type": "answer", "sdp": sdp, "trickle": False}


def new_peer():
    return RoomPeer(publish=True, data=True, label=LABEL)


async def register(h, name, **fields):
    res, _ = await h.ok(dict(fields, request="register", username=name), "registered")
    check(res.get("username") == name, "registered: username", res)
    return res


async def call(caller, cpeer, callee, epeer, callee_name):
    """caller calls callee_name with cpeer's offer; the callee answers with
    epeer and accepts. Returns what each side was told."""
    out = {}
    sdp = await cpeer.offer()
    out["calling"], jsep = await caller.ok({"request": "call", "username": callee_name},
                                           "calling", offer_jsep(sdp))
    check(jsep is None, "calling carries no JSEP", jsep)
    out["incoming"], ijsep, msg = await callee.result_event("incomingcall", 15)
    out["incoming_tr"] = msg.get("transaction")
    check(isinstance(ijsep, dict) and ijsep.get("type") == "offer" and ijsep.get("sdp"),
          "incomingcall without a JSEP offer", out["incoming"], ijsep)
    out["offer_sdp"] = ijsep["sdp"]
    answer = await epeer.answer(ijsep["sdp"])
    out["accepted_callee"], ajsep = await callee.ok({"request": "accept"}, "accepted",
                                                    answer_jsep(answer), 15)
    check(ajsep is None, "the callee's accepted carries no JSEP", ajsep)
    out["accepted_caller"], cjsep, _ = await caller.result_event("accepted", 15)
    check(isinstance(cjsep, dict) and cjsep.get("type") == "answer" and cjsep.get("sdp"),
          "the caller's accepted without a JSEP answer", out["accepted_caller"], cjsep)
    out["answer_sdp"] = cjsep["sdp"]
    await cpeer.set_answer(cjsep["sdp"])
    await caller.core_event("webrtcup", 15)
    await callee.core_event("webrtcup", 15)
    return out


async def warm(peers, video=5, audio=5, timeout=15):
    ok = await asyncio.gather(*[p.wait_counts(video=video, audio=audio, timeout=timeout)
                                for p in peers])
    return all(ok)


async def rates(a, b, seconds=WINDOW):
    """Frames each peer sent and the other decoded over a window."""
    s0, r0 = (a.sent(), b.sent()), (b.counts(), a.counts())
    await asyncio.sleep(seconds)
    s1, r1 = (a.sent(), b.sent()), (b.counts(), a.counts())
    out = {}
    for i, name in enumerate(("a_to_b", "b_to_a")):
        out[name] = {k: {"sent": s1[i][k] - s0[i][k], "got": r1[i][k] - r0[i][k]}
                     for k in ("audio", "video")}
    return out


async def data_both_ways(a, b, seconds=8):
    """Each side sends numbered messages until the other has one."""
    def got(p, prefix):
        return [m for m in p.received if isinstance(m, str) and m.startswith(prefix)]

    await within(a.dc_open.wait(), 10, "the caller's data channel opening")
    await within(b.dc_open.wait(), 10, "the callee's data channel opening")
    n = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        a.dc.send("from alice %d" % n)
        b.dc.send("from bob %d" % n)
        n += 1
        await asyncio.sleep(0.2)
        if got(b, "from alice") and got(a, "from bob"):
            break
    return {"bob_got": got(b, "from alice"), "alice_got": got(a, "from bob")}


async def video_frames_during(peer, seconds):
    v0 = peer.counts()["video"]
    await asyncio.sleep(seconds)
    return peer.counts()["video"] - v0


@tap.test("request errors as Janus sends them: 473 (call only), 481 for accept, set and hangup "
          "working before register; 476, 477, 478, 479, 480, 481, 482, 472, 475, 474; hangup "
          "with no call succeeds; list; a ringing call hung up by the caller", timeout=60)
async def test_errors():
    srv = new_server()
    await srv.start()
    peer = None
    c = None
    try:
        c = await JanusClient("ws").open()
        await c.create_session()
        a, b, x = [await VcHandle.attach(c) for _ in range(3)]
        data, _ = await a.request({"request": "list"})
        check(data.get("videocall") == "event" and data.get("result") == {"list": []},
              "list before anyone registered", data)
        # Before register, as in Janus: only `call` needs a name (and Stoa's
        # `presence`); `accept` has no call (481), `set` and `hangup` work.
        for body in ({"request": "call", "username": "bob"},
                     {"request": "presence", "enable": True}):
            await a.error(body, 473)
        await a.error({"request": "accept"}, 481)
        res, _ = await a.ok({"request": "set", "video": False}, "set")
        check(res == {"event": "set"}, "set before register", res)
        res, _ = await a.ok({"request": "hangup"}, "hangup")
        check(res == {"event": "hangup", "reason": "Explicit hangup"},
              "a hangup before register (no username)", res)
        await a.error({"request": "register"}, 475)
        await a.error({"request": "register", "username": 7}, 474)
        await register(a, "alice")
        e = await b.error({"request": "register", "username": "alice"}, 476)
        check(e["error"] == "Username 'alice' already taken", "476 text", e)
        await a.error({"request": "register", "username": "alice2"}, 477)
        await a.error({"request": "register"}, 477)   # Janus: 477 before the fields
        await register(b, "bob")
        await register(x, "xavier")
        for h, me in ((a, "alice"), (b, "bob")):
            data, _ = await h.request({"request": "list"})
            names = (data.get("result") or {}).get("list")
            check(names == ["alice", "bob", "xavier"], "%s's list" % me, data)
        await a.error({"request": "call", "username": "nobody"}, 478)
        await a.error({"request": "call", "username": "alice"}, 479)
        await a.error({"request": "call", "username": "bob"}, 482)
        await b.error({"request": "accept"}, 481)
        res, _ = await b.ok({"request": "hangup"}, "hangup")
        check(res == {"event": "hangup", "username": "bob", "reason": "Explicit hangup"},
              "a hangup with no call succeeds, as in Janus", res)
        await a.error({"request": "dance"}, 472)
        await a.error({"reques": "list"}, 475)
        await a.error({"request": 5}, 474)
        await a.error({"request": "set", "substream": 3}, 474)
        # Case does not matter in request names, as in Janus.
        data, _ = await a.request({"request": "LIST"})
        check("list" in (data.get("result") or {}), "LIST", data)

        # A ringing call: 480 for a second call, then the caller hangs up.
        peer = new_peer()
        sdp = await peer.offer()
        await a.ok({"request": "call", "username": "bob"}, "calling", offer_jsep(sdp))
        inc, jsep, _ = await b.result_event("incomingcall", 15)
        check(inc.get("username") == "alice" and (jsep or {}).get("type") == "offer",
              "incomingcall", inc, jsep)
        await a.error({"request": "call", "username": "xavier"}, 480)
        await b.error({"request": "accept"}, 482)
        res, _ = await x.ok({"request": "call", "username": "bob"}, "hangup")
        check(res.get("username") == "xavier" and res.get("reason") == "User busy",
              "a ringing callee is busy", res)
        # A reason that is not a string is ignored (Janus logs it, no 474).
        res, _ = await a.ok({"request": "hangup", "reason": 1}, "hangup")
        check(res == {"event": "hangup", "username": "alice", "reason": "Explicit hangup"},
              "the caller's hangup result", res)
        res, _, msg = await b.result_event("hangup")
        check(res == {"event": "hangup", "username": "alice", "reason": "We did the hangup"} and
              "transaction" not in msg, "the callee is told (unsolicited)", res, msg)
        await a.core_event("hangup")
        await b.core_event("hangup")
        await b.error({"request": "accept"}, 481)
        res, _ = await a.ok({"request": "hangup"}, "hangup")
        check(res.get("reason") == "Explicit hangup", "a second hangup", res)
        # x calls b and the server stops while it rings.
        await peer.close()
        peer = new_peer()
        sdp = await peer.offer()
        await x.ok({"request": "call", "username": "bob"}, "calling", offer_jsep(sdp))
        await b.result_event("incomingcall", 15)
        # SIGINT with the call ringing and the clients still connected.
        await srv.stop()
    finally:
        srv.kill()
        if peer is not None:
            await peer.close()
        if c is not None:
            await c.close()


async def hangup_reason(h):
    """The reason of the handle's next core hangup event (its pc closed)."""
    ev = await h.core_event("hangup", 10)
    return ev.get("reason")


@tap.test("the calls: register, list, call/accept with media both ways, set video off/on, "
          "renegotiation, busy, hangup with a reason, decline, a callee that vanishes, a call "
          "back, presence", timeout=120)
async def test_calls():
    srv = new_server()
    await srv.start()
    peers = []
    c = None
    try:
        c = await JanusClient("ws").open()
        await c.create_session()
        eve, alice, bob, carol, dave = [await VcHandle.attach(c) for _ in range(5)]
        CALL["eve_registered"] = await register(eve, "eve", presence=True)
        CALL["eve_first"], _, _ = await eve.result_event("presence", 5, joined="eve")
        await register(alice, "alice")
        CALL["eve_alice"], _, _ = await eve.result_event("presence", 5, joined="alice")
        await register(bob, "bob")
        CALL["eve_bob"], _, _ = await eve.result_event("presence", 5, joined="bob")
        CALL["lists"] = [(await h.request({"request": "list"}))[0] for h in (alice, bob)]

        # The call.
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        CALL["call"] = await call(alice, pa, bob, pb, "bob")
        CALL["up"] = True
        CALL["eve_busy"], _, _ = await eve.event(
            lambda r: r.get("event") == "presence" and r.get("busy") == ["alice", "bob"], 5,
            "presence with alice and bob busy")
        CALL["warm"] = {"ok": await warm([pa, pb]), "alice": pa.counts(), "bob": pb.counts()}
        CALL["rates"] = await rates(pa, pb)
        CALL["info"] = [await handle_info(c, h.id) for h in (alice, bob)]
        try:
            CALL["data"] = await data_both_ways(pa, pb)
        except TestFailure as e:
            CALL["data"] = str(e)

        # 5% loss on bob's downlink: bob NACKs alice's video, the server
        # answers from what it sent bob (one receiver: the core keeps it).
        net = NetFilter(seed=5)
        net.attach(pb.pc)
        net.loss = 0.05
        v0 = pb.counts()["video"]
        await asyncio.sleep(4)
        net.loss = 0
        # Frames over the lossy 4 s and the 2 s after: a keyframe lost for
        # good stalls aiortc's decoder until its PLI brings a new one, which
        # under CI load (two tests on two cores) can take most of the window.
        await asyncio.sleep(2)
        out = (media_stats(await handle_info(c, bob.id)).get("video") or {}).get("out") or {}
        CALL["loss"] = {"dropped": dict(net.dropped), "out": out,
                        "frames": pb.counts()["video"] - v0}

        # set video:false, then video:true.
        res, jsep = await alice.ok({"request": "set", "video": False}, "set")
        await asyncio.sleep(0.5)
        a0 = pb.counts()["audio"]
        off = await video_frames_during(pb, 1.5)
        audio_off = pb.counts()["audio"] - a0
        await alice.ok({"request": "set", "video": True}, "set")
        back = await pb.wait_counts(video=pb.counts()["video"] + 15, timeout=8)
        CALL["video_off"] = {"result": res, "jsep": jsep, "video_while_off": off,
                             "audio_while_off": audio_off, "resumed": back}

        # Renegotiation: alice offers again.
        try:
            sdp = await pa.offer()
            res, jsep = await alice.ok({"request": "set"}, "set", offer_jsep(sdp))
            up, ujsep, _ = await bob.result_event("update", 15)
            check((ujsep or {}).get("type") == "offer", "bob's update without an offer", up)
            answer = await pb.answer(ujsep["sdp"])
            res2, _ = await bob.ok({"request": "set"}, "set", answer_jsep(answer))
            aup, ajsep, _ = await alice.result_event("update", 15)
            check((ajsep or {}).get("type") == "answer", "alice's update without an answer", aup)
            await pa.set_answer(ajsep["sdp"])
            more = await warm([pa, pb], video=pa.counts()["video"] + 20,
                              audio=pa.counts()["audio"] + 20, timeout=8)
            more_b = await pb.wait_counts(video=pb.counts()["video"] + 20, timeout=8)
            CALL["reneg"] = {"ok": more and more_b}
        except TestFailure as e:
            CALL["reneg"] = {"error": str(e)}

        # carol calls bob while he is in the call.
        await register(carol, "carol")
        pc_ = new_peer()
        peers.append(pc_)
        sdp = await pc_.offer()
        busy, jsep = await carol.ok({"request": "call", "username": "bob"}, "hangup",
                                    offer_jsep(sdp))
        carol_closed = await hangup_reason(carol)
        v0, w0 = pa.counts()["video"], pb.counts()["video"]
        await asyncio.sleep(1.5)
        CALL["busy"] = {"result": busy, "jsep": jsep, "carol_pc": carol_closed,
                        "alice_more": pa.counts()["video"] - v0,
                        "bob_more": pb.counts()["video"] - w0,
                        "bob_queued": [m for m in bob.queued() if m.get("janus") == "event"]}

        # bob hangs up with a reason.
        res, _ = await bob.ok({"request": "hangup", "reason": "Bye now"}, "hangup")
        told, _, msg = await alice.result_event("hangup", 5)
        CALL["hangup"] = {"bob": res, "alice": told, "alice_tr": msg.get("transaction"),
                          "pcs": [await hangup_reason(h) for h in (alice, bob)]}
        CALL["eve_idle"], _, _ = await eve.event(
            lambda r: r.get("event") == "presence" and r.get("busy") == [], 5,
            "presence with nobody busy")
        for p in (pa, pb):
            await p.close()

        # Decline.
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        sdp = await pa.offer()
        await alice.ok({"request": "call", "username": "bob"}, "calling", offer_jsep(sdp))
        await bob.result_event("incomingcall", 15)
        res, _ = await bob.ok({"request": "hangup", "reason": "Declined"}, "hangup")
        told, _, _ = await alice.result_event("hangup", 5)
        CALL["decline"] = {"bob": res, "alice": told,
                           "pcs": [await hangup_reason(h) for h in (alice, bob)]}
        for p in (pa, pb):
            await p.close()

        # bob vanishes mid-call.
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        await call(alice, pa, bob, pb, "bob")
        CALL["vanish_warm"] = await warm([pa, pb], video=3, audio=3)
        t0 = time.monotonic()
        await pb.close()
        told, _, msg = await alice.result_event("hangup", CONSENT_TIMEOUT + 6)
        CALL["vanish"] = {"alice": told, "alice_tr": msg.get("transaction"),
                          "seconds": round(time.monotonic() - t0, 2),
                          "alice_pc": await hangup_reason(alice),
                          "bob_pc": await hangup_reason(bob)}
        await pa.close()

        # bob calls alice back.
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        CALL["callback"] = await call(bob, pb, alice, pa, "alice")
        CALL["callback_media"] = {"ok": await warm([pa, pb], video=10, audio=10),
                                  "alice": pa.counts(), "bob": pb.counts()}
        # Now alice's network goes (no DTLS alert, no ICMP: silence): the
        # server's consent check ends her pc, and bob is told.
        pa.net = NetFilter()
        pa.net.attach(pa.pc)
        t0 = time.monotonic()
        pa.net.blackhole = True
        told, _, msg = await bob.result_event("hangup", CONSENT_TIMEOUT + 6)
        CALL["blackhole"] = {"bob": told, "seconds": round(time.monotonic() - t0, 2),
                             "alice_pc": await hangup_reason(alice),
                             "bob_pc": await hangup_reason(bob)}
        for p in (pa, pb):
            await p.close()

        # presence: dave registers and detaches; carol enables it by request.
        await register(dave, "dave")
        CALL["eve_dave"], _, _ = await eve.result_event("presence", 5, joined="dave")
        CALL["carol_presence"], _ = await carol.ok({"request": "presence", "enable": True},
                                                   "presence")
        await dave.detach()
        CALL["eve_left"], _, _ = await eve.result_event("presence", 5, left="dave")
        CALL["carol_left"], _, _ = await carol.result_event("presence", 5, left="dave")

        # carol's handle is detached in the middle of a call with alice.
        pa, pc_ = new_peer(), new_peer()
        peers += [pa, pc_]
        await call(alice, pa, carol, pc_, "carol")
        await carol.detach()
        told, _, _ = await alice.result_event("hangup", 5)
        CALL["detached"] = {"alice": told, "alice_pc": await hangup_reason(alice),
                            "eve": (await eve.result_event("presence", 5, left="carol"))[0]}
        for p in (pa, pc_):
            await p.close()

        # The server stops while alice and eve are in a call.
        pa, pe = new_peer(), new_peer()
        peers += [pa, pe]
        await call(alice, pa, eve, pe, "eve")
        CALL["last_call"] = await warm([pa, pe], video=3, audio=3)
    except BaseException:
        await stop(srv, quiet=True)
        await close_all(peers, c)
        raise
    # SIGINT with a call up and the clients still connected.
    try:
        await stop(srv)
    finally:
        await close_all(peers, c)


async def close_all(peers, c):
    for p in peers:
        await p.close()
    if c is not None:
        await c.close()


async def stop(srv, quiet=False):
    died = srv.proc.poll()
    try:
        await srv.stop()
        CALL["stopped"] = True if died is None else \
            "the server had died during the calls (exit status %s)" % died
    except TestFailure as e:
        CALL["stopped"] = str(e)
        if not quiet:
            raise


async def handle_info(c, hid):
    async with JanusClient("http", admin=True) as a:
        r = await a.request("handle_info", session_id=c.session_id, handle_id=hid)
    check(r.get("janus") == "success", "handle_info", r)
    return r["info"]


def need(key):
    check(CALL.get("up"), "the first call never came up (see the calls test)")
    check(key in CALL, "the calls test did not get as far as this check")
    return CALL[key]


def sections(sdp):
    out = []
    for sec in sdp.split("\nm=")[1:]:
        out.append("m=" + sec)
    return out


@tap.test("register, list: each sees the other; call: calling, incomingcall (unsolicited) with "
          "a server offer mirroring the caller's m-lines, accepted on both sides")
def test_signalling():
    lists = need("lists")
    for d in lists:
        check(d.get("videocall") == "event" and
              d.get("result") == {"list": ["alice", "bob", "eve"]}, "list", d)
    c = need("call")
    check(c["calling"] == {"event": "calling"}, "calling", c["calling"])
    check(c["incoming"] == {"event": "incomingcall", "username": "alice"}, "incomingcall",
          c["incoming"])
    check(c["incoming_tr"] is None, "incomingcall carries no transaction", c["incoming_tr"])
    kinds = [s.split(" ", 1)[0] for s in sections(c["offer_sdp"])]
    check(kinds == ["m=audio", "m=video", "m=application"], "the server's offer m-lines", kinds)
    offer = sections(c["offer_sdp"])
    check("opus/48000" in offer[0] and "VP8/90000" in offer[1], "codecs offered", offer)
    check(c["accepted_callee"] == {"event": "accepted"}, "the callee's accepted",
          c["accepted_callee"])
    check(c["accepted_caller"] == {"event": "accepted", "username": "bob"}, "the caller's accepted",
          c["accepted_caller"])


@tap.test("Admin API handle_info: the plugin's view of each party (username, state, peer) "
          "and the pc's audio/video counts")
def test_admin():
    info = need("info")
    for i, (me, peer, role) in enumerate((("alice", "bob", "caller"), ("bob", "alice", "callee"))):
        ps = info[i].get("plugin_specific") or {}
        check(ps.get("username") == me and ps.get("state") == "incall" and
              ps.get("peer") == peer and ps.get("role") == role, "%s's plugin_specific" % me, ps)
        media = ps.get("media") or {}
        kinds = {m.get("type"): m.get("stats") for m in media.values()}
        for kind in ("audio", "video"):
            st = kinds.get(kind) or {}
            check((st.get("in") or {}).get("packets", 0) > 0 and
                  (st.get("out") or {}).get("packets", 0) > 0,
                  "%s: %s packets both ways" % (me, kind), media)


@tap.test("media: each side decodes the other's video and audio at >= %d%% of what was sent "
          "over %.0f s" % (MIN_SHARE * 100, WINDOW))
def test_media():
    w = need("warm")
    check(w["ok"], "not both sides decoded audio and video within 15 s", w)
    r = need("rates")
    diag("frames sent/decoded: %s" % r)
    for way in ("a_to_b", "b_to_a"):
        for kind, least in (("video", WINDOW * 15), ("audio", WINDOW * 25)):
            x = r[way][kind]
            check(x["sent"] >= least, "%s %s: only %d frames sent" % (way, kind, x["sent"]), r)
            check(x["got"] > MIN_SHARE * x["sent"], "%s %s: %d of %d decoded"
                  % (way, kind, x["got"], x["sent"]), r)


@tap.test("data channel messages are relayed both ways")
def test_data():
    d = need("data")
    check(not isinstance(d, str), d)
    check(d["bob_got"] and d["alice_got"], "messages missing", d)


@tap.test("5% loss on the callee's downlink: its NACKs are answered by the server "
          "(retransmissions > 0) and it keeps decoding (>= 30 frames in the 4 s of loss and "
          "the 2 s after)")
def test_loss():
    v = need("loss")
    diag("loss: %s" % v)
    check(v["dropped"]["in"] > 5, "the filter dropped too little to test", v)
    check(v["out"].get("nacks", 0) > 0 and v["out"].get("retransmissions", 0) > 0,
          "NACKs not answered", v)
    check(v["frames"] >= 30, "the callee stopped decoding under loss", v)


@tap.test("set video:false stops alice's video at bob (audio goes on); video:true resumes it")
def test_set_video():
    v = need("video_off")
    check(v["result"] == {"event": "set"} and v["jsep"] is None, "set result", v)
    check(v["video_while_off"] <= 3, "%d video frames while off" % v["video_while_off"], v)
    check(v["audio_while_off"] > 30, "audio stopped too", v)
    check(v["resumed"], "video did not come back", v)


@tap.test("renegotiation: set with an offer -> update with a server offer at the peer -> set "
          "with its answer -> update with the answer; media keeps flowing")
def test_renegotiation():
    r = need("reneg")
    check("error" not in r, r.get("error"))
    check(r["ok"], "media stopped after the renegotiation", r)


@tap.test("busy: a call to a user in a call gets hangup 'User busy' (and its pc closed); the "
          "call goes on")
def test_busy():
    b = need("busy")
    check(b["result"] == {"event": "hangup", "username": "carol", "reason": "User busy"} and
          b["jsep"] is None, "busy result", b)
    check(b["carol_pc"] == "Close PC", "carol's pc", b)
    check(b["alice_more"] > 10 and b["bob_more"] > 10, "the call was disturbed", b)
    check(not b["bob_queued"], "bob was told something", b["bob_queued"])


@tap.test("hangup with a reason: the sender gets 'Explicit hangup', the peer the reason "
          "(unsolicited), both PeerConnections close; presence shows nobody busy")
def test_hangup():
    h = need("hangup")
    check(h["bob"] == {"event": "hangup", "username": "bob", "reason": "Explicit hangup"},
          "bob's result", h)
    check(h["alice"] == {"event": "hangup", "username": "bob", "reason": "Bye now"} and
          h["alice_tr"] is None, "alice's event", h)
    check(h["pcs"] == ["Close PC", "Close PC"], "pcs closed", h)
    check(need("eve_idle").get("busy") == [], "presence after the hangup", CALL["eve_idle"])


@tap.test("decline: the callee's hangup with a reason reaches the caller; both pcs close")
def test_decline():
    d = need("decline")
    check(d["alice"] == {"event": "hangup", "username": "bob", "reason": "Declined"},
          "alice's event", d)
    check(d["pcs"] == ["Close PC", "Close PC"], "pcs closed", d)


@tap.test("a callee that vanishes (no hangup): the caller gets 'Remote WebRTC hangup' within "
          "%d s and its pc closes; then the callee calls back and media flows"
          % (CONSENT_TIMEOUT + 6))
def test_vanish():
    check(need("vanish_warm"), "media did not flow before bob vanished")
    v = need("vanish")
    diag("hangup %.2f s after bob's pc stopped" % v["seconds"])
    check(v["alice"] == {"event": "hangup", "username": "bob", "reason": "Remote WebRTC hangup"}
          and v["alice_tr"] is None, "alice's event", v)
    check(v["alice_pc"] == "Close PC", "alice's pc", v)
    check(v["bob_pc"] != "Close PC", "bob's pc was closed by his side, not the plugin", v)
    cb = need("callback")
    check(cb["incoming"] == {"event": "incomingcall", "username": "bob"} and
          cb["accepted_caller"] == {"event": "accepted", "username": "alice"}, "the call back", cb)
    m = need("callback_media")
    check(m["ok"], "no media on the call back", m)


@tap.test("a peer whose network goes silent: the consent check (%d s) ends its pc, the other "
          "party gets 'Remote WebRTC hangup' and its pc closes" % CONSENT_TIMEOUT)
def test_blackhole():
    b = need("blackhole")
    diag("hangup %.2f s after alice's network went" % b["seconds"])
    check(b["bob"] == {"event": "hangup", "username": "alice", "reason": "Remote WebRTC hangup"},
          "bob's event", b)
    check(b["seconds"] >= CONSENT_TIMEOUT - 0.5, "too early for a consent failure", b)
    check(b["bob_pc"] == "Close PC" and b["alice_pc"] != "Close PC", "pcs", b)


@tap.test("presence: the snapshot at register, joined on each registration, busy when a call "
          "starts, left when a handle detaches; the presence request answers a snapshot")
def test_presence():
    check(need("eve_registered") == {"event": "registered", "username": "eve"}, "registered",
          CALL["eve_registered"])
    check(need("eve_first") == {"event": "presence", "list": ["eve"], "busy": [],
                                "joined": "eve"}, "first snapshot", CALL["eve_first"])
    check(need("eve_alice").get("list") == ["alice", "eve"], "after alice", CALL["eve_alice"])
    check(need("eve_bob").get("list") == ["alice", "bob", "eve"], "after bob", CALL["eve_bob"])
    check(need("eve_busy").get("list") == ["alice", "bob", "eve"], "busy", CALL["eve_busy"])
    check(need("eve_dave").get("list") == ["alice", "bob", "carol", "dave", "eve"], "after dave",
          CALL["eve_dave"])
    left = need("eve_left")
    check(left.get("list") == ["alice", "bob", "carol", "eve"] and left.get("busy") == [],
          "after dave left", left)
    cp = need("carol_presence")
    check(cp.get("list") == ["alice", "bob", "carol", "dave", "eve"] and cp.get("busy") == [],
          "carol's presence result", cp)
    check(need("carol_left").get("left") == "dave", "carol told", CALL["carol_left"])


@tap.test("a handle detached mid-call: the peer gets 'Remote WebRTC hangup', its pc closes, "
          "presence says left")
def test_detached():
    d = need("detached")
    check(d["alice"] == {"event": "hangup", "username": "carol", "reason": "Remote WebRTC hangup"},
          "alice's event", d)
    check(d["alice_pc"] == "Close PC", "alice's pc", d)
    check(d["eve"].get("busy") == [] and "carol" not in d["eve"].get("list", []),
          "eve's presence", d)


@tap.test("the server exits 0 on SIGINT with no sanitizer report, a call up")
def test_stopped():
    check("stopped" in CALL, "the calls test did not stop the server")
    check(CALL.get("last_call"), "the last call (up at shutdown) had no media")
    check(CALL["stopped"] is True, CALL["stopped"])


def plugin_info(info):
    return info.get("plugin_specific") or {}


@tap.test("a receiver's PLI reaches the sender; set bitrate caps the sender by REMB at once and "
          "every second, bitrate 0 sends Janus's 'no limit' (10 Mbit/s); what set chose lasts "
          "one call: after a hangup while muted and capped, the next call relays audio and "
          "sends no cap", timeout=90)
async def test_settings():
    srv = new_server()
    await srv.start()
    peers = []
    c = None
    try:
        c = await JanusClient("ws").open()
        await c.create_session()
        alice, bob = [await VcHandle.attach(c) for _ in range(2)]
        await register(alice, "alice")
        await register(bob, "bob")
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        fb = watch_sender_rtcp(pa)
        await call(alice, pa, bob, pb, "bob")
        check(await warm([pa, pb]), "no media both ways in the first call")

        # Keyframe requests: bob's PLIs, 0.6 s apart (the core sends at
        # most one per 500 ms), must each reach alice's video sender within
        # 0.5 s; the same span before shows what comes unasked.
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        await asyncio.sleep(2.4)
        unasked = len([t for t in fb["pli"] if t >= t0])
        sent = []
        for _ in range(4):
            check(await send_pli(pb), "bob received nothing from alice to ask a keyframe of")
            sent.append(time.monotonic())
            await asyncio.sleep(0.6)
        answered = sum(1 for t in sent if any(t <= p <= t + 0.5 for p in fb["pli"]))
        diag("PLIs at alice: %d unasked in 2.4 s, %d of bob's 4 answered" % (unasked, answered))
        check(answered >= 3 and answered > unasked, "bob's PLIs did not reach alice",
              {"unasked": unasked, "answered": answered})

        # A bitrate cap: at once, then once a second.
        t_cap = time.monotonic()
        await alice.ok({"request": "set", "bitrate": 256000}, "set")
        await asyncio.sleep(2.5)
        capped = [b for t, b in fb["remb"] if t >= t_cap]
        check(capped.count(256000) >= 2, "REMB 256000 at alice's sender at once and a second "
              "later", capped)
        # 0 lifts it: the "no limit" REMB, and the cap is not sent again.
        t_lift = time.monotonic()
        await alice.ok({"request": "set", "bitrate": 0}, "set")
        await asyncio.sleep(2.0)
        lifted = [b for t, b in fb["remb"] if t >= t_lift]
        check(10000000 in lifted and 256000 not in lifted[lifted.index(10000000):],
              "bitrate 0: a REMB of 10 Mbit/s and no cap after it", lifted)

        # Mute and cap, check it took, hang up while so.
        await alice.ok({"request": "set", "audio": False, "bitrate": 300000}, "set")
        await asyncio.sleep(0.5)
        a0 = pb.counts()["audio"]
        await asyncio.sleep(1.0)
        muted = pb.counts()["audio"] - a0
        check(muted <= 3, "audio:false did not stop alice's audio at bob (%d frames)" % muted)
        await alice.ok({"request": "hangup"}, "hangup")
        await bob.result_event("hangup", 5)
        for h in (alice, bob):
            await hangup_reason(h)
        ps = plugin_info(await handle_info(c, alice.id))
        for p in (pa, pb):
            await p.close()

        # The next call: alice's audio reaches bob, no cap reaches alice.
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        fb = watch_sender_rtcp(pa)
        await call(alice, pa, bob, pb, "bob")
        heard = await pb.wait_counts(video=5, audio=25, timeout=10)
        await asyncio.sleep(2.5)
        check(heard, "bob decodes no audio of alice in the next call: her audio:false of the "
              "last call carried over", pb.counts())
        remb = [b for _, b in fb["remb"]]
        check(300000 not in remb, "the last call's cap still reaches alice", remb)
        check(ps.get("audio_active") is True and ps.get("video_active") is True and
              ps.get("bitrate") == 0, "alice's controls after the hangup (handle_info)", ps)
        await srv.stop()
    finally:
        srv.kill()
        await close_all(peers, c)


@tap.test("the caller goes: its pc drops mid-call, or its session closes while the call rings; "
          "the callee gets hangup 'Remote WebRTC hangup' and its pc is closed; the name is "
          "free again and both call each other with media", timeout=120)
async def test_caller_gone():
    srv = new_server()
    await srv.start()
    peers = []
    c = ca = None
    gone = {"event": "hangup", "username": "alice", "reason": "Remote WebRTC hangup"}

    async def new_alice():
        cl = await JanusClient("ws").open()
        await cl.create_session()
        h = await VcHandle.attach(cl)
        await register(h, "alice")
        return cl, h

    async def media_call(caller, callee, callee_name, what):
        p1, p2 = new_peer(), new_peer()
        peers.extend([p1, p2])
        await call(caller, p1, callee, p2, callee_name)
        check(await warm([p1, p2], video=3, audio=3), "no media both ways: %s" % what)
        return p1, p2

    async def end(h, other, ps):
        await h.ok({"request": "hangup"}, "hangup")
        await other.result_event("hangup", 5)
        for x in (h, other):
            await hangup_reason(x)
        for p in ps:
            await p.close()

    try:
        c = await JanusClient("ws").open()
        await c.create_session()
        bob = await VcHandle.attach(c)
        await register(bob, "bob")
        ca, alice = await new_alice()

        # alice's pc drops in the middle of a call she made.
        pa, pb = await media_call(alice, bob, "bob", "alice calls bob")
        await pa.close()
        told, _, msg = await bob.result_event("hangup", CONSENT_TIMEOUT + 6)
        check(told == gone and msg.get("transaction") is None, "bob's event", told, msg)
        check(await hangup_reason(bob) == "Close PC", "bob's pc is closed by the plugin")
        check(await hangup_reason(alice) != "Close PC", "alice's pc ended on her side")
        await pb.close()
        pb, pa = await media_call(bob, alice, "alice", "bob calls alice after her drop")
        await end(bob, alice, (pa, pb))
        pa, pb = await media_call(alice, bob, "bob", "alice calls bob after her drop")
        await end(alice, bob, (pa, pb))

        # alice calls, and her session closes (a closed tab) while it rings.
        pa, pb = new_peer(), new_peer()
        peers += [pa, pb]
        sdp = await pa.offer()
        await alice.ok({"request": "call", "username": "bob"}, "calling", offer_jsep(sdp))
        await bob.result_event("incomingcall", 15)
        await ca.close()
        ca = None
        told, _, msg = await bob.result_event("hangup", 5)
        check(told == gone and msg.get("transaction") is None, "bob's event (ringing)", told, msg)
        check(await hangup_reason(bob) == "Close PC", "bob's pc (the server's offer) is closed")
        for p in (pa, pb):
            await p.close()
        data, _ = await bob.request({"request": "list"})
        check(data.get("result") == {"list": ["bob"]}, "alice's name is freed", data)
        ca, alice = await new_alice()
        pb, pa = await media_call(bob, alice, "alice", "bob calls the new alice")
        await end(alice, bob, (pa, pb))
        pa, pb = await media_call(alice, bob, "bob", "the new alice calls bob")
        await end(bob, alice, (pa, pb))
        await srv.stop()
    finally:
        srv.kill()
        await close_all(peers, c)
        if ca is not None:
            await ca.close()


if __name__ == "__main__":
    why = videocall_missing() or skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run()
