#!/usr/bin/env python3
"""HTTP transport specifics (janus-api-compat.md §4): paths, methods, long
poll, CORS, body limits and concurrency."""

import asyncio
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (ECHOTEST, HttpClient, JanusClient, Server, Tap, check,  # noqa: E402
                          expect, expect_error, raw_http, transaction)

tap = Tap(timeout=20)

LONGPOLL = 2  # seconds; the shared server gets STOA_TEST_LONGPOLL_SECONDS
MAX_REQUEST = 4096


async def new_session(h, with_handle=True):
    r = expect(await h.post("/janus", {"janus": "create", "transaction": transaction()}))
    sid = r["data"]["id"]
    hid = None
    if with_handle:
        r = expect(await h.post("/janus/%d" % sid, {"janus": "attach", "plugin": ECHOTEST,
                                                   "transaction": transaction()}))
        hid = r["data"]["id"]
    return sid, hid


async def send_message(h, sid, hid, body=None):
    tr = transaction()
    expect(await h.post("/janus/%d/%d" % (sid, hid),
                        {"janus": "message", "transaction": tr,
                         "body": body or {"audio": True}}), "ack")
    return tr


async def destroy(h, sid):
    expect(await h.post("/janus/%d" % sid, {"janus": "destroy", "transaction": transaction()}))


def json_reply(r):
    check(r.status == 200, "expected HTTP 200", repr(r))
    ct = r.headers.get("Content-Type", "")
    check(ct.startswith("application/json"), "Content-Type is %r" % ct, repr(r))
    return r.json()


# ---------------------------------------------------------------- long poll

@tap.test("long poll with maxev=1 returns one event object")
async def test_longpoll_maxev1():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        tr = await send_message(h, sid, hid)
        ev = json_reply(await h.get("/janus/%d?maxev=1" % sid))
        check(isinstance(ev, dict), "maxev=1 must give an object", ev)
        check(ev.get("janus") == "event" and ev.get("transaction") == tr, "event", ev)
        check(ev.get("sender") == hid and ev.get("session_id") == sid, "ids", ev)
        # No maxev at all behaves as maxev=1.
        tr = await send_message(h, sid, hid)
        ev = json_reply(await h.get("/janus/%d" % sid))
        check(isinstance(ev, dict) and ev.get("transaction") == tr, "default maxev", ev)
        await destroy(h, sid)


@tap.test("long poll with maxev>1 returns an array of queued events")
async def test_longpoll_array():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        trs = [await send_message(h, sid, hid) for _ in range(3)]
        await asyncio.sleep(0.3)
        evs = json_reply(await h.get("/janus/%d?maxev=2&rid=%d" % (sid, time.time() * 1000)))
        check(isinstance(evs, list) and len(evs) == 2, "expected an array of 2 events", evs)
        rest = json_reply(await h.get("/janus/%d?maxev=10" % sid))
        check(isinstance(rest, list) and len(rest) == 1, "expected an array of 1 event", rest)
        got = [e.get("transaction") for e in evs + rest]
        check(sorted(got) == sorted(trs), "events lost or duplicated", got, trs)
        await destroy(h, sid)


@tap.test("a pending long poll completes as soon as an event arrives")
async def test_longpoll_wakeup():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        t0 = time.monotonic()
        poll = asyncio.create_task(h.get("/janus/%d?maxev=1" % sid))
        await asyncio.sleep(0.3)
        tr = await send_message(h, sid, hid)
        ev = json_reply(await poll)
        check(ev.get("transaction") == tr, "wrong event", ev)
        check(time.monotonic() - t0 < LONGPOLL - 0.2, "the poll waited for its timeout")
        await destroy(h, sid)


@tap.test("long poll with nothing to send returns keepalive after the timeout")
async def test_longpoll_keepalive():
    async with HttpClient() as h:
        sid, _ = await new_session(h, with_handle=False)
        t0 = time.monotonic()
        ka = json_reply(await h.get("/janus/%d?maxev=1" % sid))
        took = time.monotonic() - t0
        check(ka == {"janus": "keepalive"}, "expected {\"janus\":\"keepalive\"}", ka)
        check(LONGPOLL - 0.5 <= took <= LONGPOLL + 2, "keepalive after %.1f s" % took)
        ka = json_reply(await h.get("/janus/%d?maxev=5" % sid))
        check(ka == [{"janus": "keepalive"}], "expected [{\"janus\":\"keepalive\"}]", ka)
        await destroy(h, sid)


@tap.test("claim over HTTP answers long polls pending on the old queue at once")
async def test_claim_wakes_poll():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        poll = asyncio.create_task(h.get("/janus/%d?maxev=1" % sid))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        expect(await h.post("/janus", {"janus": "claim", "transaction": transaction(),
                                       "session_id": sid}))
        r = await poll
        took = time.monotonic() - t0
        check(r.status == 200 and r.json() == {"janus": "keepalive"}, "old poll reply", repr(r))
        check(took < LONGPOLL - 0.5, "the old poll waited %.1f s (its full timeout)" % took)
        # The new queue gets the session's events.
        tr = await send_message(h, sid, hid)
        ev = json_reply(await h.get("/janus/%d?maxev=1" % sid))
        check(ev.get("transaction") == tr, "event after claim", ev)
        await destroy(h, sid)


@tap.test("long poll of an unknown or destroyed session gives 404")
async def test_longpoll_unknown():
    async with HttpClient() as h:
        r = await h.get("/janus/123456789")
        check(r.status == 404, "unknown session: expected 404", repr(r))
        sid, _ = await new_session(h, with_handle=False)
        await destroy(h, sid)
        r = await h.get("/janus/%d" % sid)
        check(r.status == 404, "destroyed session: expected 404", repr(r))


@tap.test("a long poll pending at destroy waits out its timeout with a keepalive, then 404")
async def test_longpoll_destroy():
    # As Janus does: waking the poll at once would make janus.js re-poll into
    # 404s and report "Lost connection" before it reads the destroy reply.
    async with HttpClient() as h:
        sid, _ = await new_session(h, with_handle=False)
        poll = asyncio.create_task(h.get("/janus/%d?maxev=1" % sid))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        await destroy(h, sid)
        await asyncio.sleep(0.5)
        check(not poll.done(), "the pending poll returned right after destroy")
        r = await poll
        elapsed = time.monotonic() - t0
        check(r.status == 200 and json_reply(r).get("janus") == "keepalive",
              "expected a keepalive at the poll timeout", repr(r))
        check(elapsed <= LONGPOLL + 1, "the poll hung past its timeout after destroy")
        r = await h.get("/janus/%d?maxev=1" % sid)
        check(r.status == 404, "a new poll after destroy must be 404", repr(r))


# ---------------------------------------------------------------- paths

@tap.test("GET /janus/<session>/<handle> redirects (302) to the session")
async def test_get_handle_redirect():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        r = await h.get("/janus/%d/%d" % (sid, hid))
        check(r.status == 302, "expected 302", repr(r))
        loc = r.headers.get("Location", "")
        check(loc.endswith("/janus/%d" % sid), "Location is %r" % loc)
        await destroy(h, sid)


@tap.test("bad GET paths give 404: no session, 3 components, non-numeric, outside base")
async def test_bad_paths():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        for path in ("/janus", "/janus/", "/janus/%d/%d/5" % (sid, hid), "/janus/abc",
                     "/janus/0", "/janus/-3", "/janus/%d/abc" % sid):
            r = await h.get(path)
            check(r.status == 404, "GET %s: expected 404" % path, repr(r))
        for path in ("/janus/abc", "/janus/%d/%d/5" % (sid, hid)):
            r = await h.request("POST", path, obj={"janus": "keepalive",
                                                   "transaction": "t"})
            check(r.status == 404, "POST %s: expected 404" % path, repr(r))
        await destroy(h, sid)


@tap.test("GET /janus/info and /janus/ping")
async def test_get_info_ping():
    async with HttpClient() as h:
        # Janus runs these as an info/ping request, so the reply is the same
        # as for a POSTed one (janus field, a transaction).
        info = json_reply(await h.get("/janus/info"))
        check(ECHOTEST in info.get("plugins", {}), "no plugins in server_info", info)
        check(info.get("janus") == "server_info", 'GET /janus/info lacks "janus":"server_info"',
              info)
        pong = json_reply(await h.get("/janus/ping"))
        check(pong.get("janus") == "pong", "pong", pong)


@tap.test("POST /janus/info and /janus/ping give 400")
async def test_post_info():
    async with HttpClient() as h:
        for path in ("/janus/info", "/janus/ping"):
            r = await h.request("POST", path, obj={"janus": "info", "transaction": "t"})
            check(r.status == 400, "POST %s: expected 400" % path, repr(r))


@tap.test("other methods give a JSON 450 error")
async def test_put():
    async with HttpClient() as h:
        for method in ("PUT", "DELETE", "PATCH"):
            r = await h.request(method, "/janus", obj={"janus": "ping", "transaction": "t"})
            e = json_reply(r)
            expect_error(e, 450)


@tap.test("OPTIONS preflight: 200 with CORS headers echoing the request")
async def test_options():
    async with HttpClient() as h:
        for path in ("/janus", "/janus/12345", "/admin"):
            r = await h.request("OPTIONS", path, headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-custom"})
            check(r.status == 200, "OPTIONS %s: expected 200" % path, repr(r))
            check(r.body == b"", "preflight with a body", repr(r))
            check(r.headers.get("Access-Control-Allow-Origin") == "*", "Allow-Origin", repr(r))
            check(r.headers.get("Access-Control-Allow-Methods") == "POST", "Allow-Methods",
                  repr(r))
            check(r.headers.get("Access-Control-Allow-Headers") == "content-type, x-custom",
                  "Allow-Headers", repr(r))
            check(r.headers.get("Access-Control-Max-Age") == "86400", "Max-Age", repr(r))


@tap.test("CORS headers on normal replies and on errors")
async def test_cors_normal():
    async with HttpClient() as h:
        for path, body in (("/janus", {"janus": "ping", "transaction": "t"}),
                           ("/janus", {"janus": "keepalive", "transaction": "t",
                                       "session_id": 99})):
            r = await h.request("POST", path, obj=body, headers={"Origin": "https://x.example"})
            json_reply(r)
            check(r.headers.get("Access-Control-Allow-Origin") == "*", "Allow-Origin", repr(r))
        r = await h.get("/janus/info")
        check(r.headers.get("Access-Control-Allow-Origin") == "*", "Allow-Origin on GET", repr(r))
        r = await h.get("/janus/1")
        check(r.headers.get("Access-Control-Allow-Origin") == "*", "Allow-Origin on 404",
              repr(r))


@tap.test("path ids: copied into the body; a conflicting body id gives 457")
async def test_path_conflict():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        r = expect(await h.post("/janus/%d" % sid, {"janus": "keepalive",
                                                   "transaction": "t1"}), "ack")
        check(r.get("session_id") == sid, "path session id not used", r)
        r = expect(await h.post("/janus/%d" % sid, {"janus": "keepalive", "transaction": "t2",
                                                   "session_id": sid}), "ack")
        expect_error(await h.post("/janus/%d" % sid, {"janus": "keepalive",
                                                      "transaction": "t3",
                                                      "session_id": sid + 1}), 457)
        expect_error(await h.post("/janus/%d/%d" % (sid, hid),
                                  {"janus": "hangup", "transaction": "t4",
                                   "handle_id": hid + 1}), 457)
        # Ids in the body at the root path work too (janus.js claim, sendBeacon).
        expect(await h.post("/janus", {"janus": "keepalive", "transaction": "t5",
                                       "session_id": sid}), "ack")
        await destroy(h, sid)


@tap.test("malformed JSON gives 454, a JSON array 455, a scalar 455")
async def test_bad_json():
    async with HttpClient() as h:
        e = expect_error(await h.post("/janus", '{"janus": "ping", '), 454)
        check("transaction" not in e, "454 must have no transaction", e)
        expect_error(await h.post("/janus", b"\xff\xfe garbage"), 454)
        expect_error(await h.post("/janus", '[{"janus":"ping","transaction":"t"}]'), 455)
        # jansson (as Janus uses it) refuses a bare scalar as a parse error.
        e = await h.post("/janus", '42')
        check(e.get("janus") == "error" and e["error"]["code"] in (454, 455),
              "a scalar body must give 454 or 455", e)
        # Content-Type is not checked (janus.js uses sendBeacon with text/plain).
        r = await h.request("POST", "/janus", data='{"janus":"ping","transaction":"t"}',
                            headers={"Content-Type": "text/plain"})
        expect(json_reply(r), "pong")


@tap.test("an oversized body is refused; a body under the limit works")
async def test_oversized():
    async with HttpClient() as h:
        pad = "a" * (MAX_REQUEST - 200)
        expect(await h.post("/janus", {"janus": "ping", "transaction": "t", "pad": pad}), "pong")
        big = json.dumps({"janus": "ping", "transaction": "t", "pad": "b" * (MAX_REQUEST * 4)})
        try:
            r = await h.request("POST", "/janus", data=big)
        except Exception as e:  # connection closed while sending is a refusal too
            r = e
        if not isinstance(r, Exception):
            refused = r.status in (413, 400) or (r.status == 200 and
                                                 r.json().get("janus") == "error")
            check(refused, "oversized request was not refused", repr(r))
        expect(await h.post("/janus", {"janus": "ping", "transaction": "t"}), "pong")


@tap.test("an empty POST closes the connection; the server keeps working")
async def test_empty_post():
    status, headers, body = await raw_http(
        "POST /janus HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", timeout=5)
    check(status in (None, 400), "unexpected reply to an empty POST: %s %r" % (status, body))
    async with HttpClient() as h:
        expect(await h.post("/janus", {"janus": "ping", "transaction": "t"}), "pong")


@tap.test("200 concurrent requests are all answered")
async def test_concurrency():
    async with HttpClient(limit=0) as h:
        async def one(i):
            if i % 2:
                r = await h.post("/janus", {"janus": "create", "transaction": "c%d" % i},
                                 timeout=20)
                expect(r)
                return r["data"]["id"]
            r = await h.post("/janus", {"janus": "info", "transaction": "i%d" % i}, timeout=20)
            expect(r, "server_info")
            check(r["transaction"] == "i%d" % i, "transaction mix-up", r)
            return None
        results = await asyncio.gather(*(one(i) for i in range(200)))
        sids = [s for s in results if s is not None]
        check(len(set(sids)) == 100, "duplicate session ids", sids)
        await asyncio.gather(*(destroy(h, s) for s in sids))


@tap.test("events are queued per session while nobody polls")
async def test_queue_without_poll():
    async with HttpClient() as h:
        sid, hid = await new_session(h)
        trs = [await send_message(h, sid, hid) for _ in range(5)]
        await asyncio.sleep(0.3)
        got = []
        while len(got) < 5:
            evs = json_reply(await h.get("/janus/%d?maxev=3" % sid))
            check(isinstance(evs, list) and evs and evs[0].get("janus") != "keepalive",
                  "events lost", evs, got)
            got += [e.get("transaction") for e in evs]
        check(sorted(got) == sorted(trs), "wrong events", got)
        await destroy(h, sid)


# ---------------------------------------------------------------- admin paths over HTTP

@tap.test("admin HTTP paths: GET info/ping, POST info 450, GET other 454")
async def test_admin_paths():
    async with HttpClient(port=7088) as h:
        info = json_reply(await h.get("/admin/info"))
        check(ECHOTEST in info.get("plugins", {}), "no plugins in server_info", info)
        check(info.get("janus") == "server_info", 'GET /admin/info lacks "janus":"server_info"',
              info)
        check(json_reply(await h.get("/admin/ping")).get("janus") == "pong", "pong")
        expect_error(json_reply(await h.request("POST", "/admin/info",
                                                obj={"janus": "info",
                                                     "transaction": "t"})), 450)
        expect_error(json_reply(await h.get("/admin/12345")), 454)
        expect_error(json_reply(await h.get("/admin")), 454)
        r = await h.get("/janus/info")
        check(r.status == 404, "the Janus API is not on the admin port", repr(r))


@tap.test("the Janus API is not served on the admin path of the main port")
async def test_no_admin_on_main():
    async with HttpClient() as h:
        r = await h.request("POST", "/admin", obj={"janus": "list_sessions",
                                                   "transaction": "t"})
        check(r.status == 404, "expected 404 for /admin on the public port", repr(r))


# ---------------------------------------------------------------- enforce_cors

@tap.test("enforce_cors with allow_origin: 403 for a wrong Origin, 200 for the right one")
async def test_enforce_cors():
    cfg = 'cors: {\n allow_origin = "https://good.example"\n enforce_cors = true\n}\n'
    async with Server(transports={"http": cfg}, offset=10) as srv:
        async with HttpClient(srv.http_port) as h:
            ping = {"janus": "ping", "transaction": "t"}
            r = await h.request("POST", "/janus", obj=ping,
                                headers={"Origin": "https://evil.example"})
            check(r.status == 403, "wrong Origin: expected 403", repr(r))
            check(r.body == b"", "403 with a body", repr(r))
            r = await h.request("POST", "/janus", obj=ping,
                                headers={"Origin": "https://good.example"})
            expect(json_reply(r), "pong")
            check(r.headers.get("Access-Control-Allow-Origin") == "https://good.example",
                  "Allow-Origin", repr(r))
            check(r.headers.get("Access-Control-Allow-Credentials") == "true",
                  "Allow-Credentials", repr(r))
            check("Origin" in r.headers.get("Vary", ""), "Vary: Origin", repr(r))
            r = await h.request("POST", "/janus", obj=ping,
                                headers={"Referer": "https://good.example/page.html"})
            expect(json_reply(r), "pong")
            r = await h.request("POST", "/janus", obj=ping,
                                headers={"Referer": "https://evil.example/page.html"})
            check(r.status == 403, "wrong Referer: expected 403", repr(r))


@tap.test("base_path from the transport config moves the API")
async def test_base_path():
    async with Server(transports={"http": 'general: {\n base_path = "/api/v1"\n}\n'},
                      offset=10) as srv:
        async with HttpClient(srv.http_port) as h:
            expect(await h.post("/api/v1", {"janus": "ping", "transaction": "t"}), "pong")
            r = await h.request("POST", "/janus", obj={"janus": "ping", "transaction": "t"})
            check(r.status == 404, "old base path still answers", repr(r))


@tap.test("a JanusClient over HTTP gets events through its long poll")
async def test_client_roundtrip():
    async with JanusClient("http") as c:
        await c.create_session()
        await c.attach_handle()
        tr = transaction()
        expect(await c.send({"janus": "message", "transaction": tr, "body": {"audio": True}},
                            c.session_id, c.handle_id), "ack")
        await c.plugin_event(tr)
        expect(await c.destroy())


if __name__ == "__main__":
    tap.run(shared=Server(config="general: {\n max_request_size = %d\n}\n" % MAX_REQUEST,
                          env={"STOA_TEST_LONGPOLL_SECONDS": str(LONGPOLL)}))
