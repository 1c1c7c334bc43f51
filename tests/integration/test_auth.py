#!/usr/bin/env python3
"""Janus API authentication (janus-api-compat.md §7): api_secret, stored
tokens managed through the Admin API, HMAC-signed tokens, and both."""

import base64
import hashlib
import hmac
import os
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (ECHOTEST, HttpClient, JanusClient, Server, Tap, check,  # noqa: E402
                          expect, expect_error)

tap = Tap(timeout=20)

SECRET = "janusrocks-test"
TOKEN_KEY = "token-key-test"
FAST_POLL = {"STOA_TEST_LONGPOLL_SECONDS": "1"}


def signed_token(key=TOKEN_KEY, expiry=None, realm="janus", descriptors=(ECHOTEST,),
                 tamper=False):
    if expiry is None:
        expiry = int(time.time()) + 3600
    data = ",".join([str(expiry), realm] + list(descriptors))
    sig = base64.b64encode(hmac.new(key.encode(), data.encode(), hashlib.sha1).digest())
    sig = sig.decode()
    if tamper:
        sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    return data + ":" + sig


def admin(transport="http"):
    return JanusClient(transport, admin=True)


async def poll_status(sid, query):
    async with HttpClient() as h:
        r = await h.get("/janus/%d?maxev=1&%s" % (sid, query), timeout=10)
        return r


# ---------------------------------------------------------------- api_secret

async def check_api_secret(transport):
    async with JanusClient(transport) as c:
        expect_error(await c.create(), 403)
        expect_error(await c.create(apisecret="wrong"), 403)
        expect_error(await c.create(apisecret=SECRET + "x"), 403)
        expect_error(await c.create(apisecret=""), 403)
        expect(await c.info(), "server_info")
        expect(await c.ping(), "pong")
        info = expect(await c.info(), "server_info")
        check(info.get("api_secret") is True, "server_info.api_secret should be true", info)
    async with JanusClient(transport, apisecret=SECRET) as c:
        sid = await c.create_session()
        await c.attach_handle()
        expect(await c.keepalive(), "ack")
        # Session-level requests need it too.
        r = await c.send({"janus": "keepalive", "apisecret": "wrong"}, session_id=sid)
        expect_error(r, 403)
        r = expect_error(await c.send({"janus": "attach", "plugin": ECHOTEST,
                                       "apisecret": None}, session_id=sid), 403)
        check(r.get("session_id") == sid, "403 lacks session_id", r)
        expect(await c.destroy())


@tap.test("api_secret in stoa.jcfg: create needs it, info/ping do not [http+ws]")
async def test_api_secret_config():
    async with Server(config='general: {\n api_secret = "%s"\n}\n' % SECRET, env=FAST_POLL):
        await check_api_secret("http")
        await check_api_secret("ws")


@tap.test("api_secret from -a: the same rules [http+ws]")
async def test_api_secret_cli():
    async with Server(args=["-a", SECRET]):
        await check_api_secret("http")
        await check_api_secret("ws")


@tap.test("long poll with a wrong or missing apisecret gives HTTP 403")
async def test_api_secret_longpoll():
    async with Server(config='general: {\n api_secret = "%s"\n}\n' % SECRET, env=FAST_POLL):
        async with JanusClient("http", apisecret=SECRET, poll=False) as c:
            sid = await c.create_session()
            for q in ("apisecret=wrong", "rid=1", "apisecret="):
                r = await poll_status(sid, q)
                check(r.status == 403, "long poll with %r: expected 403" % q, repr(r))
                check(r.body == b"", "403 with a body", repr(r))
            r = await poll_status(sid, "apisecret=" + SECRET)
            check(r.status == 200 and r.json() == {"janus": "keepalive"},
                  "long poll with the right secret", repr(r))
            # An unknown session with the right secret is 404, not 403.
            r = await poll_status(123456789, "apisecret=" + SECRET)
            check(r.status == 404, "unknown session: expected 404", repr(r))
            expect(await c.destroy())


# ---------------------------------------------------------------- stored tokens

@tap.test("stored tokens: add_token, create/attach with and without a token [http+ws]")
async def test_stored_tokens():
    async with Server(config="general: {\n token_auth = true\n}\n", env=FAST_POLL):
        async with admin() as a:
            r = expect(await a.request("add_token", token="tok-echo", plugins=[ECHOTEST]))
            check(r.get("data", {}).get("plugins") == [ECHOTEST], "add_token reply", r)
            st = expect(await a.request("get_status"))["status"]
            check(st.get("token_auth") is True, "get_status.token_auth", st)
        for transport in ("http", "ws"):
            async with JanusClient(transport) as c:
                expect_error(await c.create(), 403)
                expect_error(await c.create(token="nope"), 403)
                expect(await c.ping(), "pong")
                info = expect(await c.info(), "server_info")
                check(info.get("auth_token") is True, "server_info.auth_token", info)
            async with JanusClient(transport, token="tok-echo") as c:
                sid = await c.create_session()
                await c.attach_handle()
                expect(await c.keepalive(), "ack")
                expect_error(await c.send({"janus": "keepalive", "token": "nope"},
                                          session_id=sid), 403)
                if transport == "http":
                    r = await poll_status(sid, "token=nope")
                    check(r.status == 403, "long poll with a wrong token", repr(r))
                    r = await poll_status(sid, "token=tok-echo")
                    check(r.status == 200, "long poll with the token", repr(r))
                expect(await c.destroy())


@tap.test("stored tokens: allow/disallow/list/remove, 470 for unknown, 405 on attach")
async def test_token_admin():
    async with Server(config="general: {\n token_auth = true\n}\n"):
        async with admin("ws") as a, JanusClient("ws", token="tok-none") as c:
            r = expect(await a.request("add_token", token="tok-none", plugins=[]))
            check(r["data"]["plugins"] == [], "empty plugin list", r)
            r = expect(await a.request("add_token", token="tok-all"))
            check(ECHOTEST in r["data"]["plugins"], "no plugins means all", r)
            r = expect(await a.request("add_token", token="tok-skip",
                                       plugins=["janus.plugin.nope", ECHOTEST]))
            check(r["data"]["plugins"] == [ECHOTEST], "unknown plugins are skipped", r)
            expect_error(await a.request("add_token"), 456)
            expect_error(await a.request("add_token", token=""), 467)
            expect_error(await a.request("add_token", token="x", plugins="all"), 467)

            await c.create_session()
            r = expect_error(await c.attach(ECHOTEST), 405)
            check(ECHOTEST in r["error"]["reason"], "405 reason names the plugin", r)

            r = expect(await a.request("allow_token", token="tok-none", plugins=[ECHOTEST]))
            check(r["data"]["plugins"] == [ECHOTEST], "allow_token reply", r)
            await c.attach_handle()
            r = expect(await a.request("disallow_token", token="tok-none",
                                       plugins=[ECHOTEST]))
            check(r["data"]["plugins"] == [], "disallow_token reply", r)
            expect_error(await c.attach(ECHOTEST), 405)

            expect_error(await a.request("allow_token", token="unknown", plugins=[ECHOTEST]),
                         470)
            expect_error(await a.request("disallow_token", token="unknown",
                                         plugins=[ECHOTEST]), 470)
            expect_error(await a.request("allow_token", token="tok-none", plugins=[]), 467)
            expect_error(await a.request("allow_token", token="tok-none",
                                         plugins=["janus.plugin.nope"]), 467)
            expect_error(await a.request("allow_token", token="tok-none"), 456)

            r = expect(await a.request("list_tokens"))
            tokens = {t["token"]: t["allowed_plugins"] for t in r["data"]["tokens"]}
            # "tok-all" was given every plugin loaded (echotest and videoroom).
            check(ECHOTEST in tokens.get("tok-all", []) and len(tokens["tok-all"]) >= 2
                  and tokens.get("tok-skip") == [ECHOTEST], "list_tokens", r)
            check("tok-none" not in tokens, "tokens without plugins are left out", r)

            expect(await a.request("remove_token", token="tok-all"))
            async with JanusClient("ws", token="tok-all") as d:
                expect_error(await d.create(), 403)
            r = expect(await a.request("list_tokens"))
            check("tok-all" not in [t["token"] for t in r["data"]["tokens"]], "not removed", r)
            # The session made with a token keeps working until the token goes.
            expect(await c.keepalive(), "ack")
            expect(await a.request("remove_token", token="tok-none"))
            expect_error(await c.keepalive(), 403)
            # Janus answers 490 when the removal fails (the token is unknown).
            expect_error(await a.request("remove_token", token="tok-none"), 490)


# ---------------------------------------------------------------- signed tokens

async def check_signed(transport):
    async with JanusClient(transport) as c:
        expect_error(await c.create(), 403)
        expect_error(await c.create(token=signed_token(expiry=int(time.time()) - 10)), 403)
        expect_error(await c.create(token=signed_token(realm="other")), 403)
        expect_error(await c.create(token=signed_token(tamper=True)), 403)
        expect_error(await c.create(token=signed_token(key="other-key")), 403)
        expect_error(await c.create(token="no-colon-here"), 403)
        expect_error(await c.create(token=":"), 403)
        expect_error(await c.create(token="123:abc"), 403)
        expect_error(await c.create(token="notanumber,janus:" +
                                    signed_token().split(":")[1]), 403)
        expect(await c.ping(), "pong")
    good = signed_token()
    async with JanusClient(transport, token=good) as c:
        await c.create_session()
        await c.attach_handle()
        expect(await c.keepalive(), "ack")
        expect(await c.destroy())
    # Valid for the core, but without the plugin descriptor: attach gets 405.
    async with JanusClient(transport, token=signed_token(descriptors=())) as c:
        await c.create_session()
        expect_error(await c.attach(ECHOTEST), 405)
        expect(await c.destroy())
    async with JanusClient(transport, token=signed_token(descriptors=("janus.plugin.x",
                                                                      ECHOTEST))) as c:
        await c.create_session()
        await c.attach_handle()
        expect(await c.destroy())


@tap.test("signed tokens: valid, expired, wrong realm, bad signature, plugin descriptor "
          "[http+ws]")
async def test_signed_tokens():
    config = 'general: {\n token_auth = true\n token_auth_secret = "%s"\n}\n' % TOKEN_KEY
    async with Server(config=config):
        await check_signed("http")
        await check_signed("ws")


@tap.test("signed tokens from -T; token admin verbs give 490")
async def test_signed_cli():
    async with Server(args=["-T", TOKEN_KEY]):
        await check_signed("ws")
        async with admin() as a:
            expect_error(await a.request("add_token", token="x", plugins=[ECHOTEST]), 490)
            expect_error(await a.request("list_tokens"), 490)
            expect_error(await a.request("allow_token", token="x", plugins=[ECHOTEST]), 490)
            expect_error(await a.request("disallow_token", token="x", plugins=[ECHOTEST]),
                         490)
            expect_error(await a.request("remove_token", token="x"), 490)


@tap.test("signed token on the long poll (?token=)")
async def test_signed_longpoll():
    async with Server(args=["-T", TOKEN_KEY], env=FAST_POLL):
        tok = signed_token()
        async with JanusClient("http", token=tok, poll=False) as c:
            sid = await c.create_session()
            r = await poll_status(sid, "token=" + signed_token(tamper=True))
            check(r.status == 403, "tampered token on the long poll", repr(r))
            from urllib.parse import quote
            r = await poll_status(sid, "token=" + quote(tok, safe=""))
            check(r.status == 200, "valid token on the long poll", repr(r))
            expect(await c.destroy())


# ---------------------------------------------------------------- both

@tap.test("api_secret and stored tokens together: either one passes [http+ws]")
async def test_both():
    config = 'general: {\n api_secret = "%s"\n token_auth = true\n}\n' % SECRET
    async with Server(config=config):
        async with admin() as a:
            expect(await a.request("add_token", token="tok-both", plugins=[ECHOTEST]))
        for transport in ("http", "ws"):
            async with JanusClient(transport) as c:
                expect_error(await c.create(), 403)
                expect_error(await c.create(apisecret="wrong", token="wrong"), 403)
            async with JanusClient(transport, apisecret=SECRET) as c:
                await c.create_session()
                await c.attach_handle()
                expect(await c.destroy())
            async with JanusClient(transport, token="tok-both") as c:
                await c.create_session()
                await c.attach_handle()
                expect(await c.destroy())
            async with JanusClient(transport, apisecret=SECRET, token="wrong") as c:
                await c.create_session()
                expect(await c.destroy())
            async with JanusClient(transport, apisecret="wrong", token="tok-both") as c:
                await c.create_session()
                expect(await c.destroy())


@tap.test("no auth configured: requests without credentials work")
async def test_open():
    async with Server():
        async with JanusClient("ws") as c:
            info = expect(await c.info(), "server_info")
            check(info.get("api_secret") is False and info.get("auth_token") is False,
                  "auth flags", info)
            await c.create_session()
            await c.attach_handle()
            expect(await c.destroy())


if __name__ == "__main__":
    tap.run()
