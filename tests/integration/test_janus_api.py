#!/usr/bin/env python3
"""The core Janus API verbs (janus-api-compat.md §1-§3), each test run over
both HTTP and WebSocket against one shared server."""

import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (ECHOTEST, JanusClient, Server, Tap, WsClient, check,  # noqa: E402
                          expect, expect_error, transaction)

tap = Tap(timeout=20)

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
       "a=rtpmap:111 opus/48000/2\r\n")


async def session_and_handle(c, **attach_fields):
    await c.create_session()
    await c.attach_handle(**attach_fields)
    return c.session_id, c.handle_id


# ---------------------------------------------------------------- root verbs

@tap.both("info returns server_info with the echotest plugin")
async def test_info(transport):
    async with JanusClient(transport) as c:
        r = expect(await c.info(), "server_info")
        check(isinstance(r.get("transaction"), str), "no transaction", r)
        check(isinstance(r.get("name"), str) and r["name"], "no name", r)
        check(isinstance(r.get("version"), int), "version is not an int", r)
        check(isinstance(r.get("version_string"), str), "no version_string", r)
        plugins = r.get("plugins")
        check(isinstance(plugins, dict) and ECHOTEST in plugins,
              "plugins lacks janus.plugin.echotest", r)
        check(isinstance(plugins[ECHOTEST].get("name"), str), "plugin without name", r)
        check(isinstance(r.get("transports"), dict), "no transports object", r)
        for key in ("api_secret", "auth_token", "accepting-new-sessions"):
            check(isinstance(r.get(key), bool), "%s is not a JSON boolean" % key, r)
        check(isinstance(r.get("session-timeout"), int), "no session-timeout", r)


@tap.both("ping answers pong with the transaction")
async def test_ping(transport):
    async with JanusClient(transport) as c:
        r = expect(await c.send({"janus": "ping", "transaction": "p1"}), "pong")
        check(r.get("transaction") == "p1", "wrong transaction", r)


@tap.both("create returns a 53-bit integer id")
async def test_create(transport):
    async with JanusClient(transport) as c:
        r = expect(await c.create())
        check("session_id" not in r, "create reply must not carry session_id", r)
        sid = r["data"]["id"]
        check(isinstance(sid, int) and not isinstance(sid, bool), "id is not an int", r)
        check(0 < sid < 2 ** 53, "id out of the 53-bit range", r)
        expect(await c.destroy())


@tap.both("create with an id uses it; the same id again gives 468")
async def test_create_with_id(transport):
    async with JanusClient(transport) as c:
        want = 1000000 + (hash(transport) & 0xffff)
        r = expect(await c.create(id=want))
        check(r["data"]["id"] == want, "server did not use the requested id", r)
        async with JanusClient(transport) as c2:
            expect_error(await c2.create(id=want), 468)
        expect(await c.destroy())


@tap.both("create with a bad id type gives 467")
async def test_create_bad_id(transport):
    async with JanusClient(transport) as c:
        expect_error(await c.create(id="12"), 467)
        expect_error(await c.create(id=-5), 467)


@tap.both("attach with opaque_id returns a handle id")
async def test_attach(transport):
    async with JanusClient(transport) as c:
        await c.create_session()
        r = expect(await c.attach(ECHOTEST, opaque_id="opaque-123"))
        check(r.get("session_id") == c.session_id, "attach reply lacks session_id", r)
        hid = r["data"]["id"]
        check(isinstance(hid, int) and 0 < hid < 2 ** 53, "bad handle id", r)
        expect(await c.destroy())


@tap.both("attach to an unknown plugin gives 460")
async def test_attach_unknown(transport):
    async with JanusClient(transport) as c:
        await c.create_session()
        r = expect_error(await c.attach("janus.plugin.nope"), 460)
        check(r.get("session_id") == c.session_id, "error lacks session_id", r)
        expect_error(await c.request("attach", session_id=c.session_id), 456)
        expect_error(await c.attach(42), 467)
        expect(await c.destroy())


# ---------------------------------------------------------------- message

@tap.both("message to echotest: ack with hint, then event with the same transaction")
async def test_message(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        tr = transaction()
        r = expect(await c.send({"janus": "message", "transaction": tr,
                                 "body": {"audio": True, "video": False}},
                                c.session_id, c.handle_id), "ack")
        check(r.get("transaction") == tr and r.get("session_id") == c.session_id,
              "ack lacks transaction/session_id", r)
        check(isinstance(r.get("hint"), str), "ack without hint", r)
        ev = await c.plugin_event(tr)
        check(ev.get("session_id") == c.session_id, "event lacks session_id", ev)
        check(ev.get("sender") == c.handle_id, "event sender is not the handle", ev)
        pd = ev.get("plugindata", {})
        check(pd.get("plugin") == ECHOTEST, "plugindata.plugin", ev)
        check(pd.get("data", {}).get("echotest") == "event", "data.echotest", ev)
        check(pd.get("data", {}).get("result") == "ok", "result is not ok", ev)
        expect(await c.destroy())


@tap.both("message with no supported attributes: event with error_code 413")
async def test_message_413(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        tr = transaction()
        expect(await c.send({"janus": "message", "transaction": tr, "body": {}},
                            c.session_id, c.handle_id), "ack")
        ev = await c.plugin_event(tr)
        data = ev.get("plugindata", {}).get("data", {})
        check(data.get("error_code") == 413, "expected error_code 413", ev)
        check(isinstance(data.get("error"), str), "no error text", ev)
        expect(await c.destroy())


@tap.both("message validation: body/jsep errors 456, 467, 455, 464, 469")
async def test_message_errors(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        expect_error(await c.message(None), 456)
        expect_error(await c.message("text"), 467)
        expect_error(await c.message([1, 2]), 467)
        expect_error(await c.message({"audio": True}, jsep="offer"), 455)
        expect_error(await c.message({"audio": True}, jsep={"sdp": SDP}), 456)
        expect_error(await c.message({"audio": True}, jsep={"type": "offer"}), 456)
        expect_error(await c.message({"audio": True}, jsep={"type": 1, "sdp": SDP}), 467)
        expect_error(await c.message({"audio": True}, jsep={"type": "bogus", "sdp": SDP}), 464)
        expect_error(await c.message({"audio": True}, jsep={"type": "answer", "sdp": SDP}), 469)
        # The handle still works after all that.
        tr = transaction()
        expect(await c.send({"janus": "message", "transaction": tr, "body": {"audio": True}},
                            c.session_id, c.handle_id), "ack")
        ev = await c.plugin_event(tr)
        check(ev["plugindata"]["data"].get("result") == "ok", "result", ev)
        expect(await c.destroy())


@tap.both("message at session level gives 457")
async def test_message_no_handle(transport):
    async with JanusClient(transport) as c:
        await c.create_session()
        expect_error(await c.request("message", session_id=c.session_id, body={}), 457)
        expect(await c.destroy())


# ---------------------------------------------------------------- trickle

@tap.both("trickle: single, array and completed are acked")
async def test_trickle(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        cand = {"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
                "sdpMid": "0", "sdpMLineIndex": 0}
        r = expect(await c.trickle(candidate=cand), "ack")
        check(r.get("session_id") == c.session_id, "ack lacks session_id", r)
        expect(await c.trickle(candidates=[cand, dict(cand, sdpMid="1")]), "ack")
        expect(await c.trickle(candidate={"completed": True}), "ack")
        expect(await c.trickle(candidate=None), "ack")
        expect(await c.destroy())


@tap.both("trickle errors: both 454, neither 456, candidates not array 467")
async def test_trickle_errors(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        cand = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}
        expect_error(await c.trickle(candidate=cand, candidates=[cand]), 454)
        expect_error(await c.trickle(), 456)
        expect_error(await c.trickle(candidates={"a": 1}), 467)
        expect_error(await c.trickle(candidate={"sdpMid": "0"}), 456)
        expect_error(await c.trickle(candidate={"candidate": "candidate:1"}), 456)
        expect_error(await c.trickle(candidate={"candidate": 5, "sdpMid": "0"}), 467)
        expect(await c.destroy())


# ---------------------------------------------------------------- session/handle lifetime

@tap.both("keepalive is acked")
async def test_keepalive(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        r = expect(await c.keepalive(), "ack")
        check(r.get("session_id") == c.session_id, "ack lacks session_id", r)
        # A handle id is allowed on keepalive.
        expect(await c.request("keepalive", session_id=c.session_id,
                               handle_id=c.handle_id), "ack")
        expect(await c.destroy())


@tap.both("detach: success, then a detached event, then the handle is gone")
async def test_detach(transport):
    async with JanusClient(transport) as c:
        sid, hid = await session_and_handle(c)
        r = expect(await c.detach())
        check(r.get("session_id") == sid, "detach reply lacks session_id", r)
        ev = await c.event(lambda m: m.get("janus") == "detached", what="detached event")
        check(ev.get("sender") == hid and ev.get("session_id") == sid, "detached fields", ev)
        expect_error(await c.message({"audio": True}), 459)
        expect_error(await c.detach(), 459)
        expect(await c.destroy())


@tap.both("hangup succeeds and keeps the handle")
async def test_hangup(transport):
    async with JanusClient(transport) as c:
        await session_and_handle(c)
        r = expect(await c.hangup())
        check(r.get("session_id") == c.session_id, "hangup reply lacks session_id", r)
        expect(await c.request("keepalive", session_id=c.session_id, handle_id=c.handle_id),
               "ack")
        tr = transaction()
        expect(await c.send({"janus": "message", "transaction": tr, "body": {"video": True}},
                            c.session_id, c.handle_id), "ack")
        await c.plugin_event(tr)
        expect(await c.destroy())


@tap.both("destroy succeeds, then the session answers 458")
async def test_destroy(transport):
    async with JanusClient(transport) as c:
        sid, hid = await session_and_handle(c)
        r = expect(await c.destroy())
        check(r.get("session_id") == sid, "destroy reply lacks session_id", r)
        r = expect_error(await c.keepalive(session_id=sid), 458)
        check(r.get("session_id") == sid, "error lacks session_id", r)
        expect_error(await c.attach(ECHOTEST, session_id=sid), 458)
        expect_error(await c.message({"audio": True}, session_id=sid, handle_id=hid), 458)
        expect_error(await c.destroy(session_id=sid), 458)


@tap.both("unknown session 458, unknown handle 459")
async def test_unknown_ids(transport):
    async with JanusClient(transport) as c:
        expect_error(await c.keepalive(session_id=123456789), 458)
        await c.create_session()
        r = expect_error(await c.message({"audio": True}, handle_id=987654321), 459)
        check(r.get("session_id") == c.session_id, "error lacks session_id", r)
        expect(await c.destroy())


# ---------------------------------------------------------------- wrong levels and envelopes

@tap.both("verbs at the wrong level: 457 and 453")
async def test_wrong_level(transport):
    async with JanusClient(transport) as c:
        sid, hid = await session_and_handle(c)
        expect_error(await c.request("attach", session_id=sid, handle_id=hid,
                                     plugin=ECHOTEST), 457)
        expect_error(await c.request("detach", session_id=sid), 457)
        expect_error(await c.request("hangup", session_id=sid), 457)
        expect_error(await c.request("destroy", session_id=sid, handle_id=hid), 457)
        expect_error(await c.request("info", session_id=sid), 453)
        expect_error(await c.request("ping", session_id=sid), 453)
        expect_error(await c.request("keepalive"), 457)
        expect_error(await c.request("attach", plugin=ECHOTEST), 457)
        expect_error(await c.request("frobnicate"), 457)
        r = expect_error(await c.request("frobnicate", session_id=sid), 453)
        check(r.get("session_id") == sid, "453 lacks session_id", r)
        expect_error(await c.request("frobnicate", session_id=sid, handle_id=hid), 453)
        expect(await c.destroy())


@tap.both("envelope: missing/invalid transaction and janus")
async def test_envelope(transport):
    async with JanusClient(transport) as c:
        r = expect_error(await c.send({"janus": "ping", "transaction": None}), 467)
        check("transaction" not in r, "error must carry no transaction", r)
        r = expect_error(await c.send({"janus": "ping", "transaction": 42}), 467)
        check("transaction" not in r, "error must carry no transaction", r)
        r = expect_error(await c.send({"transaction": "tr-nojanus"}), 456)
        check("transaction" not in r, "456 for janus must carry no transaction", r)
        r = expect_error(await c.send({"janus": 5, "transaction": "t"}), 467)
        # Missing transaction: the reply cannot be matched, so read it raw.
        if transport == "ws":
            await c.ws.send({"janus": "ping"})
            r = await c.ws.recv()
        else:
            r = await c.http.post("/janus", {"janus": "ping"})
        expect_error(r, 456)
        check("transaction" not in r, "error must carry no transaction", r)


@tap.both("verbs are case-insensitive")
async def test_case(transport):
    async with JanusClient(transport) as c:
        r = expect(await c.request("CrEaTe"))
        c.session_id = r["data"]["id"]
        await c.start_poll()
        expect(await c.request("ATTACH", session_id=c.session_id, plugin=ECHOTEST))
        expect(await c.request("Ping"), "pong")
        expect(await c.request("KeepAlive", session_id=c.session_id), "ack")
        expect(await c.request("Destroy", session_id=c.session_id))


@tap.both("a non-integer session_id counts as absent")
async def test_session_id_type(transport):
    async with JanusClient(transport) as c:
        await c.create_session()
        expect_error(await c.send({"janus": "keepalive", "session_id": "abc"},
                                  ids_in_body=True), 457)
        expect(await c.send({"janus": "ping", "session_id": "abc"}, ids_in_body=True), "pong")
        expect(await c.destroy())


@tap.both("ids in replies and events are JSON integers")
async def test_id_shapes(transport):
    async with JanusClient(transport) as c:
        sid, hid = await session_and_handle(c)
        tr = transaction()
        r = expect(await c.send({"janus": "message", "transaction": tr, "body": {"audio": 1 == 1}},
                                sid, hid), "ack")
        check(type(r["session_id"]) is int, "session_id not an int", r)
        ev = await c.plugin_event(tr)
        check(type(ev["sender"]) is int and type(ev["session_id"]) is int, "ids not ints", ev)
        expect(await c.destroy())


# ---------------------------------------------------------------- claim

@tap.test("claim over WebSocket moves events to the claiming socket")
async def test_claim_ws():
    async with JanusClient("ws") as a, JanusClient("ws") as b:
        sid, hid = await session_and_handle(a)
        r = expect(await b.claim(sid))
        check(r.get("session_id") == sid, "claim reply lacks session_id", r)
        check("data" not in r, "claim reply must have no data", r)
        b.handle_id = hid
        tr = transaction()
        expect(await b.send({"janus": "message", "transaction": tr, "body": {"audio": True}},
                            sid, hid), "ack")
        ev = await b.plugin_event(tr)
        check(ev["plugindata"]["data"].get("result") == "ok", "result", ev)
        # A message sent on A now also has its event delivered to B.
        tr2 = transaction()
        expect(await a.send({"janus": "message", "transaction": tr2, "body": {"audio": True}},
                            sid, hid), "ack")
        await b.plugin_event(tr2)
        await a.no_event(lambda m: m.get("janus") == "event", 0.5)
        # Claiming again from the owner is a no-op success.
        expect(await b.claim(sid))
        expect(await b.destroy(session_id=sid))


@tap.test("claim of an unknown session gives 458")
async def test_claim_unknown():
    async with JanusClient("ws") as c:
        expect_error(await c.claim(424242), 458)


@tap.test("claim over HTTP after the WebSocket owner moves events to the long poll")
async def test_claim_http():
    async with JanusClient("ws") as a:
        sid, hid = await session_and_handle(a)
        async with JanusClient("http") as b:
            r = expect(await b.claim(sid))
            check(r.get("session_id") == sid, "claim reply lacks session_id", r)
            b.handle_id = hid
            tr = transaction()
            expect(await b.send({"janus": "message", "transaction": tr,
                                 "body": {"audio": True}}, sid, hid), "ack")
            ev = await b.plugin_event(tr)
            check(ev["plugindata"]["data"].get("result") == "ok", "result", ev)
            await a.no_event(lambda m: m.get("janus") == "event", 0.3)
            expect(await b.destroy())


@tap.test("claim over HTTP of an HTTP session (janus.js reconnect)")
async def test_claim_http_http():
    async with JanusClient("http") as a:
        sid, hid = await session_and_handle(a)
        await a.stop_poll()
        async with JanusClient("http") as b:
            # janus.js POSTs claim to the root path with session_id in the body.
            r = expect(await b.send({"janus": "claim", "session_id": sid}, ids_in_body=True))
            check(r.get("session_id") == sid, "claim reply lacks session_id", r)
            b.session_id, b.handle_id = sid, hid
            await b.start_poll()
            tr = transaction()
            expect(await b.send({"janus": "message", "transaction": tr,
                                 "body": {"audio": True}}, sid, hid), "ack")
            await b.plugin_event(tr)
            expect(await b.destroy())


@tap.test("a WebSocket may send requests for a session it does not own; events go to the owner")
async def test_foreign_requests():
    async with JanusClient("ws") as a, JanusClient("ws") as b:
        sid, hid = await session_and_handle(a)
        tr = transaction()
        r = expect(await b.send({"janus": "message", "transaction": tr, "body": {"audio": True}},
                                sid, hid), "ack")
        check(r.get("transaction") == tr, "ack on the requesting socket", r)
        await a.plugin_event(tr)
        await b.no_event(lambda m: m.get("janus") == "event", 0.3)
        expect(await a.destroy())


@tap.test("several requests pipelined on one socket are answered in order")
async def test_pipelined():
    async with WsClient() as ws:
        trs = [transaction() for _ in range(20)]
        for tr in trs:
            await ws.send({"janus": "ping", "transaction": tr})
        got = [(await ws.recv()).get("transaction") for _ in trs]
        check(got == trs, "replies out of order", got)


if __name__ == "__main__":
    tap.run(shared=Server())
