#!/usr/bin/env python3
"""Data channels against a real, independent SCTP stack: aiortc's
RTCSctpTransport (Debian python3-aiortc) talks to our stoa_sctp (usrsctp)
running in tests/integration/sctp_peer. DTLS is left out: the SCTP packets
travel in plain UDP datagrams on loopback, aiortc's side through a stand-in
for its RTCDtlsTransport (it only needs state, the ICE role,
_register_data_receiver and _send_data).

Both role pairings run. aiortc derives its SCTP role from the ICE role: the
controlling side sends the INIT and picks odd channel ids, the controlled
side waits for an INIT and picks even ids, which in a real aiortc session
makes the controlled side the DTLS client (RFC 8832 §6: client even). Stoa
always connects, so one run has crossing INITs and the other a plain
exchange.

Checked: the association comes up; DCEP opens from aiortc (label, protocol,
ordering, partial reliability reported by Stoa) and from Stoa; text,
binary, empty and 60 KB messages echoed back intact; a stream reset from
aiortc closes the channel on our side; closing the association from Stoa
(ABORT) closes aiortc's transport; the SCTP stack shuts down cleanly.
"""

import asyncio
import hashlib
import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import Tap, check  # noqa: E402

try:
    from aiortc.rtcdatachannel import RTCDataChannel, RTCDataChannelParameters
    from aiortc.rtcsctptransport import RTCSctpCapabilities, RTCSctpTransport
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing aiortc (Debian python3-aiortc): %s" % e, flush=True)
    sys.exit(1)

tap = Tap(timeout=30)

PEER = os.environ.get("STOA_SCTP_PEER") or os.path.join(
    os.path.dirname(os.environ.get("STOA_BIN", "src/stoa")), "..", "tests", "integration",
    "sctp_peer")


class FakeIce:
    def __init__(self, role):
        self.role = role


class UdpDtls:
    """What RTCSctpTransport uses of an RTCDtlsTransport, over UDP."""

    def __init__(self, ice_role, local_port, remote_port):
        self.state = "connected"
        self.transport = FakeIce(ice_role)
        self.local = ("127.0.0.1", local_port)
        self.remote = ("127.0.0.1", remote_port)
        self.receiver = None
        self.udp = None

    async def start(self):
        loop = asyncio.get_running_loop()
        dtls = self

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                if dtls.receiver:
                    asyncio.ensure_future(dtls.receiver._handle_data(data))

        self.udp, _ = await loop.create_datagram_endpoint(Proto, local_addr=self.local)

    def _register_data_receiver(self, receiver):
        self.receiver = receiver

    def _unregister_data_receiver(self, receiver):
        if self.receiver is receiver:
            self.receiver = None

    async def _send_data(self, data):
        self.udp.sendto(data, self.remote)

    def close(self):
        if self.udp:
            self.udp.close()


class Peer:
    """The sctp_peer process: JSON events out, JSON commands in."""

    def __init__(self, proc):
        self.proc = proc
        self.events = []
        self.cond = asyncio.Condition()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, local_port, remote_port, role):
        proc = await asyncio.create_subprocess_exec(
            PEER, str(local_port), str(remote_port), role, "65536",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        return cls(proc)

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            async with self.cond:
                self.events.append(json.loads(line))
                self.cond.notify_all()

    async def wait(self, pred, what, timeout=10):
        async def find():
            async with self.cond:
                while True:
                    for e in self.events:
                        if pred(e):
                            return e
                    await self.cond.wait()
        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            check(False, "sctp_peer: no %s" % what, self.events[-20:])

    def send(self, **cmd):
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())

    async def finish(self):
        self.send(cmd="quit")
        e = await self.wait(lambda e: e["event"] == "shutdown", "shutdown")
        check(e["rc"] == 0, "stoa_sctp_shutdown failed", e)
        rc = await asyncio.wait_for(self.proc.wait(), 10)
        check(rc == 0, "sctp_peer exit status %d" % rc)
        self.reader.cancel()


async def wait_for(cond, what, timeout=10):
    deadline = asyncio.get_running_loop().time() + timeout
    while not cond():
        check(asyncio.get_running_loop().time() < deadline, "timed out waiting for " + what)
        await asyncio.sleep(0.01)


async def open_aiortc_channel(sctp, peer, **params):
    ch = RTCDataChannel(sctp, RTCDataChannelParameters(**params))
    opened = asyncio.get_running_loop().create_future()
    ch.on("open", lambda: opened.done() or opened.set_result(True))
    if ch.readyState != "open":
        await asyncio.wait_for(opened, 10)
    e = await peer.wait(lambda e: e["event"] == "open" and e["id"] == ch.id, "open %d" % ch.id)
    return ch, e


async def echo_roundtrip(ch, payloads):
    got = []
    ch.on("message", got.append)
    for p in payloads:
        ch.send(p)
    await wait_for(lambda: len(got) >= len(payloads), "echoes")
    for want, have in zip(payloads, got):
        check(type(want) is type(have) and want == have, "echo differs",
              "sent %r (%d)" % (type(want), len(want)), "got %r (%d)" % (type(have), len(have)))


async def session(ice_role, stoa_role, base_port):
    dtls = UdpDtls(ice_role, base_port, base_port + 1)
    await dtls.start()
    peer = await Peer.start(base_port + 1, base_port, stoa_role)
    sctp = RTCSctpTransport(dtls)
    ours_even = stoa_role == "client"
    try:
        await sctp.start(RTCSctpCapabilities(maxMessageSize=65536), 5000)
        await peer.wait(lambda e: e == {"event": "state", "state": "open"}, "association")
        await wait_for(lambda: sctp.state == "connected", "aiortc connected")

        # A channel opened by aiortc.
        chat, e = await open_aiortc_channel(sctp, peer, label="chat", protocol="x-chat")
        check(e["label"] == "chat" and e["protocol"] == "x-chat" and e["ordered"]
              and e["pr"] == 0 and not e["local"], "open as seen by Stoa", e)
        check((chat.id % 2 == 0) != ours_even, "aiortc id parity", chat.id)
        big = os.urandom(60000)
        await echo_roundtrip(chat, ["hello", b"\x00\x01binary", "", b"", "ünïcødé", big])
        e = await peer.wait(lambda e: e["event"] == "message" and e["len"] == 60000, "big")
        check(e["binary"] and e["sha256"] == hashlib.sha256(big).hexdigest(), "60 KB", e)

        # Unordered and partially reliable channels.
        _, e = await open_aiortc_channel(sctp, peer, label="lossy", ordered=False,
                                         maxRetransmits=0)
        check(not e["ordered"] and e["pr"] == 1 and e["value"] == 0, "rtx channel", e)
        timed, e = await open_aiortc_channel(sctp, peer, label="timed", ordered=False,
                                             maxPacketLifeTime=500)
        check(not e["ordered"] and e["pr"] == 2 and e["value"] == 500, "ttl channel", e)
        await echo_roundtrip(timed, ["t1", "t2"])

        # A channel opened by Stoa.
        incoming = asyncio.get_running_loop().create_future()
        sctp.on("datachannel", lambda c: incoming.done() or incoming.set_result(c))
        peer.send(cmd="open", label="from-stoa", protocol="p", ordered=True, pr=0, value=0)
        opening = await peer.wait(lambda e: e["event"] == "opening", "opening")
        check(opening["rc"] == 0 and (opening["id"] % 2 == 0) == ours_even, "Stoa id", opening)
        theirs = await asyncio.wait_for(incoming, 10)
        check(theirs.label == "from-stoa" and theirs.protocol == "p" and
              theirs.id == opening["id"], "aiortc's view of Stoa's channel",
              theirs.label, theirs.id)
        await peer.wait(lambda e: e["event"] == "open" and e["local"] and
                        e["id"] == opening["id"], "ACK from aiortc")
        got = []
        theirs.on("message", got.append)
        peer.send(cmd="send", id=opening["id"], text="hi from stoa")
        await wait_for(lambda: "hi from stoa" in got, "message from Stoa")

        # aiortc closes "chat" with a stream reset; Stoa sees the close.
        chat.close()
        await peer.wait(lambda e: e["event"] == "close" and e["id"] == chat.id, "close")
        await wait_for(lambda: chat.readyState == "closed", "aiortc channel closed")

        # Stoa aborts the association; aiortc's transport closes.
        peer.send(cmd="close")
        await wait_for(lambda: sctp.state == "closed", "aiortc transport closed")
        await peer.finish()
    finally:
        if peer.proc.returncode is None:
            peer.proc.kill()
            await peer.proc.wait()
        await sctp.stop()
        dtls.close()


@tap.test("aiortc controlled (sends no INIT, even ids) vs Stoa as DTLS server")
async def aiortc_waits():
    await session("controlled", "server", 47000)


@tap.test("aiortc controlling (sends INIT, odd ids) vs Stoa as DTLS client")
async def aiortc_initiates():
    await session("controlling", "client", 47010)


if __name__ == "__main__":
    tap.run()
