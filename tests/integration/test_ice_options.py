#!/usr/bin/env python3
"""The ICE options of the config file, each proved with a real peer: aiortc
(Debian python3-aiortc 1.4) calling janus.plugin.echotest over the Janus
WebSocket API with the helpers of aiortc_peer.py. Every case starts its own
stoa with its own config (no -E: the nat lists come from the file).

The namespace (tests/ns-run) has 127.0.0.1 on lo and 127.0.0.2 on stoa0, a
device not flagged LOOPBACK; this test adds 127.0.0.3 to stoa0 as
test_turn.py does. aiortc gathers on 127.0.0.2 and 127.0.0.3 (it skips
127.0.0.1).

Cases:
  - media.rtp_port_range: every host candidate's port is in the range, and
    the selected pair's local port too; echoed frames arrive.
  - nat.ice_lite: a=ice-lite in the answer; aiortc, the full agent, is
    controlling and nominates; echoed frames arrive.
  - nat.nat_1_1_mapping: the host candidates show the mapped address with
    the ports the server's sockets really have (ss). The server's sockets
    are bound to 127.0.0.2, so aiortc's checks to 127.0.0.3 find no socket;
    the call still comes up because the server's own checks reach aiortc,
    which learns the server's real address as a peer-reflexive candidate
    and nominates that pair (this is asserted too).
  - nat.full_trickle: `trickle` events with sdpMid of the first mid and
    sdpMLineIndex 0, then {completed:true}. The call is made with those
    candidates only: they are stripped from the answer before aiortc sees
    it and given to aiortc with addIceCandidate afterwards.
  - nat.ice_tcp: the answer has TCP host candidates (tcptype passive).
    aiortc/aioice 0.8 do not do ICE-TCP (they only pair UDP), so the call
    is proved over UDP only; TCP connectivity is not proved.
  - nat.stun_server: coturn (also a STUN server) on 127.0.0.3:3478: gathering
    completes and the call works. coturn does not log binding requests, so a
    second call uses a small STUN server of this test's own (aioice's STUN
    codec) that records them: the server asks from its host candidate's
    socket. No srflx candidate appears: on loopback the mapped address is
    the host address itself, and libnice drops a srflx candidate equal to a
    host one; so a srflx candidate's use is not proved here.
  - nat.ice_ignore_list / ice_enforce_list: ignoring 127.0.0.2 leaves only
    127.0.0.3 (and the call works there); ignoring stoa0 leaves no address,
    and the offer is refused with an error rather than answered; enforcing
    127.0.0.1 gives only 127.0.0.1; the ignore list wins over the enforce list.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import JanusClient, Server, Tap, check, diag, expect  # noqa: E402
from aiortc_peer import (  # noqa: E402
    PEER_IP, TURN_IP, TURN_PORT, Coturn, EchoPeer, api_hangup, ensure_address, handle_info,
    is_janus, open_session, skip_reason,
)

from aiortc.sdp import candidate_from_sdp  # noqa: E402
from aioice import stun  # noqa: E402

tap = Tap(timeout=30)

MAPPED_IP = "127.0.0.3"
PORT_MIN, PORT_MAX = 40000, 40100
MIN_VIDEO_FRAMES = 15
MIN_AUDIO_FRAMES = 25
CAND_RE = re.compile(r"^(?:a=)?candidate:\S+ (\d+) (\w+) \d+ (\S+) (\d+) typ (\w+)(.*)$", re.I)


def config(nat=None, media=None):
    out = ""
    for name, kv in (("nat", nat), ("media", media)):
        if kv:
            out += "%s: {\n%s}\n" % (name, "".join("\t%s = %s\n" % (k, json.dumps(v))
                                                  for k, v in kv.items()))
    return out


def candidates(sdp):
    """(component, transport, ip, port, type, rest) of every a=candidate."""
    out = []
    for line in sdp.split("\r\n"):
        m = CAND_RE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2).lower(), m.group(3), int(m.group(4)),
                        m.group(5), m.group(6)))
    return out


def strip_candidates(sdp):
    return "\r\n".join(ln for ln in sdp.split("\r\n")
                       if not ln.startswith("a=candidate:") and ln != "a=end-of-candidates")


def server_udp_ports(pid):
    """(ip, port) of every UDP socket of the process pid (ss, this namespace)."""
    out = subprocess.run(["ss", "-Hunap"], capture_output=True, text=True).stdout
    found = set()
    for line in out.splitlines():
        if "pid=%d," % pid not in line:
            continue
        m = re.search(r"\s(\d+\.\d+\.\d+\.\d+):(\d+)\s", line)
        if m:
            found.add((m.group(1), int(m.group(2))))
    return found


async def call(nat=None, media=None, connect=True, before_answer=None, after_answer=None):
    """A stoa with that config and one aiortc echotest call. Returns a dict:
    sdp (the answer), info (handle_info once media flowed), counts, srv
    facts. connect=False stops after the answer (or the error)."""
    srv = Server(config=config(nat, media))
    await srv.start()
    res = {"pid": srv.proc.pid}
    try:
        async with JanusClient("ws") as c:
            await open_session(c)
            peer = EchoPeer(data=False)
            try:
                sdp = await peer.offer()
                r = await c.message({"audio": True, "video": True},
                                    jsep={"type": "offer", "sdp": sdp, "trickle": False})
                expect(r, "ack")
                ev = await c.plugin_event(r["transaction"], timeout=15)
                res["event"] = ev
                jsep = ev.get("jsep")
                if not isinstance(jsep, dict):
                    return res
                res["sdp"] = jsep["sdp"]
                res["ports"] = server_udp_ports(srv.proc.pid)
                if not connect:
                    return res
                answer = before_answer(jsep["sdp"]) if before_answer else jsep["sdp"]
                await peer.answer(answer)
                if after_answer:
                    await after_answer(c, peer, res)
                await c.event(is_janus("webrtcup"), 15, "webrtcup")
                ok = await peer.wait_counts(MIN_VIDEO_FRAMES, MIN_AUDIO_FRAMES, timeout=15)
                res["info"] = await handle_info(c)
                res["counts"] = dict(peer.counts)
                check(ok, "too few echoed frames", peer.counts,
                      res["info"].get("webrtc", {}).get("ice"))
                res["aiortc_pair"] = aiortc_selected(peer)
                await api_hangup(c, peer)
            finally:
                await peer.close()
    finally:
        await srv.stop()
        res["log"] = srv.log_text()
    return res


def aiortc_selected(peer):
    """aioice's nominated pair of the bundle transport: (local, remote) candidates."""
    conn = peer.pc.getTransceivers()[0].sender.transport.transport._connection
    pair = conn._nominated.get(1)
    return (pair.local_candidate, pair.remote_candidate) if pair else None


def selected_pair(res):
    return res["info"].get("webrtc", {}).get("ice", {}).get("selected-pair", "")


def host_udp(sdp):
    return [c for c in candidates(sdp) if c[1] == "udp" and c[4] == "host"]


# ---------------------------------------------------------------- cases

@tap.test("media.rtp_port_range 40000-40100: host candidates and the pair in range, echo works",
          timeout=40)
async def test_port_range():
    res = await call(nat={"ice_enforce_list": PEER_IP},
                     media={"rtp_port_range": "%d-%d" % (PORT_MIN, PORT_MAX)})
    hosts = host_udp(res["sdp"])
    diag("host candidates %s; selected %s; frames %s"
         % ([(c[2], c[3]) for c in hosts], selected_pair(res), res["counts"]))
    check(hosts, "no UDP host candidate in the answer", res["sdp"])
    check(all(PORT_MIN <= c[3] <= PORT_MAX for c in candidates(res["sdp"])),
          "a candidate port outside %d-%d" % (PORT_MIN, PORT_MAX), candidates(res["sdp"]))
    m = re.match(r"\S+:(\d+) ", selected_pair(res))
    check(m and PORT_MIN <= int(m.group(1)) <= PORT_MAX, "selected pair's local port out of range",
          selected_pair(res))


@tap.test("nat.ice_lite: a=ice-lite in the answer, aiortc controls, echo works", timeout=40)
async def test_ice_lite():
    res = await call(nat={"ice_enforce_list": PEER_IP, "ice_lite": True})
    sdp = res["sdp"]
    session = sdp.split("\r\nm=")[0]
    check("\r\na=ice-lite" in session, "no session-level a=ice-lite in the answer", sdp)
    diag("selected %s; frames %s" % (selected_pair(res), res["counts"]))
    check(selected_pair(res), "no selected pair on the lite side", res["info"].get("webrtc"))


@tap.test("nat.nat_1_1_mapping 127.0.0.3 (gathering on 127.0.0.2): candidates rewritten with "
          "the real ports; call up via aiortc's peer-reflexive pair", timeout=40)
async def test_nat_1_1():
    res = await call(nat={"ice_enforce_list": PEER_IP, "nat_1_1_mapping": MAPPED_IP})
    hosts = host_udp(res["sdp"])
    real = res["ports"]
    diag("answer hosts %s; server sockets %s" % ([(c[2], c[3]) for c in hosts], sorted(real)))
    check(hosts and all(c[2] == MAPPED_IP for c in candidates(res["sdp"])),
          "candidates not all on the mapped address", candidates(res["sdp"]))
    check(all((PEER_IP, c[3]) in real for c in hosts),
          "a mapped candidate's port is not one of the server's sockets on %s" % PEER_IP,
          hosts, real)
    pair = res["aiortc_pair"]
    diag("aiortc nominated %s; server selected %s" % (pair, selected_pair(res)))
    # aiortc's checks to 127.0.0.3 find no socket (the server's are bound to
    # 127.0.0.2); the server's checks reach aiortc from 127.0.0.2, which
    # aiortc learns as a peer-reflexive candidate and nominates.
    check(pair and pair[1].host == PEER_IP and pair[1].type == "prflx",
          "expected aiortc to nominate the server's real address (prflx)", pair)


@tap.test("nat.full_trickle: trickle events (first mid, index 0, then completed); "
          "the call works on the trickled candidates alone", timeout=40)
async def test_full_trickle():
    got = {}

    async def trickle_in(c, peer, res):
        evs = []
        while True:
            ev = await c.event(is_janus("trickle"), 10, "a trickle event")
            evs.append(ev["candidate"])
            if ev["candidate"].get("completed") is True:
                break
        got["events"] = evs
        for cand in evs[:-1]:
            ice = candidate_from_sdp(cand["candidate"].split(":", 1)[1])
            ice.sdpMid, ice.sdpMLineIndex = cand["sdpMid"], cand["sdpMLineIndex"]
            await peer.pc.addIceCandidate(ice)
        await peer.pc.getTransceivers()[0].sender.transport.transport.addRemoteCandidate(None)

    res = await call(nat={"ice_enforce_list": PEER_IP, "full_trickle": True},
                     before_answer=strip_candidates, after_answer=trickle_in)
    evs = got["events"]
    first_mid = re.search(r"\r\na=mid:(\S+)", res["sdp"]).group(1)
    diag("trickle events: %s" % json.dumps(evs))
    check(len(evs) >= 2 and evs[-1] == {"completed": True},
          "expected candidates then {completed:true}", evs)
    for e in evs[:-1]:
        check(e.get("sdpMid") == first_mid and e.get("sdpMLineIndex") == 0 and
              e.get("candidate", "").startswith("candidate:"),
              "trickle candidate not {sdpMid:%r, sdpMLineIndex:0, candidate:...}" % first_mid, e)
    check(sum(1 for e in evs[:-1] if " typ host" in e["candidate"] and PEER_IP in e["candidate"]),
          "no host candidate on %s trickled" % PEER_IP, evs)
    pair = res["aiortc_pair"]
    check(pair and pair[1].host == PEER_IP, "aiortc's pair is not on a trickled candidate", pair)


@tap.test("nat.ice_tcp: TCP host candidates (tcptype passive) in the answer; call works (UDP)",
          timeout=40)
async def test_ice_tcp():
    res = await call(nat={"ice_enforce_list": PEER_IP, "ice_tcp": True})
    tcp = [c for c in candidates(res["sdp"]) if c[1] == "tcp"]
    diag("tcp candidates %s; selected %s" % (tcp, selected_pair(res)))
    check(any(c[4] == "host" and "tcptype passive" in c[5] and c[2] == PEER_IP and c[3] > 0
              for c in tcp), "no passive TCP host candidate", res["sdp"])
    check(host_udp(res["sdp"]), "no UDP host candidate next to the TCP ones", res["sdp"])
    check("[host,udp]" in selected_pair(res), "expected a UDP pair (aiortc has no ICE-TCP)",
          selected_pair(res))


COTURN = Coturn()


class StunRecorder(asyncio.DatagramProtocol):
    """A STUN server of our own on 127.0.0.3:3478 that answers binding
    requests and records where they came from (coturn answers them too, but
    does not log them)."""

    def __init__(self):
        self.sources = []
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            req = stun.parse_message(data)
        except ValueError:
            return
        if req.message_method != stun.Method.BINDING or req.message_class != stun.Class.REQUEST:
            return
        self.sources.append(addr)
        resp = stun.Message(message_method=stun.Method.BINDING,
                            message_class=stun.Class.RESPONSE,
                            transaction_id=req.transaction_id)
        resp.attributes["XOR-MAPPED-ADDRESS"] = addr
        self.transport.sendto(bytes(resp), addr)


@tap.test("nat.stun_server (coturn on 127.0.0.3:3478): gathering completes, call works",
          timeout=40)
async def test_stun_coturn():
    if shutil.which("turnserver") is None:
        diag("coturn is not installed: only the recorder case below runs")
        return
    COTURN.start()
    try:
        res = await call(nat={"ice_enforce_list": PEER_IP, "stun_server": TURN_IP,
                              "stun_port": TURN_PORT})
    finally:
        COTURN.stop()
    types = sorted(set(c[4] for c in candidates(res["sdp"])))
    diag("candidate types %s; selected %s" % (types, selected_pair(res)))
    check("a=end-of-candidates" in res["sdp"], "gathering did not complete", res["sdp"])
    check("answering before gathering finished" not in res["log"],
          "the server answered before gathering finished", res["log"][-2000:])


@tap.test("nat.stun_server (a recording STUN server): binding requests from the host "
          "candidate's socket, no srflx equal to host, call works", timeout=40)
async def test_stun_recorded():
    ensure_address(TURN_IP)
    loop = asyncio.get_running_loop()
    transport, rec = await loop.create_datagram_endpoint(StunRecorder,
                                                         local_addr=(TURN_IP, TURN_PORT))
    try:
        res = await call(nat={"ice_enforce_list": PEER_IP, "stun_server": TURN_IP,
                              "stun_port": TURN_PORT})
    finally:
        transport.close()
    hosts = host_udp(res["sdp"])
    diag("binding requests from %s; answer candidates %s" % (rec.sources, candidates(res["sdp"])))
    check(any((PEER_IP, c[3]) in rec.sources for c in hosts),
          "no binding request from the server's host candidate", rec.sources, hosts)
    check("a=end-of-candidates" in res["sdp"] and
          "answering before gathering finished" not in res["log"],
          "gathering did not complete before the answer", res["sdp"])
    check(not any(c[4] == "srflx" for c in candidates(res["sdp"])),
          "a srflx candidate equal to the host one was offered", res["sdp"])


@tap.test("nat.ice_ignore_list 127.0.0.2: candidates on 127.0.0.3 only; call works", timeout=40)
async def test_ignore_ip():
    res = await call(nat={"ice_ignore_list": PEER_IP})
    ips = sorted(set(c[2] for c in candidates(res["sdp"])))
    diag("candidate addresses %s; selected %s" % (ips, selected_pair(res)))
    check(ips == [MAPPED_IP], "expected candidates on 127.0.0.3 only", ips)


@tap.test("nat.ice_ignore_list stoa0 (nothing left): the offer gets an error, no answer")
async def test_ignore_device():
    res = await call(nat={"ice_ignore_list": "stoa0"}, connect=False)
    ev = res["event"]
    data = ev.get("plugindata", {}).get("data", {})
    diag("reply: %s" % json.dumps(ev)[:400])
    check("sdp" not in res, "an answer although no address may be used", res.get("sdp"))
    check("error" in data or "error" in ev, "no error for the offer", ev)


@tap.test("nat.ice_enforce_list 127.0.0.1: only 127.0.0.1; ignore wins over enforce")
async def test_enforce():
    res = await call(nat={"ice_enforce_list": "127.0.0.1"}, connect=False)
    ips = sorted(set(c[2] for c in candidates(res["sdp"])))
    check(ips == ["127.0.0.1"], "expected candidates on 127.0.0.1 only", ips)
    res = await call(nat={"ice_enforce_list": "127.0.0.1, 127.0.0.2",
                          "ice_ignore_list": "stoa0"}, connect=False)
    ips2 = sorted(set(c[2] for c in candidates(res["sdp"])))
    diag("enforce 127.0.0.1: %s; enforce 127.0.0.1,127.0.0.2 ignore stoa0: %s" % (ips, ips2))
    check(ips2 == ["127.0.0.1"], "the ignore list did not win over the enforce list", ips2)


if __name__ == "__main__":
    why = skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    ensure_address(MAPPED_IP)
    tap.run()
