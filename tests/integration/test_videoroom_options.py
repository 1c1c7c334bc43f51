#!/usr/bin/env python3
"""VideoRoom room options that change what is negotiated, the config file
as Janus writes it, and the room Janus's demos expect, with real aiortc
peers (Debian python3-aiortc, /usr/bin/python3):

  - The publisher's answer follows the room: the audio level, video
    orientation, playout delay and transport-wide CC extensions only when
    the room enables them, useinbandfec=1 / usedtx=1 per opus_fec /
    opus_dtx. aiortc offers only mid and audio level (audio) and mid and
    abs-send-time (video), so its real offer gets three more video extmap
    lines (ids it does not use) for the answer to accept or refuse.
  - What flows: with audiolevel_ext off, a publisher sending a loud tone
    makes no `talking` event (the same tone in a room with it on does), and
    its subscribers are offered no audio level extension.
  - Room 1234 ("Demo Room", Janus's sample) exists with no VideoRoom config
    file, and a publisher joins it and sends media; a file without it (the
    one Janus 1.1.2 writes) has no room 1234 but the rooms Janus saved.
  - signed_tokens, record and dummy_publisher set to true are refused (430,
    with the reason) instead of being accepted and ignored.

One shared server with no VideoRoom config (-E 127.0.0.2: aioice skips
127.0.0.1), and one with a Janus-written config for the file test.
"""

import asyncio
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import JanusClient, Server, Tap, check  # noqa: E402

from aiortc_peer import (  # noqa: E402
    PEER_IP, RoomPeer, VrHandle, skip_reason, videoroom_missing, vr_error,
)
from test_videoroom_media import ToneTrack, create_room  # noqa: E402

tap = Tap(timeout=60)

CONF_FILE = "janus.plugin.videoroom.jcfg"
EXT_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
EXT_ORIENT = "urn:3gpp:video-orientation"
EXT_DELAY = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
EXT_TWCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

# What Debian's janus 1.1.2 wrote after create permanent:true (room 4321) and
# create + edit (4322); every value is a string.
JANUS_FILE = """#
# File automatically generated on Sat Nov 21 09:53:33 2026
#

general : 
{
};
room-4321 : 
{
  description = "All keys";
  is_private = "yes";
  require_pvtid = "yes";
  require_e2ee = "yes";
  bitrate = "128000";
  bitrate_cap = "yes";
  publishers = "6";
  fir_freq = "10";
  audiocodec = "opus,pcmu";
  videocodec = "vp8,h264";
  h264_profile = "42e01f";
  opus_dtx = "yes";
  secret = "s3";
  pin = "p1";
  audiolevel_ext = "no";
  videoorient_ext = "no";
  playoutdelay_ext = "no";
  transport_wide_cc_ext = "no";
  notify_joining = "yes";
  rec_dir = "/tmp/rec";
  lock_record = "yes";
};
room-4322 : 
{
  description = "edited";
  bitrate = "256000";
  publishers = "3";
  audiocodec = "opus";
  videocodec = "vp8";
  opus_fec = "yes";
  audiolevel_ext = "yes";
  videoorient_ext = "yes";
  playoutdelay_ext = "yes";
  transport_wide_cc_ext = "yes";
};
"""


def sections(sdp):
    """{"audio"|"video": the m-section's text} (first of each kind)."""
    out = {}
    for part in re.split(r"\r?\n(?=m=)", sdp):
        kind = part[2:7] if part.startswith("m=") else None
        if kind in ("audio", "video") and kind not in out:
            out[kind] = part
    return out


def extmap_uris(section):
    return set(re.findall(r"a=extmap:\d+(?:/\w+)? (\S+)", section))


def opus_fmtp(section):
    pt = re.search(r"a=rtpmap:(\d+) opus/48000", section, re.I)
    m = pt and re.search(r"a=fmtp:%s (\S+)" % pt.group(1), section)
    return set(m.group(1).split(";")) if m else set()


def with_video_exts(sdp):
    """aiortc's offer plus the three video extensions it does not offer."""
    video = sections(sdp)["video"]
    used = {int(i) for i in re.findall(r"a=extmap:(\d+)", sdp)}
    free = [i for i in range(1, 15) if i not in used][:3]
    extra = "".join("a=extmap:%d %s\r\n" % (i, u)
                    for i, u in zip(free, (EXT_ORIENT, EXT_DELAY, EXT_TWCC)))
    return sdp.replace(video, video.rstrip("\r\n") + "\r\n" + extra.rstrip("\r\n"), 1)


async def publish(h, peer, munge=None):
    """`publish` with aiortc's offer (munged if asked); returns the answer SDP."""
    await peer.pc.setLocalDescription(await peer.pc.createOffer())
    sdp = peer.pc.localDescription.sdp
    if munge:
        sdp = munge(sdp)
    data, jsep = await h.async_({"request": "publish"},
                                {"type": "offer", "sdp": sdp, "trickle": False}, 15)
    check(data.get("configured") == "ok" and jsep and jsep.get("type") == "answer",
          "publish: configured with an answer", data, jsep)
    await peer.set_answer(jsep["sdp"])
    return jsep["sdp"]


async def joined_publisher(c, room, peer, munge=None, **join):
    h = await VrHandle.attach(c)
    joined = await h.join(room, display="pub", **join)
    answer = await publish(h, peer, munge)
    await h.core_event("webrtcup", 15)
    return h, joined["id"], answer


@tap.test("the publisher's answer: extensions and Opus FEC/DTX follow the room (defaults: "
          "all extensions, useinbandfec=1; off: none of them, usedtx=1 without FEC)")
async def test_answer_follows_room():
    async with JanusClient("ws") as c:
        await c.create_session()
        await create_room(c, 601)
        await create_room(c, 602, audiolevel_ext=False, videoorient_ext=False,
                          playoutdelay_ext=False, transport_wide_cc_ext=False,
                          opus_fec=False, opus_dtx=True)
        answers = {}
        for room in (601, 602):
            peer = RoomPeer(publish=True)
            try:
                _, _, answers[room] = await joined_publisher(c, room, peer, with_video_exts)
            finally:
                await peer.close()
        on, off = sections(answers[601]), sections(answers[602])
        check(EXT_LEVEL in extmap_uris(on["audio"]), "default room: audio level accepted",
              on["audio"])
        check({EXT_ORIENT, EXT_DELAY, EXT_TWCC} <= extmap_uris(on["video"]),
              "default room: the video extensions accepted", on["video"])
        check("useinbandfec=1" in opus_fmtp(on["audio"]) and
              "usedtx=1" not in opus_fmtp(on["audio"]),
              "default room: useinbandfec=1, no usedtx", on["audio"])
        check(EXT_LEVEL not in extmap_uris(off["audio"]), "audiolevel_ext off: no audio level",
              off["audio"])
        check(not ({EXT_ORIENT, EXT_DELAY, EXT_TWCC} & extmap_uris(off["video"])),
              "the video extensions refused", off["video"])
        check("usedtx=1" in opus_fmtp(off["audio"]) and
              "useinbandfec=1" not in opus_fmtp(off["audio"]),
              "opus_fec off, opus_dtx on: usedtx=1 only", off["audio"])
        check("urn:ietf:params:rtp-hdrext:sdes:mid" in extmap_uris(off["audio"]),
              "the mid extension is always accepted", off["audio"])


async def talking_seen(c, room, audiolevel_ext, wait):
    """Publishes a loud tone in a new room; returns whether `talking` came,
    and the audio m-section of a subscriber's offer."""
    await create_room(c, room, audiolevel_event=True, audio_active_packets=25,
                      audio_level_average=40, audiolevel_ext=audiolevel_ext)
    observer = await VrHandle.attach(c)
    await observer.join(room, display="observer")
    peer, sub = RoomPeer(publish=True), RoomPeer()
    tone = ToneTrack()
    [s for s in peer.pc.getSenders() if s.track and s.track.kind == "audio"][0].replaceTrack(tone)
    try:
        _, pid, _ = await joined_publisher(c, room, peer)
        sh = await VrHandle.attach(c)
        _, jsep = await sh.join(room, "subscriber", streams=[{"feed": pid}])
        offer_audio = sections(jsep["sdp"])["audio"]
        try:
            await observer.event(lambda d: d.get("videoroom") == "talking", wait, "talking")
            talked = True
        except Exception:
            talked = False
        return talked, tone.sent, offer_audio
    finally:
        await peer.close()
        await sub.close()


@tap.test("audiolevel_ext off: a loud publisher makes no talking event and subscribers are "
          "offered no audio level (the same tone with it on: talking, and the extension)")
async def test_audiolevel_flow():
    async with JanusClient("ws") as c:
        await c.create_session()
        talked, _, offer = await talking_seen(c, 603, True, 10)
        check(talked, "control: no talking event with audiolevel_ext on")
        check(EXT_LEVEL in extmap_uris(offer), "control: the subscriber offer has the level",
              offer)
        talked, sent, offer = await talking_seen(c, 604, False, 6)
        check(not talked, "a talking event although the room has audiolevel_ext off")
        check(sent > 200, "the tone was sent (%d frames)" % sent)
        check(EXT_LEVEL not in extmap_uris(offer), "the subscriber offer has the audio level",
              offer)


@tap.test("room 1234 out of the box (no %s): Janus's Demo Room, and a publisher joins it "
          "and sends media" % CONF_FILE)
async def test_room_1234_default():
    async with JanusClient("ws") as c:
        await c.create_session()
        h = await VrHandle.attach(c)
        d = await h.sync({"request": "exists", "room": 1234})
        check(d.get("exists") is True, "exists 1234", d)
        d = await h.sync({"request": "list"})
        e = [r for r in d.get("list", []) if r.get("room") == 1234]
        check(e and e[0].get("description") == "Demo Room" and e[0].get("max_publishers") == 6
              and e[0].get("bitrate") == 128000 and e[0].get("fir_freq") == 10,
              "room 1234 is the sample's", d)
        peer = RoomPeer(publish=True)
        try:
            await joined_publisher(c, 1234, peer)
            await asyncio.sleep(2)
            check(peer.sent()["video"] > 20, "the publisher sent video", peer.sent())
            d = await h.sync({"request": "listparticipants", "room": 1234})
            check(any(p.get("publisher") for p in d.get("participants", [])),
                  "the publisher is listed in room 1234", d)
        finally:
            await peer.close()


@tap.test("a config file Janus wrote (no room 1234): 1234 does not exist; its rooms load "
          "with their string values (private, pin, secret)", timeout=40)
async def test_janus_file():
    srv = Server(files={CONF_FILE: JANUS_FILE}, args=["-E", PEER_IP], offset=10)
    async with srv:
        async with JanusClient("ws", port=srv.ws_port) as c:
            await c.create_session()
            h = await VrHandle.attach(c)
            d = await h.sync({"request": "exists", "room": 1234})
            check(d.get("exists") is False, "room 1234 exists although the file lacks it", d)
            for room in (4321, 4322):
                d = await h.sync({"request": "exists", "room": room})
                check(d.get("exists") is True, "room %d from the Janus file" % room, d)
            d = await h.sync({"request": "list"})
            rooms = {r.get("room"): r for r in d.get("list", [])}
            check(4321 not in rooms, "is_private = \"yes\": 4321 is hidden from list", d)
            check(rooms.get(4322, {}).get("bitrate") == 256000, "bitrate = \"256000\"", d)
            j = await VrHandle.attach(c)
            data, _ = await j.async_({"request": "join", "room": 4321, "ptype": "publisher",
                                      "pin": "wrong"})
            vr_error(data, 433, "pin = \"p1\" is checked")
            await j.join(4321, pin="p1")
            d = await h.sync({"request": "edit", "room": 4321, "secret": "x",
                              "new_description": "y"})
            vr_error(d, 433, "secret = \"s3\" is checked")


@tap.test("signed_tokens, record, dummy_publisher = true are refused with 430 and the reason; "
          "false is accepted")
async def test_unsupported_refused():
    async with JanusClient("ws") as c:
        await c.create_session()
        h = await VrHandle.attach(c)
        for key, room in (("signed_tokens", 611), ("record", 612), ("dummy_publisher", 613)):
            d = await h.sync({"request": "create", "room": room, key: True})
            vr_error(d, 430, key)
            check(key in d["error"] and "not supported" in d["error"], "the reason", d)
            d = await h.sync({"request": "exists", "room": room})
            check(d.get("exists") is False, "a refused room was created", d)
            d = await h.sync({"request": "create", "room": room, key: False})
            check(d.get("videoroom") == "created", "%s false is accepted" % key, d)


if __name__ == "__main__":
    why = videoroom_missing() or skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run(shared=Server(args=["-E", PEER_IP]))
