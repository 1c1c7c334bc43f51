#!/usr/bin/env python3
"""WebSocket transport specifics (janus-api-compat.md §5): framing,
subprotocols, socket lifetime vs sessions, ping/pong, limits, concurrency."""

import asyncio
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

from stoa_harness import (ADMIN_PROTOCOL, ECHOTEST, HttpClient, JanusClient,  # noqa: E402
                          Server, Tap, WsClient, check, expect, expect_error, raw_http,
                          transaction)

tap = Tap(timeout=20)

MAX_REQUEST = 4096


async def admin_sessions(port=7088):
    async with HttpClient(port) as h:
        r = expect(await h.post("/admin", {"janus": "list_sessions",
                                           "transaction": transaction()}))
        return r["sessions"]


async def wait_sessions(pred, port=7088, timeout=5):
    """Polls list_sessions until pred(sessions) holds; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        s = await admin_sessions(port)
        if pred(s) or time.monotonic() > deadline:
            return s
        await asyncio.sleep(0.1)


async def handshake_refused(port=8188, protocols=None, path="/"):
    try:
        ws = await websockets.connect("ws://127.0.0.1:%d%s" % (port, path),
                                      subprotocols=protocols, open_timeout=5)
    except (websockets.InvalidHandshake, websockets.InvalidStatusCode, OSError,
            websockets.ConnectionClosed):
        return True
    negotiated = ws.subprotocol
    await ws.close()
    # Accepting the upgrade without agreeing on a subprotocol counts as accepted.
    return False if negotiated is None or negotiated in (protocols or []) else True


# ---------------------------------------------------------------- framing

@tap.test("several JSON objects in one frame are processed in order")
async def test_multi_object_frame():
    async with WsClient() as ws:
        await ws.send('{"janus":"ping","transaction":"a"}{"janus":"ping","transaction":"b"}'
                      '\n {"janus":"info","transaction":"c"}')
        got = [await ws.recv() for _ in range(3)]
        check([m.get("transaction") for m in got] == ["a", "b", "c"], "order", got)
        check([m.get("janus") for m in got] == ["pong", "pong", "server_info"], "kinds", got)


@tap.test("dependent requests in one frame: create then keepalive on it")
async def test_multi_object_dependent():
    async with WsClient() as ws:
        r = expect(await ws.request({"janus": "create"}))
        sid = r["data"]["id"]
        await ws.send('{"janus":"attach","plugin":"%s","session_id":%d,"transaction":"x1"}'
                      '{"janus":"keepalive","session_id":%d,"transaction":"x2"}'
                      '{"janus":"destroy","session_id":%d,"transaction":"x3"}'
                      % (ECHOTEST, sid, sid, sid))
        got = [await ws.next(lambda m: m.get("transaction") in ("x1", "x2", "x3"))
               for _ in range(3)]
        check([m.get("janus") for m in got] == ["success", "ack", "success"], "replies", got)


@tap.test("a fragmented message is reassembled")
async def test_fragmented():
    async with WsClient() as ws:
        text = '{"janus":"ping","transaction":"frag-1","pad":"%s"}' % ("z" * 1000)
        await ws.ws.send(iter([text[:10], text[10:500], text[500:]]))
        r = await ws.recv()
        check(r.get("janus") == "pong" and r.get("transaction") == "frag-1", "pong", r)


@tap.test("one frame larger than the server's 1 KiB read buffer is read whole, and a "
          "reply as large comes back whole")
async def test_larger_than_rx_buffer():
    async with WsClient() as ws:
        tid = "big-" + "".join(chr(97 + i % 26) for i in range(MAX_REQUEST - 300))
        await ws.send('{"janus":"ping","transaction":"%s"}' % tid)
        r = await ws.recv()
        check(r.get("janus") == "pong" and r.get("transaction") == tid, "pong with the "
              "%d-octet transaction" % len(tid), {k: str(v)[:40] for k, v in r.items()})


@tap.test("a malformed frame gets 454 and the connection stays usable")
async def test_malformed():
    async with WsClient() as ws:
        await ws.send('{"janus": "ping", "transaction": ')
        e = expect_error(await ws.recv(), 454)
        check("transaction" not in e, "454 must have no transaction", e)
        await ws.send("not json at all")
        expect_error(await ws.recv(), 454)
        await ws.send('{"janus": "ping", "transaction": "t"')
        expect_error(await ws.recv(), 454)
        r = await ws.request({"janus": "ping"})
        expect(r, "pong")
        check(not ws.closed, "connection closed after bad input")


@tap.test("a valid object followed by garbage: the object runs, then 454")
async def test_valid_then_garbage():
    async with WsClient() as ws:
        await ws.send('{"janus":"ping","transaction":"ok1"} }}garbage')
        # Both come back; their order is not fixed (the parse error needs no worker).
        got = [await ws.recv(), await ws.recv()]
        pong = [m for m in got if m.get("janus") == "pong"]
        check(len(pong) == 1 and pong[0].get("transaction") == "ok1", "pong", got)
        expect_error([m for m in got if m.get("janus") != "pong"][0], 454)
        expect(await ws.request({"janus": "ping"}), "pong")


@tap.test("a JSON array or scalar message is refused without closing")
async def test_non_object():
    async with WsClient() as ws:
        await ws.send('[{"janus":"ping","transaction":"t"}]')
        e = await ws.recv()
        check(e.get("janus") == "error" and e["error"]["code"] in (454, 455), "error", e)
        expect(await ws.request({"janus": "ping"}), "pong")


# ---------------------------------------------------------------- handshake

@tap.test("a handshake without the janus-protocol subprotocol is refused")
async def test_no_subprotocol():
    check(await handshake_refused(protocols=None), "no subprotocol was accepted")
    check(await handshake_refused(protocols=["chat"]), "subprotocol 'chat' was accepted")
    check(await handshake_refused(protocols=[ADMIN_PROTOCOL]),
          "janus-admin-protocol accepted on the Janus API port")
    check(await handshake_refused(port=7188, protocols=["janus-protocol"]),
          "janus-protocol accepted on the Admin API port")
    # The server still works.
    async with WsClient() as ws:
        expect(await ws.request({"janus": "ping"}), "pong")


@tap.test("a plain HTTP GET to the WebSocket port gets 403")
async def test_plain_http():
    status, _, _ = await raw_http("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n", port=8188)
    check(status == 403, "expected 403, got %s" % status)
    status, _, _ = await raw_http("GET /janus HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Connection: close\r\n\r\n", port=8188)
    check(status == 403, "expected 403, got %s" % status)


@tap.test("any request path works with janus-protocol")
async def test_any_path():
    async with WsClient(path="/janus-ws/x") as ws:
        expect(await ws.request({"janus": "ping"}), "pong")


# ---------------------------------------------------------------- socket lifetime

@tap.test("closing a socket destroys its sessions (and only its own)")
async def test_close_destroys():
    keep = await JanusClient("ws").open()
    try:
        kept_sid = await keep.create_session()
        c = await JanusClient("ws").open()
        sid = await c.create_session()
        await c.attach_handle()
        s = await admin_sessions()
        check(sid in s and kept_sid in s, "sessions not listed", s)
        await c.close()
        s = await wait_sessions(lambda s: sid not in s)
        check(sid not in s, "session survived its socket closing", s)
        check(kept_sid in s, "another socket's session was destroyed", s)
        expect_error(await keep.keepalive(session_id=sid), 458)
        expect(await keep.keepalive(), "ack")
        expect(await keep.destroy())
    finally:
        await keep.close()


@tap.test("a claimed session moves with the claim: closing the old socket keeps it")
async def test_close_after_claim():
    async with JanusClient("ws") as b:
        a = await JanusClient("ws").open()
        sid = await a.create_session()
        expect(await b.claim(sid))
        await a.close()
        await asyncio.sleep(0.5)
        check(sid in await admin_sessions(), "claimed session destroyed with the old socket")
        expect(await b.keepalive(), "ack")
        await b.close()
        s = await wait_sessions(lambda s: sid not in s)
        check(sid not in s, "session survived its new owner closing", s)


@tap.test("reclaim_session_timeout: a session survives a close and can be claimed")
async def test_reclaim():
    async with Server(args=["-m", "2"], offset=10) as srv:
        a = await JanusClient("ws", port=srv.ws_port).open()
        sid = await a.create_session()
        hid = await a.attach_handle()
        lost = await JanusClient("ws", port=srv.ws_port).open()
        lost_sid = await lost.create_session()
        await a.close()
        await lost.close()
        await asyncio.sleep(0.5)
        s = await admin_sessions(srv.admin_http_port)
        check(sid in s and lost_sid in s, "sessions destroyed despite reclaim timeout", s)
        async with JanusClient("ws", port=srv.ws_port) as b:
            r = expect(await b.claim(sid))
            check(r.get("session_id") == sid, "claim reply", r)
            b.handle_id = hid
            tr = transaction()
            expect(await b.send({"janus": "message", "transaction": tr,
                                 "body": {"audio": True}}, sid, hid), "ack")
            await b.plugin_event(tr)
            # The unclaimed one goes away after the reclaim timeout.
            s = await wait_sessions(lambda s: lost_sid not in s, srv.admin_http_port, 6)
            check(lost_sid not in s, "unclaimed session outlived reclaim_session_timeout", s)
            check(sid in s, "the claimed session was destroyed", s)
            expect(await b.destroy())


@tap.test("WebSocket ping frames get pongs")
async def test_ping_frames():
    async with WsClient() as ws:
        for i in range(3):
            waiter = await ws.ws.ping(b"stoa-%d" % i)
            await asyncio.wait_for(waiter, 2)
        expect(await ws.request({"janus": "ping"}), "pong")


@tap.test("an oversized message gets an error and the connection is closed")
async def test_oversized():
    async with WsClient() as ws:
        ok = '{"janus":"ping","transaction":"small","pad":"%s"}' % ("s" * (MAX_REQUEST - 200))
        await ws.send(ok)
        expect(await ws.recv(), "pong")
        await ws.send('{"janus":"ping","transaction":"big","pad":"%s"}'
                      % ("b" * (MAX_REQUEST * 4)))
        e = await ws.next(lambda m: m.get("janus") == "error", 5, "an error")
        check("error" in e, "error reply", e)
        await ws.wait_closed(5)
        check(ws.close_code in (1009, 1008, 1000, 1001, 1006), "close code %s" % ws.close_code)
    async with WsClient() as ws:
        expect(await ws.request({"janus": "ping"}), "pong")


@tap.test("an oversized fragmented message is refused too")
async def test_oversized_fragments():
    async with WsClient() as ws:
        frag = "f" * 1500
        text_parts = ['{"janus":"ping","transaction":"big","pad":"'] + [frag] * 6 + ['"}']
        try:
            await ws.ws.send(iter(text_parts))
        except websockets.ConnectionClosed:
            pass
        # The server may close while fragments are still in flight, so the
        # error reply can be lost to a TCP reset: only the close is required.
        await ws.wait_closed(5)
        check(not any(m.get("janus") == "pong" for m in ws.inbox), "oversized request ran")
    async with WsClient() as ws:
        expect(await ws.request({"janus": "ping"}), "pong")


@tap.test("50 concurrent sockets each create/attach/message/destroy")
async def test_concurrent_sockets():
    async def one(i):
        async with JanusClient("ws") as c:
            await c.create_session()
            await c.attach_handle(opaque_id="c%d" % i)
            tr = transaction()
            expect(await c.send({"janus": "message", "transaction": tr,
                                 "body": {"audio": True}}, c.session_id, c.handle_id), "ack")
            ev = await c.plugin_event(tr, timeout=10)
            check(ev["sender"] == c.handle_id, "event for another handle", ev)
            expect(await c.destroy())
            return c.session_id
    sids = await asyncio.gather(*(one(i) for i in range(50)))
    check(len(set(sids)) == 50, "duplicate sessions")
    s = await wait_sessions(lambda s: not set(s) & set(sids))
    check(not set(s) & set(sids), "sessions left over", s)


@tap.test("the server closes sockets cleanly on many abrupt disconnects")
async def test_abrupt_disconnects():
    for i in range(20):
        r, w = await asyncio.open_connection("127.0.0.1", 8188)
        w.write(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Protocol: janus-protocol\r\n\r\n")
        if i % 2:
            w.write(b"\x81\xfe\x10\x00")  # a frame header announcing 4096 bytes, then nothing
        await w.drain()
        w.close()
    async with WsClient() as ws:
        expect(await ws.request({"janus": "ping"}), "pong")


if __name__ == "__main__":
    tap.run(shared=Server(config="general: {\n max_request_size = %d\n}\n" % MAX_REQUEST))
