#!/usr/bin/env python3
"""TURN for the server's side of ICE (nat.turn_* and nat.turn_rest_api*),
against a real TURN server: Debian's coturn (`turnserver`), started by this
test inside its private network namespace on 127.0.0.3:3478 (listening and
relay address) with the long-term credential user stoa:secret. 127.0.0.3 is
added to ns-run's non-loopback device: libnice's sends from its 127.0.0.2
host candidate to 127.0.0.1 fail with EINVAL there.

The calls are aiortc echotest calls made with test_echotest_aiortc.py's
helpers (aiortc on 127.0.0.2, stoa gathering on 127.0.0.2 with -E). Checked:
  - static TURN: server_info shows "turn-server"; the answer carries a
    `typ relay` candidate on coturn's relay address; echoed frames arrive;
    Admin API handle_info lists the relay candidate;
  - forced relay (STOA_ICE_FORCE_RELAY=1, a test hook that sets libnice's
    force-relay): only relay candidates are offered, the selected pair's
    local side is the relay and the echo still arrives, so media went
    through coturn (its log shows the allocation and the peer's channel);
  - TURN REST API: a small aiohttp server here answers
    {username, password, ttl, uris}; stoa asks it with service=turn and the
    key, and relays through what it said; a second call is served from the
    cache (no new request); a garbage reply leaves the call working on host
    candidates only;
  - a TURN server name that does not resolve stops start-up with a message.

coturn is installed with `apt-get install -y coturn` (quickstart.sh lists
it); the test skips when it is missing.
"""

import json
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (  # noqa: E402
    JanusClient, Server, Tap, check, diag, expect, run_stoa,
)
from aiortc_peer import (  # noqa: E402
    PEER_IP, TURN_IP, TURN_PORT, TURN_PWD, TURN_USER, Coturn, EchoPeer, api_hangup,
    handle_info, is_janus, negotiate, open_session, skip_reason,
)

from aiohttp import web  # noqa: E402

tap = Tap(timeout=40)

REST_PORT = 8099
REST_KEY = "k3y&with=specials"
MIN_VIDEO_FRAMES = 20
MIN_AUDIO_FRAMES = 30
RELAY_RE = re.compile(r"candidate:\S+ 1 udp \d+ (\S+) (\d+) typ relay", re.I)


def nat(**kv):
    body = "".join('\t%s = %s\n' % (k, json.dumps(v)) for k, v in kv.items())
    return "nat: {\n\tconsent_timeout = 5\n%s}\n" % body


STATIC = {"turn_server": TURN_IP, "turn_port": TURN_PORT, "turn_type": "udp",
          "turn_user": TURN_USER, "turn_pwd": TURN_PWD}


COTURN = Coturn()


class RestApi:
    """The TURN REST API: records each request, answers with `reply`."""

    def __init__(self, reply):
        self.reply = reply
        self.requests = []
        self.runner = None

    async def handle(self, request):
        form = dict(await request.post()) if request.method == "POST" else {}
        self.requests.append({"method": request.method, "query": dict(request.query),
                              "form": form})
        if isinstance(self.reply, (bytes, str)):
            return web.Response(body=self.reply, content_type="application/json")
        return web.json_response(self.reply)

    async def __aenter__(self):
        app = web.Application()
        app.router.add_route("*", "/turn", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", REST_PORT).start()
        return self

    async def __aexit__(self, *exc):
        await self.runner.cleanup()


def relay_candidates(sdp):
    return RELAY_RE.findall(sdp)


def candidate_types(sdp):
    return sorted(set(re.findall(r"typ (\w+)", sdp)))


async def echo_call(config, env=None, frames=True, rounds=1):
    """A stoa with `config`, `rounds` aiortc echotest calls one after the
    other; returns [(answer sdp, handle_info, peer counts)] and the server
    log. Each call ends with a hangup; the server must exit 0."""
    srv = Server(config=config, args=["-E", PEER_IP], env=env)
    await srv.start()
    out = []
    try:
        async with JanusClient("ws") as c:
            for _ in range(rounds):
                await open_session(c)
                peer = EchoPeer(data=False)
                try:
                    ev = await negotiate(c, peer, timeout=25)
                    await c.event(is_janus("webrtcup"), 15, "webrtcup")
                    ok = await peer.wait_counts(MIN_VIDEO_FRAMES, MIN_AUDIO_FRAMES, timeout=15)
                    info = await handle_info(c)
                    check(not frames or ok, "too few echoed frames", peer.counts,
                          info.get("webrtc", {}).get("ice"))
                    out.append((ev["jsep"]["sdp"], info, dict(peer.counts)))
                    await api_hangup(c, peer)
                finally:
                    await peer.close()
                expect(await c.request("destroy", session_id=c.session_id))
    finally:
        await srv.stop()
    return out, srv.log_text()


def local_candidates(info):
    return info.get("webrtc", {}).get("ice", {}).get("local-candidates", [])


# ---------------------------------------------------------------- static TURN

@tap.test("static TURN: server_info shows turn-server")
async def test_server_info():
    srv = Server(config=nat(**STATIC), args=["-E", PEER_IP])
    await srv.start()
    try:
        async with JanusClient("http") as c:
            r = await c.info()
        check(r.get("turn-server") == "%s:%d" % (TURN_IP, TURN_PORT),
              "server_info without turn-server", r)
    finally:
        await srv.stop()


@tap.test("static TURN: relay candidate in the answer and handle_info, echo works", timeout=60)
async def test_static():
    calls, _ = await echo_call(nat(**STATIC))
    sdp, info, counts = calls[0]
    relays = relay_candidates(sdp)
    diag("answer candidates: %s; relays %s; frames %s" % (candidate_types(sdp), relays, counts))
    check(relays and all(ip == TURN_IP for ip, _ in relays),
          "no relay candidate on coturn's relay address in the answer", sdp)
    check(any(" typ host" in c for c in local_candidates(info)), "no host candidate", info)
    check(any(RELAY_RE.search(c) for c in local_candidates(info)),
          "handle_info local-candidates without the relay", local_candidates(info))


@tap.test("static TURN, relay forced: media goes through coturn", timeout=60)
async def test_forced_relay():
    before = len(COTURN.text())
    calls, _ = await echo_call(nat(**STATIC), env={"STOA_ICE_FORCE_RELAY": "1"})
    sdp, info, counts = calls[0]
    check(candidate_types(sdp) == ["relay"], "candidates other than relay offered", sdp)
    pair = info.get("webrtc", {}).get("ice", {}).get("selected-pair", "")
    diag("selected pair: %s; frames %s" % (pair, counts))
    check(re.match(r"%s:\d+ \[relay,udp\]" % re.escape(TURN_IP), pair),
          "the selected pair is not on the relay", pair)
    # coturn's side: stoa allocated with the static user and bound a
    # channel to the peer (the data path of RFC 8656 §12). coturn logs
    # byte counts only when an allocation ends, which is after its lifetime
    # here (libnice does not deallocate when an agent is dropped).
    log = COTURN.text()[before:]
    check(re.search(r"user <%s>: incoming packet ALLOCATE processed, success" % TURN_USER, log),
          "coturn saw no allocation", log[-3000:])
    check("CHANNEL_BIND processed, success" in log or "CREATE_PERMISSION processed, success" in log,
          "coturn saw no permission or channel for the peer", log[-3000:])


# ---------------------------------------------------------------- TURN REST API

REST_REPLY = {"username": TURN_USER, "password": TURN_PWD, "ttl": 86400,
              "uris": ["stun:%s:%d" % (TURN_IP, TURN_PORT),
                       "turn:%s:%d?transport=udp" % (TURN_IP, TURN_PORT)]}


def rest_config(**kv):
    return nat(turn_rest_api="http://127.0.0.1:%d/turn" % REST_PORT,
               turn_rest_api_key=REST_KEY, turn_rest_api_timeout=3, **kv)


@tap.test("TURN REST API (GET): queried with service=turn and the key; relay; cached", timeout=80)
async def test_rest_get():
    async with RestApi(REST_REPLY) as api:
        calls, _ = await echo_call(rest_config(), rounds=2)
    diag("requests: %s" % api.requests)
    check(len(api.requests) == 1, "expected one request (the second call uses the cache)",
          api.requests)
    q = api.requests[0]
    check(q["method"] == "GET" and q["query"].get("service") == "turn" and
          q["query"].get("key") == REST_KEY and q["query"].get("username"),
          "the request lacks service=turn, username or the key", q)
    for sdp, info, counts in calls:
        check(relay_candidates(sdp), "no relay candidate in the answer", sdp)
        check(any(RELAY_RE.search(c) for c in local_candidates(info)),
              "handle_info local-candidates without the relay", local_candidates(info))


@tap.test("TURN REST API (POST): parameters in the form body", timeout=60)
async def test_rest_post():
    async with RestApi(REST_REPLY) as api:
        calls, _ = await echo_call(rest_config(turn_rest_api_method="POST"))
    check(len(api.requests) == 1, "expected one request", api.requests)
    q = api.requests[0]
    check(q["method"] == "POST" and q["form"].get("service") == "turn" and
          q["form"].get("key") == REST_KEY, "the POST lacks service=turn or the key", q)
    check(relay_candidates(calls[0][0]), "no relay candidate in the answer", calls[0][0])


@tap.test("TURN REST API: garbage replies -> the call works on host candidates", timeout=80)
async def test_rest_garbage():
    bad = [b"this is not json",
           {"username": "u", "password": "p", "ttl": "soon", "uris": ["turn:127.0.0.1"]},
           {"username": "u", "password": "p", "ttl": 60, "uris": ["http://example.invalid/"]},
           b"{" + b"\"x\":1," * 20000 + b"\"y\":1}"]  # over the size bound
    for reply in bad:
        async with RestApi(reply) as api:
            calls, log = await echo_call(rest_config())
        sdp = calls[0][0]
        check(len(api.requests) == 1, "the API was not asked", api.requests)
        check(candidate_types(sdp) == ["host"], "expected host candidates only", sdp)
        check("TURN REST API" in log, "nothing logged about the bad reply", log[-2000:])
        diag("reply %r: %s" % (bytes(reply[:30]) if isinstance(reply, bytes)
                               else json.dumps(reply)[:60],
                               [ln for ln in log.splitlines() if "TURN REST" in ln][-1:]))


# ---------------------------------------------------------------- start-up

@tap.test("a TURN server name that does not resolve stops start-up")
def test_unresolvable():
    status, out, err = run_stoa(["-E", PEER_IP, "--turn-server", "no-such-turn.invalid"],
                                timeout=20)
    text = out + err
    check(status not in (0, None) and "turn_server" in text and "no-such-turn.invalid" in text,
          "expected a start-up failure naming nat.turn_server", status, text[-1500:])
    status, out, err = run_stoa([], config=nat(turn_server=TURN_IP, turn_type="sctp"))
    check(status not in (0, None) and "turn_type" in out + err, "turn_type not checked",
          status, (out + err)[-1500:])
    status, out, err = run_stoa([], config=nat(turn_rest_api="ftp://x/"))
    check(status not in (0, None) and "turn_rest_api" in out + err, "URL not checked",
          status, (out + err)[-1500:])


if __name__ == "__main__":
    why = skip_reason()
    if why is None and shutil.which("turnserver") is None:
        why = "coturn is not installed (apt-get install -y coturn)"
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    COTURN.start()
    try:
        tap.run()
    finally:
        COTURN.stop()
