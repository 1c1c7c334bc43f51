#!/usr/bin/env python3
"""janus.plugin.videoroom room management (janus-api-compat.md §8.2):
every synchronous request (create, edit, destroy, exists, list, allowed,
kick, moderate, listparticipants, listforwarders) with its secret checks
(missing -> 429, wrong -> 433), the events it causes (destroyed, kicked,
leaving), the installed sample config (room 1234), permanent rooms that
survive a SIGKILL, the publishers limit (432, with aiortc offers), and
hostile input: wrong types everywhere (430), unknown requests, rooms and
feeds, requests in the wrong state (424, 425, 423), 1,000 rapid
attach/join/(leave)/detach cycles after which the server still answers
and exits 0 on SIGINT with no sanitizer report, and 400 subscriber cycles
on a live aiortc feed (join -> offer -> leave or not -> detach, some with a
participant handle and its private_id, some answered through ICE/DTLS)
after which the Admin API's session and handle lists are back to the
baseline and the VideoRoom's own counts (its admin `stats`) back to zero.

Most tests share one server whose videoroom config sets an admin_key (so
`create` needs it, and `list` shows private rooms with it); the config and
permanence tests start their own servers on other ports, with their own
config folders. Over WebSocket, and some over HTTP as well ([http]).
Rooms get random ids so the tests do not depend on each other.

Skipped (1..0) while the plugins folder has no VideoRoom plugin.
"""

import asyncio
import json
import os
import random
import signal
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (  # noqa: E402
    JanusClient, Server, Tap, check, diag, expect,
)

from aiortc_peer import (  # noqa: E402
    PEER_IP, RoomPeer, VrHandle, skip_reason, videoroom_missing, vr_data, vr_error, vr_publish,
    vr_start,
)

tap = Tap(timeout=30)

ADMIN_KEY = "vr-admin-key"
CONF_FILE = "janus.plugin.videoroom.jcfg"
SHARED_CONF = 'general: {\n\tadmin_key = "%s"\n}\n' % ADMIN_KEY
SAMPLE = "janus.plugin.videoroom.jcfg.sample"

# The keys every `list` entry has (§8.2.2).
LIST_KEYS = ("room", "description", "pin_required", "is_private", "max_publishers", "bitrate",
             "fir_freq", "require_pvtid", "require_e2ee", "dummy_publisher", "notify_joining",
             "audiocodec", "videocodec", "record", "lock_record", "num_participants",
             "audiolevel_ext", "audiolevel_event", "videoorient_ext", "playoutdelay_ext",
             "transport_wide_cc_ext")


def rid():
    return random.randrange(10 ** 6, 2 ** 31)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


async def client(transport="ws", port=None):
    c = await JanusClient(transport, port=port).open()
    await c.create_session()
    return c


async def handle(c):
    return await VrHandle.attach(c)


async def create(h, admin_key=ADMIN_KEY, **fields):
    """create that must succeed; returns the room id."""
    body = dict(fields, request="create")
    if admin_key is not None:
        body["admin_key"] = admin_key
    data = await h.sync(body)
    check(data.get("videoroom") == "created", "create failed", body, data)
    check(is_int(data.get("room")) and data["room"] > 0, "created without a room id", data)
    check(data.get("permanent") is bool(fields.get("permanent")), "created: permanent", data)
    if "room" in fields:
        check(data["room"] == fields["room"], "created another room id", data)
    return data["room"]


async def listed(h, admin_key=None):
    body = {"request": "list"}
    if admin_key is not None:
        body["admin_key"] = admin_key
    data = await h.sync(body)
    check(data.get("videoroom") == "success" and isinstance(data.get("list"), list),
          "list: expected success with a list", data)
    return {e.get("room"): e for e in data["list"]}


async def exists(h, room):
    data = await h.sync({"request": "exists", "room": room})
    check(data.get("videoroom") == "success" and data.get("room") == room and
          isinstance(data.get("exists"), bool), "exists: reply", data)
    return data["exists"]


async def sync_error(h, body, code, what=None):
    return vr_error(await h.sync(body), code, what or json.dumps(body))


async def async_error(h, body, code, jsep=None, what=None):
    data, ev_jsep = await h.async_(body, jsep)
    check(ev_jsep is None, "an error event with a JSEP", data, ev_jsep)
    return vr_error(data, code, what or json.dumps(body))


async def secret_checks(h, body, field="secret"):
    """The request without `field` -> 429, with a wrong one -> 433."""
    b = dict(body)
    b.pop(field, None)
    await sync_error(h, b, 429, "%s without %s" % (body["request"], field))
    b[field] = "wrong-" + field
    await sync_error(h, b, 433, "%s with a wrong %s" % (body["request"], field))


def is_vr_event(key, value=None, room=None):
    def pred(d):
        if key not in d:
            return False
        if value is not None and d.get(key) != value:
            return False
        return room is None or d.get("room") == room
    return pred


# ---------------------------------------------------------------- create, exists, list

@tap.both("create: explicit id, random id (53-bit integer), existing -> 427, "
          "admin_key missing -> 429 / wrong -> 433; exists true/false; destroy")
async def test_create(transport):
    c = await client(transport)
    try:
        h = await handle(c)
        room = rid()
        await create(h, room=room)
        check(await exists(h, room), "the created room does not exist")
        other = await create(h)
        check(other < 2 ** 53 and other != room, "random room id", other)
        check(await exists(h, other), "the random-id room does not exist")
        await sync_error(h, {"request": "create", "room": room, "admin_key": ADMIN_KEY}, 427)
        await secret_checks(h, {"request": "create", "room": rid(), "admin_key": ADMIN_KEY},
                            "admin_key")
        check(not await exists(h, rid()), "a room that was never created exists")
        for r in (room, other):
            d = await h.sync({"request": "destroy", "room": r})
            check(d.get("videoroom") == "destroyed" and d.get("room") == r and
                  d.get("permanent") is False, "destroy: reply", d)
            check(not await exists(h, r), "the destroyed room still exists")
        # Request names are matched case-insensitively (§0).
        d = await h.sync({"request": "EXISTS", "room": room})
        check(d.get("exists") is False, "EXISTS (upper case)", d)
    finally:
        await c.close()


@tap.both("list: every entry has the §8.2.2 keys; settings and defaults as created; "
          "private rooms only with the right admin_key (wrong -> 433)")
async def test_list(transport):
    c = await client(transport)
    try:
        h = await handle(c)
        plain = await create(h, room=rid())
        full = await create(h, room=rid(), description="Full room", secret="s", pin="p",
                            publishers=5, bitrate=100000, fir_freq=7, audiocodec="opus,pcmu",
                            videocodec="vp8,h264", require_pvtid=True, notify_joining=True)
        low = await create(h, room=rid(), bitrate=1000)
        private = await create(h, room=rid(), is_private=True, description="Hidden")
        rooms = await listed(h)
        for r in (plain, full, low):
            check(r in rooms, "room %d not listed" % r, list(rooms))
            missing = [k for k in LIST_KEYS if k not in rooms[r]]
            check(not missing, "list entry without %s" % missing, rooms[r])
        e = rooms[plain]
        want = {"description": "Room %d" % plain, "pin_required": False, "is_private": False,
                "max_publishers": 3, "bitrate": 0, "fir_freq": 0, "require_pvtid": False,
                "audiocodec": "opus", "videocodec": "vp8", "num_participants": 0,
                "record": False, "notify_joining": False}
        bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
        check(not bad, "defaults differ: %s" % bad, e)
        e = rooms[full]
        want = {"description": "Full room", "pin_required": True, "max_publishers": 5,
                "bitrate": 100000, "fir_freq": 7, "audiocodec": "opus,pcmu",
                "videocodec": "vp8,h264", "require_pvtid": True, "notify_joining": True}
        bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
        check(not bad, "settings differ: %s" % bad, e)
        check("secret" not in e and "pin" not in e, "list shows the secret or the pin", e)
        check(rooms[low].get("bitrate") == 64000, "bitrate 1000 is raised to 64000", rooms[low])
        check(private not in rooms, "a private room is listed without admin_key")
        check(await exists(h, private), "exists is false for a private room")
        rooms = await listed(h, ADMIN_KEY)
        check(private in rooms and rooms[private].get("is_private") is True and
              rooms[private].get("description") == "Hidden",
              "the private room is not listed with the admin_key", rooms.get(private))
        await sync_error(h, {"request": "list", "admin_key": "wrong"}, 433)
        for r in (plain, full, low, private):
            body = {"request": "destroy", "room": r}
            if r == full:
                body["secret"] = "s"
            check((await h.sync(body)).get("videoroom") == "destroyed", "destroy %d" % r)
    finally:
        await c.close()


# ---------------------------------------------------------------- edit, destroy

@tap.test("edit: secret 429/433, unknown room 426, wrong types 430; new_* settings show in "
          "list, the new secret and the new pin replace the old ones")
async def test_edit():
    c = await client()
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s1", pin="p1", description="before")
        await secret_checks(h, {"request": "edit", "room": room, "new_description": "x"})
        await sync_error(h, {"request": "edit", "room": rid(), "secret": "s1"}, 426)
        for k, v in (("new_publishers", "7"), ("new_is_private", "yes"), ("new_description", 5),
                     ("new_bitrate", "x"), ("new_secret", 1), ("new_pin", True),
                     ("new_fir_freq", "x"), ("new_require_pvtid", 1)):
            await sync_error(h, {"request": "edit", "room": room, "secret": "s1", k: v}, 430)
        d = await h.sync({"request": "edit", "room": room, "secret": "s1",
                          "new_description": "after", "new_publishers": 7,
                          "new_bitrate": 200000, "new_fir_freq": 3, "new_is_private": True,
                          "new_require_pvtid": True, "new_secret": "s2", "new_pin": "p2"})
        check(d.get("videoroom") == "edited" and d.get("room") == room and
              d.get("permanent") is False, "edit: reply", d)
        rooms = await listed(h)
        check(room not in rooms, "new_is_private: still listed without admin_key")
        e = (await listed(h, ADMIN_KEY)).get(room) or {}
        want = {"description": "after", "max_publishers": 7, "bitrate": 200000, "fir_freq": 3,
                "is_private": True, "require_pvtid": True, "pin_required": True}
        bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
        check(not bad, "edited settings differ: %s" % bad, e)
        await sync_error(h, {"request": "edit", "room": room, "secret": "s1"}, 433,
                         "edit with the old secret")
        j = await handle(c)
        await async_error(j, {"request": "join", "room": room, "ptype": "publisher",
                              "pin": "p1"}, 433, what="join with the old pin")
        await j.join(room, pin="p2")
        d = await h.sync({"request": "destroy", "room": room, "secret": "s2"})
        check(d.get("videoroom") == "destroyed", "destroy with the new secret", d)
    finally:
        await c.close()


@tap.both("destroy: secret 429/433; every participant gets {videoroom:destroyed}; "
          "then exists false, destroy 426, join 426")
async def test_destroy(transport):
    c = await client(transport)
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s")
        a, b = await handle(c), await handle(c)
        await a.join(room, display="a")
        await b.join(room, display="b")
        await secret_checks(h, {"request": "destroy", "room": room})
        d = await h.sync({"request": "destroy", "room": room, "secret": "s"})
        check(d == {"videoroom": "destroyed", "room": room, "permanent": False},
              "destroy: reply", d)
        for p in (a, b):
            ev = await p.event(lambda x: x.get("videoroom") == "destroyed", 5,
                               "destroyed event on a participant")
            check(vr_data(ev).get("room") == room, "destroyed event: room", ev)
        check(not await exists(h, room), "exists after destroy")
        await sync_error(h, {"request": "destroy", "room": room, "secret": "s"}, 426)
        j = await handle(c)
        await async_error(j, {"request": "join", "room": room, "ptype": "publisher"}, 426)
    finally:
        await c.close()


# ---------------------------------------------------------------- allowed, kick, moderate

@tap.test("allowed: secret 429/433, bad action 430; add/remove edit the list, enable "
          "checks join tokens (433 without or with a wrong one), disable stops checking; "
          "create with allowed enforces it at once")
async def test_allowed():
    c = await client()
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s")
        await secret_checks(h, {"request": "allowed", "room": room, "action": "add",
                                "allowed": ["x"]})
        base = {"request": "allowed", "room": room, "secret": "s"}
        await sync_error(h, dict(base, action="nope"), 430)
        await sync_error(h, dict(base, action=5), 430)
        await sync_error(h, base, 429, "allowed without an action")
        await sync_error(h, dict(base, action="add", allowed="tok-a"), 430)
        await sync_error(h, dict(base, request="allowed", room=rid(), action="enable"), 426)
        d = await h.sync(dict(base, action="add", allowed=["tok-a", "tok-b"]))
        check(d.get("videoroom") == "success" and d.get("room") == room and
              sorted(d.get("allowed") or []) == ["tok-a", "tok-b"], "add: reply", d)
        d = await h.sync(dict(base, action="enable"))
        check(d.get("videoroom") == "success", "enable: reply", d)
        d = await h.sync(dict(base, action="remove", allowed=["tok-b"]))
        check(d.get("allowed") == ["tok-a"], "remove: reply", d)
        j = await handle(c)
        join = {"request": "join", "room": room, "ptype": "publisher"}
        await async_error(j, join, 433, what="join without a token")
        await async_error(j, dict(join, token="tok-b"), 433, what="join with a removed token")
        await j.join(room, token="tok-a")
        d = await h.sync(dict(base, action="disable"))
        check(d.get("videoroom") == "success" and "allowed" not in d, "disable: reply", d)
        await (await handle(c)).join(room)
        acl = await create(h, room=rid(), allowed=["only"])
        await async_error(await handle(c), {"request": "join", "room": acl, "ptype": "publisher"},
                          433, what="join a room created with allowed, no token")
        await (await handle(c)).join(acl, token="only")
    finally:
        await c.close()


@tap.test("kick: secret 429/433, id missing 429, unknown 428; the kicked user gets "
          "leaving:ok reason:kicked, the others kicked:<id>; it is gone from listparticipants")
async def test_kick():
    c = await client()
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s")
        o, t = await handle(c), await handle(c)
        oid = (await o.join(room, display="observer"))["id"]
        tid = (await t.join(room, display="target"))["id"]
        await secret_checks(h, {"request": "kick", "room": room, "id": tid})
        await sync_error(h, {"request": "kick", "room": room, "secret": "s"}, 429)
        await sync_error(h, {"request": "kick", "room": room, "secret": "s", "id": "x"}, 430)
        await sync_error(h, {"request": "kick", "room": room, "secret": "s", "id": 12345}, 428)
        await sync_error(h, {"request": "kick", "room": rid(), "secret": "s", "id": tid}, 426)
        d = await h.sync({"request": "kick", "room": room, "secret": "s", "id": tid})
        check(d.get("videoroom") == "success", "kick: reply", d)
        ev = vr_data(await t.event(is_vr_event("leaving"), 5, "leaving on the kicked handle"))
        check(ev.get("leaving") == "ok" and ev.get("reason") == "kicked" and
              ev.get("room") == room, "the kicked user's event", ev)
        ev = vr_data(await o.event(is_vr_event("kicked"), 5, "kicked on the other participant"))
        check(ev.get("kicked") == tid and ev.get("room") == room, "the others' event", ev)
        d = await h.sync({"request": "listparticipants", "room": room})
        ids = [p.get("id") for p in d.get("participants") or []]
        check(ids == [oid], "participants after the kick", d)
        await sync_error(h, {"request": "kick", "room": room, "secret": "s", "id": tid}, 428,
                         "kick the same user twice")
    finally:
        await c.close()


@tap.test("moderate (no media): secret 429/433, missing id/mid/mute 429, wrong types 430, "
          "unknown user 428, unknown mid 428")
async def test_moderate_errors():
    c = await client()
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s")
        p = await handle(c)
        pid = (await p.join(room))["id"]
        body = {"request": "moderate", "room": room, "secret": "s", "id": pid, "mid": "0",
                "mute": True}
        await secret_checks(h, body)
        for k in ("id", "mid", "mute"):
            b = dict(body)
            del b[k]
            await sync_error(h, b, 429, "moderate without %s" % k)
        for k, v in (("id", "x"), ("mid", 0), ("mute", "yes")):
            await sync_error(h, dict(body, **{k: v}), 430, "moderate with %s=%r" % (k, v))
        await sync_error(h, dict(body, id=12345), 428)
        await sync_error(h, body, 428, "moderate a mid the participant does not publish")
        await sync_error(h, dict(body, room=rid()), 426)
    finally:
        await c.close()


# ---------------------------------------------------------------- listparticipants, listforwarders

@tap.both("listparticipants: id, display, publisher:false for joined non-publishers; "
          "missing room 429, unknown 426; listforwarders: secret 429/433, empty publishers")
async def test_lists(transport):
    c = await client(transport)
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s")
        d = await h.sync({"request": "listparticipants", "room": room})
        # "subscribers" is Stoa's: subscriber handles in the room (viewer count).
        check(d == {"videoroom": "participants", "room": room, "participants": [],
                    "subscribers": 0}, "listparticipants of an empty room", d)
        a, b = await handle(c), await handle(c)
        aid = (await a.join(room, display="alice"))["id"]
        bid = (await b.join(room))["id"]
        d = await h.sync({"request": "listparticipants", "room": room})
        got = {p.get("id"): p for p in d.get("participants") or []}
        check(set(got) == {aid, bid}, "participants", d)
        check(got[aid].get("display") == "alice" and got[aid].get("publisher") is False and
              got[bid].get("publisher") is False and "display" not in got[bid],
              "participant entries", d)
        await sync_error(h, {"request": "listparticipants"}, 429)
        await sync_error(h, {"request": "listparticipants", "room": "x"}, 430)
        await sync_error(h, {"request": "listparticipants", "room": rid()}, 426)
        await secret_checks(h, {"request": "listforwarders", "room": room})
        d = await h.sync({"request": "listforwarders", "room": room, "secret": "s"})
        check(d == {"videoroom": "forwarders", "room": room, "publishers": []},
              "listforwarders with no publisher", d)
        await sync_error(h, {"request": "listforwarders", "room": rid(), "secret": "s"}, 426)
    finally:
        await c.close()


# ---------------------------------------------------------------- config file

def sample_text():
    src = os.environ.get("STOA_SRCDIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    path = os.path.join(src, "conf", SAMPLE)
    check(os.path.isfile(path), "conf/%s is missing (it is installed with the plugin)" % SAMPLE,
          path)
    with open(path) as f:
        return f.read()


@tap.test("the installed sample config (conf/%s as %s): room 1234 \"Demo Room\", "
          "publishers 6, bitrate 128000, fir_freq 10, secret adminpwd" % (SAMPLE, CONF_FILE))
async def test_sample_config():
    srv = Server(files={CONF_FILE: sample_text()}, offset=10)
    async with srv:
        c = await client(port=srv.ws_port)
        try:
            h = await handle(c)
            check(await exists(h, 1234), "room 1234 does not exist")
            e = (await listed(h)).get(1234)
            check(e is not None, "room 1234 is not listed")
            want = {"description": "Demo Room", "max_publishers": 6, "bitrate": 128000,
                    "fir_freq": 10, "record": False, "pin_required": False}
            bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
            check(not bad, "room 1234 differs: %s" % bad, e)
            await sync_error(h, {"request": "edit", "room": 1234, "new_description": "x"}, 429)
            d = await h.sync({"request": "edit", "room": 1234, "secret": "adminpwd",
                              "new_description": "Edited"})
            check(d.get("videoroom") == "edited", "edit with the sample's secret", d)
            # No admin_key in the sample: anybody may create.
            await create(h, admin_key=None, room=rid())
        finally:
            await c.close()


async def restart(srv):
    """SIGKILL right away (no clean shutdown, nothing flushed on exit),
    then the same binary on the same config folder."""
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv.kill()
    await srv.start()


def conf_text(srv):
    try:
        with open(os.path.join(srv.folder, CONF_FILE)) as f:
            return f.read()
    except OSError:
        return None


@tap.test("permanent rooms: create/edit/destroy with permanent:true survive a SIGKILL right "
          "after the reply (settings, secret, pin); a non-permanent room does not", timeout=45)
async def test_permanent():
    srv = Server(files={CONF_FILE: "general: {\n}\n"}, offset=20)
    async with srv:
        room, temp = rid(), rid()
        c = await client(port=srv.ws_port)
        try:
            h = await handle(c)
            await create(h, admin_key=None, room=room, permanent=True, description="Kept",
                         secret="s", pin="p", publishers=4, bitrate=256000, fir_freq=5,
                         audiocodec="opus,pcmu", videocodec="vp8,vp9", require_pvtid=True)
            await create(h, admin_key=None, room=temp, description="Temporary")
        finally:
            await c.close()
        await restart(srv)
        check("room-%d" % room in (conf_text(srv) or ""), "room-%d not in %s" % (room, CONF_FILE),
              conf_text(srv))
        c = await client(port=srv.ws_port)
        try:
            h = await handle(c)
            check(await exists(h, room), "the permanent room is gone after the restart")
            check(not await exists(h, temp), "the non-permanent room survived the restart")
            e = (await listed(h)).get(room) or {}
            want = {"description": "Kept", "pin_required": True, "max_publishers": 4,
                    "bitrate": 256000, "fir_freq": 5, "audiocodec": "opus,pcmu",
                    "videocodec": "vp8,vp9", "require_pvtid": True}
            bad = {k: e.get(k) for k, v in want.items() if e.get(k) != v}
            check(not bad, "settings after the restart differ: %s" % bad, e)
            await secret_checks(h, {"request": "edit", "room": room, "new_description": "x"})
            j = await handle(c)
            await async_error(j, {"request": "join", "room": room, "ptype": "publisher",
                                  "pin": "wrong"}, 433, what="join with a wrong pin")
            await j.join(room, pin="p")
            d = await h.sync({"request": "edit", "room": room, "secret": "s", "permanent": True,
                              "new_description": "Kept again", "new_publishers": 2})
            check(d == {"videoroom": "edited", "room": room, "permanent": True},
                  "edit permanent: reply", d)
        finally:
            await c.close()
        await restart(srv)
        c = await client(port=srv.ws_port)
        try:
            h = await handle(c)
            e = (await listed(h)).get(room) or {}
            check(e.get("description") == "Kept again" and e.get("max_publishers") == 2,
                  "the permanent edit was lost", e)
            d = await h.sync({"request": "destroy", "room": room, "secret": "s",
                              "permanent": True})
            check(d == {"videoroom": "destroyed", "room": room, "permanent": True},
                  "destroy permanent: reply", d)
        finally:
            await c.close()
        await restart(srv)
        check("room-%d" % room not in (conf_text(srv) or ""),
              "room-%d still in %s" % (room, CONF_FILE), conf_text(srv))
        c = await client(port=srv.ws_port)
        try:
            check(not await exists(await handle(c), room),
                  "the permanently destroyed room is back after the restart")
        finally:
            await c.close()


@tap.test("permanent:true with no %s in the config folder: the file is created and the "
          "room survives a SIGKILL" % CONF_FILE, timeout=30)
async def test_permanent_no_file():
    srv = Server(offset=30)
    async with srv:
        check(conf_text(srv) is None, "the folder already has %s" % CONF_FILE)
        room = rid()
        c = await client(port=srv.ws_port)
        try:
            h = await handle(c)
            d = await h.sync({"request": "create", "room": room, "permanent": True,
                              "description": "Filed"})
            check(d == {"videoroom": "created", "room": room, "permanent": True},
                  "create permanent without a config file", d)
        finally:
            await c.close()
        await restart(srv)
        check("room-%d" % room in (conf_text(srv) or ""), "%s not written" % CONF_FILE,
              conf_text(srv))
        c = await client(port=srv.ws_port)
        try:
            h = await handle(c)
            check(await exists(h, room), "the room is gone after the restart")
            check((await listed(h)).get(room, {}).get("description") == "Filed",
                  "description after the restart")
        finally:
            await c.close()


# ---------------------------------------------------------------- with media (aiortc)

@tap.test("with aiortc: publishers:1 -> a second publisher's offer gets 432; jsep on a "
          "subscriber join 423; subscribing to your own feed from another handle works, a "
          "second join 425; moderate mutes/unmutes a published mid (everyone told); unpublish "
          "frees the slot", timeout=60)
async def test_media():
    c = await client()
    peers = []
    try:
        h = await handle(c)
        room = await create(h, room=rid(), secret="s", publishers=1)
        p1, p2 = await handle(c), await handle(c)
        j1 = await p1.join(room, display="first")
        a = RoomPeer(publish=True)
        b = RoomPeer(publish=True)
        peers += [a, b]
        cfg = await vr_publish(p1, a)
        await p1.core_event("webrtcup")
        mids = {s.get("type"): s.get("mid") for s in cfg.get("streams") or []}
        check(mids.get("audio") is not None and mids.get("video") is not None,
              "configured: audio and video streams", cfg)
        j2 = await p2.join(room, display="second")
        pubs = [p.get("id") for p in j2.get("publishers") or []]
        check(pubs == [j1["id"]], "joined: publishers lists the active one", j2)
        offer = await b.offer()
        jsep = {"type": "offer", "sdp": offer, "trickle": False}
        err = await async_error(p2, {"request": "publish"}, 432, jsep,
                                "publish over the publishers limit")
        diag("432: %s" % err["error"])
        lp = await h.sync({"request": "listparticipants", "room": room})
        flags = {p.get("id"): p.get("publisher") for p in lp.get("participants") or []}
        check(flags == {j1["id"]: True, j2["id"]: False}, "listparticipants publisher flags", lp)

        # Subscribers: an offer on join is refused, then a subscription to
        # p1's own feed from another handle of p1's session.
        await async_error(await handle(c), {"request": "join", "room": room,
                                            "ptype": "subscriber",
                                            "streams": [{"feed": j1["id"]}]}, 423, jsep,
                          "a subscriber join carrying an offer")
        s = await handle(c)
        sub = RoomPeer()
        peers.append(sub)
        att, ojsep = await s.join(room, "subscriber", streams=[{"feed": j1["id"]}],
                                  private_id=j1["private_id"])
        check(isinstance(ojsep, dict) and ojsep.get("type") == "offer", "attached + offer",
              att, ojsep)
        await vr_start(s, sub, ojsep)
        await s.core_event("webrtcup")
        await async_error(s, {"request": "join", "room": room, "ptype": "subscriber",
                              "streams": [{"feed": j1["id"]}]}, 425, what="second join")

        # moderate
        body = {"request": "moderate", "room": room, "secret": "s", "id": j1["id"],
                "mid": mids["audio"], "mute": True}
        await sync_error(h, dict(body, mid="nope"), 428)
        for mute, word in ((True, "muted"), (False, "unmuted")):
            d = await h.sync(dict(body, mute=mute))
            check(d.get("videoroom") == "success", "moderate: reply", d)
            for who, hh in (("the target", p1), ("the other participant", p2)):
                ev = vr_data(await hh.event(is_vr_event("moderation"), 5,
                                            "moderation event on %s" % who))
                check(ev.get("moderation") == word and ev.get("id") == j1["id"] and
                      ev.get("mid") == mids["audio"] and ev.get("room") == room,
                      "moderation event on %s" % who, ev)

        # unpublish: the others told, the subscriber updated, the slot free
        d, _ = await p1.async_({"request": "unpublish"})
        check(d.get("unpublished") == "ok" and d.get("room") == room, "unpublish: reply", d)
        ev = vr_data(await p2.event(is_vr_event("unpublished"), 5, "unpublished"))
        check(ev.get("unpublished") == j1["id"], "unpublished event", ev)
        hang = await p1.core_event("hangup", 5)
        check(hang.get("reason") == "Close PC", "unpublish hangup reason", hang)
        up = await s.event(lambda x: x.get("videoroom") == "updated", 5, "updated")
        check((up.get("jsep") or {}).get("type") == "offer", "updated without an offer", up)
        await async_error(p1, {"request": "unpublish"}, 435, what="unpublish twice")
        # The slot is free: a new publisher (its own handle: p2's refused
        # offer left p2's PeerConnection half-made) gets in.
        p3 = await handle(c)
        j3 = await p3.join(room, display="third")
        third = RoomPeer(publish=True)
        peers.append(third)
        await vr_publish(p3, third)
        await p3.core_event("webrtcup")
        ev = vr_data(await p2.event(is_vr_event("publishers"), 5, "the new publisher announced"))
        check([p.get("id") for p in ev["publishers"]] == [j3["id"]], "publishers event", ev)
    finally:
        for p in peers:
            await p.close()
        await c.close()


# ---------------------------------------------------------------- hostile input

CREATE_BAD = [
    ("room", "abc"), ("room", -1), ("room", 1.5), ("permanent", "yes"), ("description", 1),
    ("is_private", "yes"), ("secret", 1), ("pin", 1), ("allowed", "x"), ("allowed", [1]),
    ("require_pvtid", 1), ("signed_tokens", "x"), ("publishers", "3"), ("publishers", -1),
    ("bitrate", "x"), ("bitrate_cap", 1), ("fir_freq", True), ("audiocodec", 1),
    ("audiocodec", "mp3"), ("videocodec", ["vp8"]), ("videocodec", "theora"),
    ("opus_fec", "x"), ("opus_dtx", 1), ("audiolevel_ext", "x"), ("audiolevel_event", 1),
    ("audio_active_packets", "x"), ("audio_level_average", "x"), ("videoorient_ext", 1),
    ("playoutdelay_ext", "x"), ("transport_wide_cc_ext", 0), ("record", "no"),
    ("rec_dir", 1), ("lock_record", "x"), ("notify_joining", "x"), ("require_e2ee", 1),
    ("dummy_publisher", "x"), ("vp9_profile", 1), ("h264_profile", 1), ("admin_key", 5),
]

JOIN_BAD = [
    ("room", "x"), ("room", -5), ("ptype", 1), ("ptype", "watcher"), ("id", "5"),
    ("id", -3), ("display", 5), ("token", 5), ("metadata", "x"),
]

# Subscriber joins whose `streams` name an unknown feed (12345): a type error
# must be found before the feed is looked up (else 428).
SUBSCRIBE_BAD = [
    ("streams", "x"), ("streams", [{"feed": "x"}]), ("streams", [{"feed": 12345, "mid": 0}]),
    ("streams", [{"feed": 12345, "send": "yes"}]), ("private_id", "x"), ("use_msid", "x"),
    ("autoupdate", 1),
]


@tap.test("wrong types: every create field (%d cases) -> 430 and no room is created; "
          "join/subscriber-join fields -> 430 and the handle stays unconfigured"
          % len(CREATE_BAD))
async def test_wrong_types():
    c = await client()
    try:
        h = await handle(c)
        wrong = []   # every case is tried; the failures are reported together

        def expect_code(data, code, what):
            codes = code if isinstance(code, tuple) else (code,)
            if data.get("error_code") not in codes or not isinstance(data.get("error"), str):
                wrong.append("%s: expected %s, got %s" % (what, "/".join(map(str, codes)),
                                                          json.dumps(data)[:200]))

        before = set(await listed(h, ADMIN_KEY))
        for k, v in CREATE_BAD:
            body = {"request": "create", "admin_key": ADMIN_KEY, k: v}
            if k != "room":
                body["room"] = rid()
            expect_code(await h.sync(body), 430, "create with %s=%r" % (k, v))
        after = set(await listed(h, ADMIN_KEY))
        check(not wrong, "%d of %d create cases" % (len(wrong), len(CREATE_BAD)), *wrong)
        check(after == before, "rooms appeared after refused creates", sorted(after - before))
        room = await create(h, room=rid())
        pinned = await create(h, room=rid(), pin="p")
        join = {"request": "join", "room": room, "ptype": "publisher"}
        sub = {"request": "join", "room": room, "ptype": "subscriber",
               "streams": [{"feed": 12345}]}
        cases = [(dict(join, **{k: v}), 430, "join with %s=%r" % (k, v)) for k, v in JOIN_BAD]
        cases += [(dict(sub, **{k: v}), 430, "subscriber join with %s=%r" % (k, v))
                  for k, v in SUBSCRIBE_BAD]
        cases += [({"request": "join", "ptype": "publisher"}, 429, "join without room"),
                  ({"request": "join", "room": room}, 429, "join without ptype"),
                  (dict(join, room=pinned, pin=5), 430, "join with pin=5"),
                  (dict(sub, streams=[{"mid": "0"}]), 429, "subscriber join, no feed in a stream"),
                  (dict(sub, streams=[5]), (429, 430), "subscriber join with streams=[5]")]
        for body, code, what in cases:
            j = await handle(c)
            data, _ = await j.async_(body)
            expect_code(data, code, what)
            if data.get("error_code") is not None:
                # The refused join left the handle unconfigured.
                d, _ = await j.async_({"request": "join", "room": room, "ptype": "publisher"})
                if d.get("videoroom") != "joined":
                    wrong.append("%s: a good join after it failed: %s" % (what, json.dumps(d)))
            await j.detach()
        check(not wrong, "%d of %d join cases" % (len(wrong), len(cases)), *wrong)
    finally:
        await c.close()


@tap.test("requests: missing request 429, non-string 430, unknown 423 (synchronous, also "
          "after join); unknown room 426 on every room request; unknown feed 428; 424 before "
          "join; 425 on a second join; body not an object -> core 467")
async def test_requests():
    c = await client()
    try:
        h = await handle(c)
        for body, code in (({}, 429), ({"request": 5}, 430), ({"request": "nope"}, 423),
                           ({"request": ""}, 423)):
            await sync_error(h, body, code)
        r = await c.message([], handle_id=h.id)
        check(r.get("janus") == "error" and r["error"].get("code") == 467,
              "body [] should be refused by the core (467)", r)
        ghost = rid()
        for body in ({"request": "edit", "room": ghost, "secret": "x"},
                     {"request": "destroy", "room": ghost, "secret": "x"},
                     {"request": "allowed", "room": ghost, "secret": "x", "action": "enable"},
                     {"request": "kick", "room": ghost, "secret": "x", "id": 1},
                     {"request": "moderate", "room": ghost, "secret": "x", "id": 1, "mid": "0",
                      "mute": True},
                     {"request": "listparticipants", "room": ghost},
                     {"request": "listforwarders", "room": ghost, "secret": "x"}):
            await sync_error(h, body, 426)
        check(not await exists(h, ghost), "exists on an unknown room")
        for ptype in ("publisher", "subscriber"):
            await async_error(h, {"request": "join", "room": ghost, "ptype": ptype,
                                  "streams": [{"feed": 1}]}, 426)
        room = await create(h, room=rid())
        for req in ("configure", "publish", "unpublish", "start", "pause", "switch", "leave",
                    "subscribe", "unsubscribe", "update"):
            await async_error(h, {"request": req}, 424, what="%s before join" % req)
        o = await handle(c)
        oid = (await o.join(room))["id"]
        s = await handle(c)
        for feed in (12345, oid):   # unknown, and joined but not publishing
            await async_error(s, {"request": "join", "room": room, "ptype": "subscriber",
                                  "streams": [{"feed": feed}]}, 428)
        await async_error(o, {"request": "join", "room": room, "ptype": "publisher"}, 425)
        await async_error(o, {"request": "join", "room": room, "ptype": "subscriber",
                              "streams": [{"feed": oid}]}, 425)
        await async_error(o, {"request": "unpublish"}, 435)
        await async_error(s, {"request": "join", "room": room, "ptype": "publisher",
                              "id": oid}, 436, what="join with a taken id")
        for body, code in (({}, 429), ({"request": "nope"}, 423)):
            await sync_error(o, body, code, "%s after join" % json.dumps(body))
        d, _ = await o.async_({"request": "leave"})
        check(d.get("leaving") == "ok" and d.get("room") == room, "leave: reply", d)
    finally:
        await c.close()


CYCLES = 1000
WORKERS = 8


@tap.test("%d rapid join/leave cycles (attach, join, leave on every other one, detach; "
          "%d at a time): every leaving announced once, no participant left behind, the "
          "server still answers and exits 0 on SIGINT with no sanitizer report"
          % (CYCLES, WORKERS), timeout=120)
async def test_churn():
    srv = Server(offset=40)
    async with srv:
        c = await client(port=srv.ws_port)
        conns = [await client(port=srv.ws_port) for _ in range(WORKERS // 2)]
        try:
            h = await handle(c)
            room = await create(h, admin_key=None, room=rid())
            o = await handle(c)
            oid = (await o.join(room, display="observer"))["id"]
            joined = []
            todo = list(range(CYCLES))

            async def worker(k):
                cc = conns[k % len(conns)]
                while todo:
                    i = todo.pop()
                    hh = await handle(cc)
                    d = await hh.join(room, display="churn-%d" % i)
                    joined.append(d["id"])
                    if i % 2:
                        d, _ = await hh.async_({"request": "leave"})
                        check(d.get("leaving") == "ok", "leave", d)
                    expect(await hh.detach())
            t0 = time.monotonic()
            await asyncio.gather(*[worker(k) for k in range(WORKERS)])
            took = time.monotonic() - t0
            diag("%d cycles in %.1f s" % (CYCLES, took))
            check(len(set(joined)) == CYCLES, "joined ids are not unique")
            expect(await c.ping(), "pong")
            check(await exists(h, room), "exists after the churn")
            lp = await h.sync({"request": "listparticipants", "room": room})
            ids = [p.get("id") for p in lp.get("participants") or []]
            check(ids == [oid], "participants left behind: %d" % (len(ids) - 1),
                  json.dumps(ids)[:300])
            # The observer: one leaving per participant.
            await asyncio.sleep(0.5)
            left = {}
            deadline = time.monotonic() + 10
            while len(left) < CYCLES and time.monotonic() < deadline:
                try:
                    ev = vr_data(await o.event(is_vr_event("leaving"), 1, "leaving"))
                except Exception:  # noqa: B902 - counted below
                    break
                left[ev.get("leaving")] = left.get(ev.get("leaving"), 0) + 1
            twice = [k for k, n in left.items() if n > 1]
            check(set(left) == set(joined) and not twice,
                  "leaving events: %d distinct of %d, %d twice" % (len(left), CYCLES, len(twice)))
            n = await (await handle(c)).join(room)
            check(n.get("publishers") == [], "a fresh join after the churn", n)
        finally:
            for cc in conns:
                await cc.close()
            await c.close()
    # Server.stop (leaving the `async with`) checked exit 0 and the log.


SUB_CYCLES = 400
SUB_WORKERS = 6
FULL_EVERY = 20     # every FULL_EVERY-th cycle answers the offer and completes ICE/DTLS


async def admin_counts(port):
    """(sessions, handles) the Admin API lists, and the VideoRoom's own
    counts (its admin `stats`: rooms, participants, publishers, subscribers)."""
    async with JanusClient("http", admin=True, port=port) as a:
        sessions = expect(await a.request("list_sessions")).get("sessions") or []
        handles = 0
        for sid in sessions:
            r = await a.request("list_handles", session_id=sid)
            if r.get("janus") == "success":   # a session may end meanwhile
                handles += len(r.get("handles") or [])
        r = expect(await a.request("message_plugin", plugin="janus.plugin.videoroom",
                                   request={"request": "stats"}))
    return {"sessions": sorted(sessions), "handles": handles, "vr": r.get("response")}


@tap.test("%d subscriber join/offer/leave cycles on a live feed (%d at a time; half of them "
          "with a participant handle and its private_id, as janus.js does; every %dth one "
          "answers and completes ICE/DTLS): the Admin API's sessions and handles return to "
          "the baseline, the VideoRoom's participants, publishers and subscribers to zero"
          % (SUB_CYCLES, SUB_WORKERS, FULL_EVERY), timeout=240)
async def test_subscriber_churn():
    srv = Server(offset=50, args=["-E", PEER_IP])
    peers = []
    async with srv:
        c = await client(port=srv.ws_port)
        conns = [await client(port=srv.ws_port) for _ in range(3)]
        try:
            h = await handle(c)
            room = await create(h, admin_key=None, room=rid())
            base = await admin_counts(srv.admin_http_port)
            check(base["vr"].get("participants") == 0 and base["vr"].get("subscribers") == 0,
                  "VideoRoom counts before", base)
            ph = await handle(c)
            pid = (await ph.join(room, display="feed"))["id"]
            pub = RoomPeer(publish=True)
            peers.append(pub)
            await vr_publish(ph, pub)
            await ph.core_event("webrtcup", 15)
            todo = list(range(SUB_CYCLES))
            full = []

            async def cycle(cc, i):
                part = None
                body = {"streams": [{"feed": pid}]}
                if i % 2:
                    part = await handle(cc)
                    body["private_id"] = (await part.join(room))["private_id"]
                sh = await handle(cc)
                d, jsep = await sh.join(room, "subscriber", **body)
                check(isinstance(jsep, dict) and jsep.get("type") == "offer", "offer", d)
                if i % FULL_EVERY == 0:
                    peer = RoomPeer()
                    peers.append(peer)
                    await vr_start(sh, peer, jsep)
                    await sh.core_event("webrtcup", 15)
                    full.append(i)
                if i % 3:
                    d, _ = await sh.async_({"request": "leave"})
                    check(d.get("left") == "ok", "leave", d)
                expect(await sh.detach())
                if part is not None:
                    expect(await part.detach())

            async def worker(k):
                while todo:
                    await cycle(conns[k % len(conns)], todo.pop())
            t0 = time.monotonic()
            await asyncio.gather(*[worker(k) for k in range(SUB_WORKERS)])
            diag("%d subscriber cycles (%d with ICE/DTLS) in %.1f s"
                 % (SUB_CYCLES, len(full), time.monotonic() - t0))
            mid = await admin_counts(srv.admin_http_port)
            check(mid["vr"].get("subscribers") == 0 and mid["vr"].get("participants") == 1 and
                  mid["vr"].get("publishers") == 1, "VideoRoom counts after the churn", mid)
            expect(await ph.detach())
            deadline = time.monotonic() + 10
            while True:
                now = await admin_counts(srv.admin_http_port)
                if now == base or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            check(now == base, "counts did not return to the baseline", base, now)
            expect(await c.ping(), "pong")
        finally:
            for p in peers:
                await p.close()
            for cc in conns:
                await cc.close()
            await c.close()


if __name__ == "__main__":
    why = videoroom_missing() or skip_reason()
    if why:
        print("1..0 # SKIP %s" % why, flush=True)
        sys.exit(0)
    tap.run(shared=Server(files={CONF_FILE: SHARED_CONF}, args=["-E", PEER_IP]))
