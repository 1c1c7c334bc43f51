#!/usr/bin/env python3
"""Admin/Monitor API (janus-api-compat.md §6) over HTTP /admin (7088) and
WebSocket janus-admin-protocol (7188), with admin_secret enforced."""

import asyncio
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (ECHOTEST, JanusClient, Server, Tap, check, expect,  # noqa: E402
                          expect_error)

tap = Tap(timeout=20)

ADMIN_SECRET = "overlord-test"
API_SECRET = "apisecret-test"
CONFIG = """general: {
    admin_secret = "%s"
    api_secret = "%s"
}
""" % (ADMIN_SECRET, API_SECRET)


def admin(transport, secret=ADMIN_SECRET):
    return JanusClient(transport, admin=True, admin_secret=secret)


def janus(transport="ws"):
    return JanusClient(transport, apisecret=API_SECRET)


async def janus_session(c, opaque_id=None):
    await c.create_session()
    fields = {"opaque_id": opaque_id} if opaque_id else {}
    await c.attach_handle(**fields)
    return c.session_id, c.handle_id


@tap.both("admin_secret: missing or wrong gives 403; info and ping need none")
async def test_admin_secret(transport):
    async with admin(transport, secret=None) as a:
        r = expect_error(await a.request("list_sessions"), 403)
        check(isinstance(r.get("transaction"), str), "403 lacks the transaction", r)
        expect_error(await a.request("list_sessions", admin_secret="wrong"), 403)
        expect_error(await a.request("get_status", admin_secret=""), 403)
        expect_error(await a.request("list_sessions", admin_secret=None), 403)
        r = expect(await a.request("info"), "server_info")
        check(ECHOTEST in r.get("plugins", {}), "server_info lacks plugins", r)
        expect(await a.request("ping"), "pong")
        expect(await a.request("list_sessions", admin_secret=ADMIN_SECRET))


@tap.both("the Janus API apisecret is not admin auth")
async def test_apisecret_not_admin(transport):
    async with admin(transport, secret=None) as a:
        expect_error(await a.request("list_sessions", apisecret=API_SECRET), 403)
        expect_error(await a.request("list_sessions", admin_secret=API_SECRET), 403)
        expect_error(await a.request("list_sessions", token=API_SECRET), 403)


@tap.both("the admin secret is not Janus API auth")
async def test_admin_secret_not_janus(transport):
    async with JanusClient(transport) as c:
        expect_error(await c.request("create", admin_secret=ADMIN_SECRET), 403)
        expect_error(await c.request("create", apisecret=ADMIN_SECRET), 403)


@tap.both("get_status")
async def test_get_status(transport):
    async with admin(transport) as a:
        r = expect(await a.request("get_status"))
        st = r.get("status")
        check(isinstance(st, dict), "no status object", r)
        for k in ("token_auth", "log_timestamps", "log_colors"):
            check(isinstance(st.get(k), bool), "status.%s not a boolean" % k, r)
        for k in ("session_timeout", "reclaim_session_timeout", "candidates_timeout",
                  "log_level", "min_nack_queue", "no_media_timer", "slowlink_threshold"):
            check(isinstance(st.get(k), int), "status.%s not an integer" % k, r)
        check(st["session_timeout"] == 60, "default session_timeout", r)
        check(st["log_level"] == 4, "default log_level", r)


@tap.both("list_sessions and list_handles")
async def test_list(transport):
    async with admin(transport) as a, janus() as c:
        sid, hid = await janus_session(c)
        hid2 = (expect(await c.attach(ECHOTEST)))["data"]["id"]
        r = expect(await a.request("list_sessions"))
        check(sid in r.get("sessions", []), "session not listed", r)
        r = expect(await a.request("list_handles", session_id=sid))
        check(r.get("session_id") == sid, "list_handles lacks session_id", r)
        check(sorted(r.get("handles", [])) == sorted([hid, hid2]), "handles", r)
        expect_error(await a.request("list_handles", session_id=987654321), 458)
        expect(await c.destroy())
        r = expect(await a.request("list_sessions"))
        check(sid not in r["sessions"], "destroyed session still listed", r)


@tap.both("handle_info: plugin, plugin_specific, opaque_id")
async def test_handle_info(transport):
    async with admin(transport) as a, janus() as c:
        sid, hid = await janus_session(c, opaque_id="opaque-admin-1")
        r = expect(await a.request("handle_info", session_id=sid, handle_id=hid))
        check(r.get("session_id") == sid and r.get("handle_id") == hid, "ids", r)
        info = r.get("info", {})
        check(info.get("plugin") == ECHOTEST, "info.plugin", r)
        check(info.get("opaque_id") == "opaque-admin-1", "info.opaque_id", r)
        check(info.get("session_id") == sid and info.get("handle_id") == hid, "info ids", r)
        check(isinstance(info.get("plugin_specific"), dict) and info["plugin_specific"],
              "info.plugin_specific empty", r)
        check(isinstance(info.get("session_timeout"), int), "info.session_timeout", r)
        check(isinstance(info.get("created"), int), "info.created", r)
        check(isinstance(info.get("flags"), dict), "info.flags", r)
        r = expect(await a.request("handle_info", session_id=sid, handle_id=hid,
                                   plugin_only=True))
        check("flags" not in r["info"], "plugin_only still has flags", r)
        check(r["info"].get("plugin") == ECHOTEST, "plugin_only lacks plugin", r)
        expect_error(await a.request("handle_info", session_id=sid, handle_id=hid,
                                     plugin_only="yes"), 467)
        expect_error(await a.request("handle_info", session_id=sid, handle_id=12345), 459)
        expect(await c.destroy())


@tap.both("set_session_timeout: global, and per session (-1, 0, N; < -1 is 467)")
async def test_set_session_timeout(transport):
    async with admin(transport) as a, janus() as c:
        try:
            r = expect(await a.request("set_session_timeout", timeout=120))
            check(r.get("timeout") == 120, "echo", r)
            st = expect(await a.request("get_status"))["status"]
            check(st["session_timeout"] == 120, "get_status does not show 120", st)
            expect_error(await a.request("set_session_timeout", timeout=-1), 467)
            expect_error(await a.request("set_session_timeout", timeout="5"), 467)
            expect_error(await a.request("set_session_timeout"), 456)
        finally:
            expect(await a.request("set_session_timeout", timeout=60))
        sid, hid = await janus_session(c)
        for t in (-1, 0, 30):
            r = expect(await a.request("set_session_timeout", session_id=sid, timeout=t))
            check(r.get("timeout") == t and r.get("session_id") == sid, "echo", r)
        info = expect(await a.request("handle_info", session_id=sid, handle_id=hid))["info"]
        check(info.get("session_timeout") == 30, "per-session timeout not applied", info)
        expect(await a.request("set_session_timeout", session_id=sid, timeout=-1))
        info = expect(await a.request("handle_info", session_id=sid, handle_id=hid))["info"]
        check(info.get("session_timeout") == 60, "-1 does not restore the global value", info)
        expect_error(await a.request("set_session_timeout", session_id=sid, timeout=-2), 467)
        expect(await c.destroy())


@tap.both("set_log_level: 0..7 accepted, 8 is 467")
async def test_set_log_level(transport):
    async with admin(transport) as a:
        try:
            r = expect(await a.request("set_log_level", level=5))
            check(r.get("level") == 5, "echo", r)
            st = expect(await a.request("get_status"))["status"]
            check(st["log_level"] == 5, "get_status does not show 5", st)
            expect_error(await a.request("set_log_level", level=8), 467)
            expect_error(await a.request("set_log_level", level=-1), 467)
            expect_error(await a.request("set_log_level", level="4"), 467)
            expect_error(await a.request("set_log_level"), 456)
        finally:
            expect(await a.request("set_log_level", level=4))


@tap.both("set_log_timestamps and set_log_colors")
async def test_set_log_bools(transport):
    async with admin(transport) as a:
        r = expect(await a.request("set_log_timestamps", timestamps=True))
        check(r.get("log_timestamps") is True, "echo", r)
        expect(await a.request("set_log_timestamps", timestamps=False))
        expect_error(await a.request("set_log_timestamps", timestamps=1), 467)
        r = expect(await a.request("set_log_colors", colors=False))
        check(r.get("log_colors") is False, "echo", r)


@tap.both("accept_new_sessions false: Janus API create gets 472")
async def test_accept_new_sessions(transport):
    async with admin(transport) as a, janus(transport) as c:
        try:
            r = expect(await a.request("accept_new_sessions", accept=False))
            check(r.get("accept") is False, "echo", r)
            expect_error(await c.create(), 472)
            info = expect(await c.info(), "server_info")
            check(info.get("accepting-new-sessions") is False, "server_info not updated", info)
            expect_error(await a.request("accept_new_sessions", accept="no"), 467)
        finally:
            expect(await a.request("accept_new_sessions", accept=True))
        await c.create_session()
        expect(await c.destroy())


@tap.both("destroy_session: the session is gone over the Janus API")
async def test_destroy_session(transport):
    async with admin(transport) as a, janus() as c:
        sid, _ = await janus_session(c)
        r = expect(await a.request("destroy_session", session_id=sid))
        check(r.get("session_id") == sid, "reply lacks session_id", r)
        expect_error(await c.keepalive(), 458)
        expect_error(await a.request("destroy_session", session_id=sid), 458)


@tap.both("detach_handle: the Janus client gets `detached`")
async def test_detach_handle(transport):
    async with admin(transport) as a, janus("ws") as c:
        sid, hid = await janus_session(c)
        expect(await a.request("detach_handle", session_id=sid, handle_id=hid))
        ev = await c.event(lambda m: m.get("janus") == "detached", what="detached")
        check(ev.get("sender") == hid and ev.get("session_id") == sid, "detached fields", ev)
        expect_error(await c.detach(), 459)
        expect(await c.destroy())


@tap.both("hangup_webrtc keeps the handle")
async def test_hangup_webrtc(transport):
    async with admin(transport) as a, janus() as c:
        sid, hid = await janus_session(c)
        expect(await a.request("hangup_webrtc", session_id=sid, handle_id=hid))
        r = expect(await a.request("list_handles", session_id=sid))
        check(hid in r["handles"], "hangup removed the handle", r)
        expect(await c.destroy())


@tap.both("message_plugin to echotest; unknown plugin 460")
async def test_message_plugin(transport):
    async with admin(transport) as a:
        r = expect(await a.request("message_plugin", plugin=ECHOTEST, request={"x": 1}))
        check(isinstance(r.get("response"), dict), "no response object", r)
        check(r["response"].get("echotest") == "success", "response.echotest", r)
        expect_error(await a.request("message_plugin", plugin="janus.plugin.nope",
                                     request={}), 460)
        expect_error(await a.request("message_plugin", plugin=ECHOTEST), 456)
        expect_error(await a.request("message_plugin", plugin=ECHOTEST, request="x"), 467)


@tap.both("verbs at the wrong level give 457")
async def test_wrong_level(transport):
    async with admin(transport) as a, janus() as c:
        sid, hid = await janus_session(c)
        expect_error(await a.request("list_sessions", session_id=sid), 457)
        expect_error(await a.request("list_handles"), 457)
        expect_error(await a.request("handle_info"), 457)
        expect_error(await a.request("handle_info", session_id=sid), 457)
        expect_error(await a.request("list_handles", session_id=sid, handle_id=hid), 457)
        expect_error(await a.request("message_plugin", session_id=sid, plugin=ECHOTEST,
                                     request={}), 457)
        expect_error(await a.request("get_status", session_id=sid, handle_id=hid), 457)
        expect_error(await a.request("frobnicate"), 457)
        expect_error(await a.request("create"), 457)
        expect_error(await a.request("attach", session_id=sid, plugin=ECHOTEST), 457)
        expect(await c.destroy())


@tap.both("token verbs without stored-token auth give 490")
async def test_tokens_disabled(transport):
    async with admin(transport) as a:
        expect_error(await a.request("add_token", token="abc"), 490)
        expect_error(await a.request("list_tokens"), 490)
        expect_error(await a.request("allow_token", token="abc", plugins=[ECHOTEST]), 490)
        expect_error(await a.request("disallow_token", token="abc", plugins=[ECHOTEST]), 490)
        expect_error(await a.request("remove_token", token="abc"), 490)


@tap.both("admin envelope errors: missing transaction and janus")
async def test_admin_envelope(transport):
    async with admin(transport) as a:
        r = expect_error(await a.send({"janus": "get_status", "transaction": 5}), 467)
        check("transaction" not in r, "error must carry no transaction", r)
        expect_error(await a.send({"transaction": "t"}), 456)


@tap.test("admin API over both transports sees the same state")
async def test_same_state():
    async with admin("http") as h, admin("ws") as w, janus("http") as c:
        sid = await c.create_session()
        r1 = expect(await h.request("list_sessions"))
        r2 = expect(await w.request("list_sessions"))
        check(sid in r1["sessions"] and sid in r2["sessions"], "listing differs", r1, r2)
        info = expect(await w.request("list_handles", session_id=sid))
        check(info["handles"] == [], "new session has handles", info)
        expect(await c.destroy())


@tap.test("admin WebSocket: several requests in one frame")
async def test_admin_ws_frame():
    async with admin("ws") as a:
        await a.ws.send('{"janus":"ping","transaction":"a1"}'
                        '{"janus":"get_status","transaction":"a2","admin_secret":"%s"}'
                        % ADMIN_SECRET)
        r1 = await a.ws.recv()
        r2 = await a.ws.recv()
        check(r1.get("transaction") == "a1" and r1.get("janus") == "pong", "first", r1)
        check(r2.get("transaction") == "a2" and r2.get("janus") == "success", "second", r2)
        await asyncio.sleep(0)


if __name__ == "__main__":
    tap.run(shared=Server(config=CONFIG))
