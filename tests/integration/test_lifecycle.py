#!/usr/bin/env python3
"""Server lifetime: graceful shutdown on SIGTERM/SIGINT with clients
connected, session timeouts (and what keeps a session alive), and a storm
of malformed input over both transports that must not crash the server."""

import asyncio
import json
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiohttp  # noqa: E402
import websockets  # noqa: E402

from stoa_harness import (HttpClient, JanusClient, Server, Tap, WsClient, check,  # noqa: E402
                          expect, expect_error, raw_http, transaction)

tap = Tap(timeout=40)


# ---------------------------------------------------------------- shutdown

async def shutdown_with_clients(sig):
    srv = Server(env={"STOA_TEST_LONGPOLL_SECONDS": "20"})
    await srv.start()
    try:
        ws = await JanusClient("ws").open()
        await ws.create_session()
        await ws.attach_handle()
        http = await JanusClient("http").open()
        await http.create_session()
        await http.attach_handle()
        idle = await WsClient().open()  # a socket with no session
        await asyncio.sleep(0.3)  # the long poll is pending
        t0 = time.monotonic()
        await srv.stop(sig=sig, timeout=3)
        took = time.monotonic() - t0
        check(took <= 3, "exit took %.1f s" % took)
        # The WebSocket client: `detached` and/or a clean close.
        await ws.ws.wait_closed(3)
        got_detached = any(m.get("janus") == "detached" for m in ws.ws.inbox)
        check(got_detached or ws.ws.close_code in (1000, 1001),
              "no detached event and no clean close (code %s)" % ws.ws.close_code,
              ws.ws.inbox)
        await idle.wait_closed(3)
        check(idle.close_code in (1000, 1001), "idle socket close code %s" % idle.close_code)
        # The pending long poll was answered or its connection closed.
        await asyncio.sleep(0.2)
        check(http._poller is None or http._poller.done() or http.poll_status is not None,
              "the long poll is still hanging after exit")
        await ws.close()
        await http.close()
        await idle.close()
    finally:
        srv.kill()


@tap.test("SIGTERM with clients connected: exit 0 within 3 s, clients told")
async def test_sigterm():
    await shutdown_with_clients(signal.SIGTERM)


@tap.test("SIGINT with clients connected: exit 0 within 3 s, clients told")
async def test_sigint():
    await shutdown_with_clients(signal.SIGINT)


@tap.test("SIGTERM with many live sessions and handles: exit 0")
async def test_many_sessions():
    async with Server() as srv:
        clients = []
        for i in range(20):
            c = await JanusClient("ws" if i % 2 else "http", poll=False).open()
            await c.create_session()
            for _ in range(3):
                await c.attach_handle()
            clients.append(c)
        await srv.stop(sig=signal.SIGTERM, timeout=3)
        for c in clients:
            await c.close()


@tap.test("SIGINT while a WebSocket client keeps sending requests: exit 0, no GLib critical, "
          "nothing leaked (requests that arrive after the API workers stopped are dropped)")
async def test_requests_during_shutdown():
    srv = Server()
    await srv.start()
    try:
        # Sessions and handles, so that shutdown queues detached events and
        # the WebSocket transport is still flushing them (and reading) after
        # the API workers are gone.
        clients = []
        for _ in range(30):
            c = await JanusClient("ws").open()
            await c.create_session()
            for _ in range(3):
                await c.attach_handle()
            clients.append(c)
        ws = clients[0].ws
        sent = 0

        async def hammer():
            nonlocal sent
            while ws.close_code is None:
                try:
                    await ws.send({"janus": "ping", "transaction": transaction()})
                except Exception:  # noqa: B902 - the socket went away under us
                    return
                sent += 1
                await asyncio.sleep(0)

        task = asyncio.ensure_future(hammer())
        await asyncio.sleep(0.3)
        await srv.stop(sig=signal.SIGINT, timeout=5)
        await asyncio.wait_for(task, 5)
        logs = srv.log_text() + srv.log_text(stderr=True)
        check(sent > 100, "the client sent only %d requests" % sent)
        check("CRITICAL" not in logs, "a GLib critical at shutdown",
              [line for line in logs.splitlines() if "CRITICAL" in line])
        for c in clients:
            await c.close()
    finally:
        srv.kill()


# ---------------------------------------------------------------- session timeout

@tap.test("session timeout (-s 3): idle sessions expire, kept-alive ones survive")
async def test_session_timeout():
    async with Server(args=["-s", "3"], env={"STOA_TEST_LONGPOLL_SECONDS": "1"}):
        idle_ws = await JanusClient("ws").open()
        busy_ws = await JanusClient("ws").open()
        poll_http = await JanusClient("http", maxev=10).open()
        idle_http = await JanusClient("http", poll=False).open()
        try:
            sid_idle = await idle_ws.create_session()
            await idle_ws.attach_handle()
            sid_busy = await busy_ws.create_session()
            sid_poll = await poll_http.create_session()
            sid_idle_http = await idle_http.create_session()
            # Expiry is checked every 2 s, so an idle session goes after 3 to 5 s.
            # Keep the busy one alive meanwhile, then one more check period so
            # the idle HTTP session (created a moment later) is gone too.
            t0 = time.monotonic()
            timeout_ev = None
            end = t0 + 9
            while time.monotonic() < end:
                expect(await busy_ws.keepalive(), "ack")
                if timeout_ev is None:
                    try:
                        timeout_ev = await idle_ws.event(
                            lambda m: m.get("janus") == "timeout", 1)
                        took = time.monotonic() - t0
                        end = time.monotonic() + 2.5
                    except AssertionError:
                        pass
                else:
                    await asyncio.sleep(0.8)
            check(timeout_ev is not None, "no timeout event on the idle WebSocket session")
            check(took > 2.5, "the idle session expired after only %.1f s" % took)
            check(timeout_ev.get("session_id") == sid_idle, "timeout event", timeout_ev)
            expect_error(await idle_ws.keepalive(), 458)
            # The socket itself stays usable.
            expect(await idle_ws.ping(), "pong")
            expect(await busy_ws.keepalive(), "ack")
            expect(await poll_http.keepalive(), "ack")
            check(poll_http.keepalives >= 2, "long polls did not cycle (%d keepalives)"
                  % poll_http.keepalives)
            expect_error(await idle_http.keepalive(), 458)
            async with HttpClient() as h:
                r = await h.get("/janus/%d" % sid_idle_http)
                check(r.status == 404, "long poll of an expired session", repr(r))
            for c in (busy_ws, poll_http):
                expect(await c.destroy())
            check(sid_busy and sid_poll, "ids")
        finally:
            for c in (idle_ws, busy_ws, poll_http, idle_http):
                await c.close()


@tap.test("session_timeout = 0 never expires; a per-session timeout via Admin API applies")
async def test_timeout_admin():
    async with Server(args=["-s", "0"]):
        async with JanusClient("ws") as c, JanusClient("ws", admin=True) as a:
            never = await c.create_session()
            short = expect(await c.create())["data"]["id"]
            expect(await a.request("set_session_timeout", session_id=short, timeout=1))
            ev = await c.event(lambda m: m.get("janus") == "timeout", 6, "timeout event")
            check(ev.get("session_id") == short, "wrong session timed out", ev)
            expect(await c.keepalive(session_id=never), "ack")
            expect(await c.destroy(session_id=never))


# ---------------------------------------------------------------- malformed input

def storm_payloads(rng):
    deep = 100000
    p = [
        "[" * deep + "]" * deep,
        '{"a":' * deep + "1" + "}" * deep,
        "[" * deep,
        '{"janus":"ping","transaction":"t","x":' + "[" * 5000 + "]" * 5000 + "}",
        '{"janus":"create","transaction":"t","id":1e400}',
        '{"janus":"create","transaction":"t","id":99999999999999999999999999999}',
        '{"janus":"create","transaction":"t","id":18446744073709551615}',
        '{"janus":"create","transaction":"t","id":9223372036854775807}',
        '{"janus":"create","transaction":"t","id":-9223372036854775808}',
        '{"janus":"create","transaction":"t","id":1.5}',
        '{"janus":"keepalive","transaction":"t","session_id":9223372036854775807}',
        '{"janus":"keepalive","transaction":"t","session_id":-1}',
        '{"janus":"message","transaction":"t","session_id":1,"handle_id":-1}',
        '{"janus":"message","transaction":"t","session_id":1,"handle_id":0}',
        '{"janus":"ping","transaction":"t","n":-1e-400}',
        '{"janus":"ping\\u0000x","transaction":"t"}',
        '{"janus":"ping","transaction":"\\ud800"}',
        '{"janus":"ping","transaction":"t","janus":"create"}',
        '{"janus":null,"transaction":null}',
        '{"janus":"","transaction":""}',
        '{"janus":"' + "A" * 100000 + '","transaction":"t"}',
        '{"janus":"ping","transaction":"' + "T" * 200000 + '"}',
        '{"' + "k" * 1000 + '":1}',
        "{" + ",".join('"k%d":%d' % (i, i) for i in range(20000)) + "}",
        "", " ", "\n", "null", "true", "0", '""', "{}", "[]", "{", "}", "]", '"unterminated',
        "\ufeff{\"janus\":\"ping\",\"transaction\":\"bom\"}",
    ]
    for _ in range(40):
        p.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000))))
    for _ in range(20):
        # Valid-looking JSON with random damage.
        s = bytearray(json.dumps({"janus": rng.choice(["create", "attach", "message",
                                                       "trickle", "ping", "claim"]),
                                  "transaction": "r", "session_id": rng.getrandbits(60),
                                  "handle_id": rng.getrandbits(60),
                                  "body": {"audio": True}}).encode())
        for _ in range(rng.randint(1, 5)):
            s[rng.randrange(len(s))] = rng.getrandbits(8)
        p.append(bytes(s))
    p.append(b'{"janus":"ping","transaction":"\xff\xfe\xfd"}')
    p.append(b'{"janus":"ping","transaction":"\xc0\xaf"}')
    p.append(b'{"janus":"ping","transaction":"\xed\xa0\x80"}')
    return p


async def storm_ws(payloads):
    ws = await WsClient().open()
    for i, p in enumerate(payloads):
        try:
            # str goes as a text frame, bytes as a binary frame.
            await ws.ws.send(p)
        except websockets.ConnectionClosed:
            await ws.close()
            ws = await WsClient().open()
    # The storm socket still answers (after the errors queued before it).
    if not ws.closed:
        await ws.send({"janus": "ping", "transaction": "storm-end"})
        r = await ws.next(lambda m: m.get("transaction") == "storm-end", 10, "the last pong")
        expect(r, "pong")
    await ws.close()
    async with WsClient() as fresh:
        expect(await fresh.request({"janus": "ping"}, timeout=10), "pong")


async def storm_http(payloads):
    async with HttpClient(limit=20) as h:
        for p in payloads:
            for path in ("/janus", "/admin"):
                try:
                    await h.request("POST", path, data=p, timeout=10)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
        expect(await h.post("/janus", {"janus": "ping", "transaction": "after"}), "pong")


async def storm_raw(rng):
    reqs = [
        b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100)
                                         for i in range(2000)) + b"\r\n",
        b"POST /janus HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
        b"POST /janus HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /janus HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
        b"POST /janus HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"fffffffffffffffff\r\nabc\r\n",
        b"POST /janus HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"ja",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(200),  # a TLS ClientHello
        b"GET /janus/18446744073709551616 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /janus/99999999999999999999999999/1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /janus/info HTTP/1.0\r\n\r\n",
        b"\r\n\r\n\r\n",
    ]
    for _ in range(20):
        reqs.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000))))
    async def one(port, data):
        try:
            await raw_http(data, port=port, timeout=2)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, ValueError):
            pass
    # Some of these leave the server waiting for more bytes: send them all at
    # once rather than wait for each in turn.
    await asyncio.gather(*(one(port, data) for port in (8088, 8188, 7088, 7188)
                           for data in reqs))


@tap.test("malformed input storm over HTTP, WebSocket and raw TCP never crashes the server",
          timeout=90)
async def test_storm():
    rng = random.Random(20240601)
    payloads = storm_payloads(rng)
    async with Server() as srv:
        await storm_ws(payloads)
        await storm_http(payloads)
        await storm_raw(rng)
        check(srv.alive(), "the server died")
        async with JanusClient("ws") as c:
            expect(await c.ping(), "pong")
            await c.create_session()
            await c.attach_handle()
            tr = transaction()
            expect(await c.send({"janus": "message", "transaction": tr,
                                 "body": {"audio": True}}, c.session_id, c.handle_id), "ack")
            await c.plugin_event(tr)
            expect(await c.destroy())
        async with JanusClient("http") as c:
            expect(await c.ping(), "pong")


if __name__ == "__main__":
    tap.run()
