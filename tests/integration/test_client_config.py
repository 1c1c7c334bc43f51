#!/usr/bin/env python3
"""GET /stoa/client.json: the ICE servers browser pages use, from the
`pages` section of stoa.jcfg (so a deployment behind NAT needs no edits to
page code). Checked:
  - embedded defaults: {"iceServers": []};
  - configured entries come back RTCConfiguration-shaped: urls split into a
    list, a static username/credential passed through;
  - with pages.turn_secret, a turn: entry without a username gets coturn
    use-auth-secret credentials: "<expiry>:stoa" (expiry = now + turn_ttl)
    and base64(HMAC-SHA1(secret, username)), fresh per request, with
    Cache-Control: no-store;
  - those credentials really open a TURN allocation on Debian's coturn run
    with --use-auth-secret (aioice's TURN client), and credentials minted
    with another secret are refused;
  - only GET is served there, and the admin listener does not serve it;
  - an ice_servers entry whose urls are not stun:/turn:/turns: stops
    start-up with a message naming the record.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import HttpClient, Server, Tap, check, diag, run_stoa  # noqa: E402
from aiortc_peer import TURN_IP, TURN_PORT, Coturn  # noqa: E402

import aioice.turn  # noqa: E402

tap = Tap(timeout=40)
PATH = "/stoa/client.json"
NO_PORTS = ["--http-port", "0", "--ws-port", "0", "--admin-http-port", "0", "--admin-ws-port", "0"]
SECRET = "pages-turn-secret"
TTL = 600

PAGES = """pages: {
	ice_servers = (
		{ urls = "stun:stun.example.org:3478"; },
		{ urls = "turn:%s:%d?transport=udp, turn:%s:%d?transport=tcp"; },
		{ urls = "turns:turn.example.org:5349"; username = "fixed"; credential = "pw"; }
	)
	turn_secret = "%s"
	turn_ttl = %d
}
""" % (TURN_IP, TURN_PORT, TURN_IP, TURN_PORT, SECRET, TTL)


def expected_credential(secret, username):
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


async def fetch(srv, path=PATH, method="GET", port=None):
    async with HttpClient(port=port or srv.http_port) as http:
        return await http.request(method, path)


@tap.test("embedded defaults: {\"iceServers\": []}")
async def test_defaults():
    srv = Server()
    await srv.start()
    try:
        r = await fetch(srv)
        check(r.status == 200, "HTTP %d" % r.status)
        check(r.json() == {"iceServers": []}, "reply", r.json())
        check(r.headers.get("Content-Type", "").startswith("application/json"), "type", r.headers)
    finally:
        await srv.stop()


@tap.test("configured servers: urls as a list, static credentials kept, TURN credentials minted per request")
async def test_configured():
    srv = Server(config=PAGES)
    await srv.start()
    try:
        before = int(time.time())
        r = await fetch(srv)
        after = int(time.time())
        check(r.status == 200, "HTTP %d" % r.status)
        check(r.headers.get("Cache-Control") == "no-store", "Cache-Control", r.headers)
        servers = r.json()["iceServers"]
        check(len(servers) == 3, "three entries", servers)
        check(servers[0] == {"urls": ["stun:stun.example.org:3478"]}, "stun entry", servers[0])
        check(servers[1]["urls"] == ["turn:%s:%d?transport=udp" % (TURN_IP, TURN_PORT),
                                     "turn:%s:%d?transport=tcp" % (TURN_IP, TURN_PORT)], "urls", servers[1])
        user = servers[1]["username"]
        expiry, _, name = user.partition(":")
        check(name == "stoa" and before + TTL <= int(expiry) <= after + TTL, "username", user)
        check(servers[1]["credential"] == expected_credential(SECRET, user), "HMAC credential", servers[1])
        check(servers[2] == {"urls": ["turns:turn.example.org:5349"], "username": "fixed",
                             "credential": "pw"}, "static entry", servers[2])
        await asyncio.sleep(1.1)
        again = (await fetch(srv)).json()["iceServers"][1]
        check(again["username"] != user, "a later request mints a later expiry", user, again)
        for method in ("POST", "PUT", "DELETE"):
            r = await fetch(srv, method=method)
            check(r.status != 200, "%s answered 200" % method)
        r = await fetch(srv, port=srv.admin_http_port)
        check(r.status == 404, "admin listener: HTTP %d" % r.status)
    finally:
        await srv.stop()


class _Sink(asyncio.DatagramProtocol):
    pass


async def allocate(username, password):
    """Opens (and closes) a TURN allocation on coturn; returns the relayed address."""
    transport, _ = await asyncio.wait_for(aioice.turn.create_turn_endpoint(
        _Sink, server_addr=(TURN_IP, TURN_PORT), username=username, password=password), 10)
    try:
        return transport.get_extra_info("sockname")
    finally:
        transport.close()


@tap.test("the minted credentials open an allocation on coturn --use-auth-secret; another secret's do not")
async def test_real_turn():
    if shutil.which("turnserver") is None:
        diag("SKIP: coturn (turnserver) is not installed")
        return
    turn = Coturn(auth_secret=SECRET)
    srv = Server(config=PAGES)
    try:
        turn.start()
        await srv.start()
        entry = (await fetch(srv)).json()["iceServers"][1]
        relayed = await allocate(entry["username"], entry["credential"])
        check(relayed and relayed[0] == TURN_IP, "relayed address", relayed)
        forged = expected_credential("not-the-secret", entry["username"])
        try:
            await allocate(entry["username"], forged)
            ok = False
        except Exception as e:  # aioice raises TransactionFailed (401) or times out
            ok = True
            diag("forged credential refused: %s" % type(e).__name__)
        check(ok, "coturn accepted a credential made with another secret")
    finally:
        await srv.stop()
        turn.stop()


@tap.test("a pages.ice_servers entry with a bad URL stops start-up naming it")
def test_bad_urls():
    status, out, err = run_stoa(NO_PORTS, config='pages: {\n\tice_servers = ( { urls = "stun:ok"; }, { urls = "http://x"; } )\n}\n')
    check(status not in (0, None), "status %s" % status)
    check("pages.ice_servers[1]" in err + out, "message", err + out)


if __name__ == "__main__":
    tap.run()
