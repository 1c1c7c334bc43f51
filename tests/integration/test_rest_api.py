#!/usr/bin/env python3
"""The REST admin API (/api/v1 and /metrics; docs/openapi.yaml), with a real
HTTP client (http.client) against the real server on loopback.

Every response any test gets is checked against docs/openapi.yaml: its
status must be documented for that operation (or be the 404/405 of a path
or method that does not exist), its content type listed, its JSON body
valid against the schema (python3-jsonschema, Draft 4 semantics as OpenAPI
3.0 uses, $refs resolved; the server's own objects allow no undocumented
field), its required headers present. A test also checks that the spec
has exactly the server's routes (routes[] in src/api/rest.c) and that the
server's 405 Allow answers match the spec's methods.

What is asserted:
  - auth on every endpoint: no token / unknown / another scheme -> 401 with
    WWW-Authenticate: Bearer; a read token on a write -> 403
    insufficient_scope; a write token and the admin_secret pass;
    rest_api.tokens records with bad scopes or no token stop start-up;
  - rooms: create (explicit and server-assigned ids, options, 201 +
    Location), get, list (with num_participants; private rooms only with
    ?include=private), patch (edit's fields; others immutable_field),
    delete (204, then 404); the plugin's admin_key is not asked for;
  - validation: unknown/missing/wrong-type/out-of-range fields -> 400 naming
    the field; bad JSON; bad query values; 404 for unknown paths and ids;
    405 with Allow; 413 over max_request_size (declared or chunked); 415
    for non-JSON bodies;
  - 16 threads creating the same room id: exactly one 201, fifteen 409;
  - a room made by REST joined by a Janus API client (with the room's pin)
    and listed by GET participants; changes are seen by both APIs at once;
    a REST kick reaches the participant (leaving/kicked) and the others
    (kicked); a REST destroy reaches participants (destroyed);
  - with aiortc publishing: participant info (codecs, subscribers 1 with
    an aiortc viewer, 0 after it left), moderate (moderated, 404 for an
    unknown mid), session detail with ICE and DTLS state, loop-running and
    packets in per mid, RTP forwarders made by REST deliver packets to a
    UDP socket, are listed, stopped (204, then 404);
  - sessions: list, detail, DELETE (the client gets `detached`);
  - info, health, ready (503 while accept_new_sessions is false), metrics
    (Prometheus text), open_health/open_metrics, on_main_port, enabled=false;
  - a permanent room survives a SIGKILL and restart; DELETE ?permanent=true
    removes it for good.

Only the aiortc test is skipped outside tests/ns-run (it needs 127.0.0.2 in
a private network namespace); everything else always runs, and fails
without the VideoRoom plugin.
"""

import asyncio
import http.client
import json
import os
import random
import re
import signal
import socket
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (  # noqa: E402
    ADMIN_HTTP_PORT, HOST, SANITIZER_MARKS, JanusClient, Server, Tap, check, expect, raw_http,
    run_stoa,
)

from aiortc_peer import (  # noqa: E402
    PEER_IP, RoomPeer, VrHandle, skip_reason, vr_publish, vr_subscribe,
)

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing Python module: %s (Debian python3-yaml and "
          "python3-jsonschema)" % e, flush=True)
    sys.exit(1)

tap = Tap(timeout=30)

ADMIN_SECRET = "rest-admin-secret"
READER, WRITER = "reader-token", "writer-token"
VR_ADMIN_KEY = "vr-admin-key"
MAX_REQUEST = 4096
VR_CONF = "janus.plugin.videoroom.jcfg"
VIDEOROOM = "janus.plugin.videoroom"

MAIN_CONF = """general: {
	admin_secret = "%s"
	max_request_size = %d
}
rest_api: {
	tokens = (
		{ token = "%s"; scopes = "read"; },
		{ token = "%s"; scopes = "read,write"; }
	);
}
""" % (ADMIN_SECRET, MAX_REQUEST, READER, WRITER)

def server_routes():
    """The server's route table: (method, pattern) of every row of routes[]
    in src/api/rest.c, read from the source so that a route added there
    without a line in docs/openapi.yaml fails test_spec_covers_endpoints."""
    path = os.path.join(os.environ.get("STOA_SRCDIR", "."), "src", "api", "rest.c")
    with open(path) as f:
        src = f.read()
    table = re.search(r"static const stoa_rest_route routes\[\] = \{(.*?)\n\};", src, re.S)
    if table is None:
        raise AssertionError("no routes[] table in %s" % path)
    out = []
    for m in re.finditer(r'\{\s*"([A-Z]+)",\s*(?:B\s*"([^"]*)"|(STOA_REST_METRICS))', table.group(1)):
        out.append((m.group(1), "/metrics" if m.group(3) else "/api/v1" + m.group(2)))
    rows = table.group(1).count("stoa__rest_")
    if len(out) != rows or not out:
        raise AssertionError("read %d routes from %s, but it has %d handlers" % (
            len(out), path, rows))
    return out


# The endpoints the server serves (its route table); test_spec_covers_endpoints
# checks that docs/openapi.yaml has exactly these.
ENDPOINTS = server_routes()


def rid():
    return random.randrange(10 ** 6, 2 ** 31)


def concrete(template, room=None):
    """An endpoint template with ids filled in (ids that need not exist)."""
    return (template.replace("{room}", str(room or rid())).replace("{id}", "7")
            .replace("{stream_id}", "9").replace("{session}", "11"))


# ---------------------------------------------------------------- the spec

class Spec:
    """docs/openapi.yaml: finds the response a request should get and
    validates replies against it."""

    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.paths = [(re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", p) + "$"), p)
                      for p in self.doc["paths"]]

    def deref(self, node):
        """The node with every $ref replaced by what it points to."""
        if isinstance(node, list):
            return [self.deref(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return self.deref(target)
        return {k: self.deref(v) for k, v in node.items()}

    def operations(self):
        out = set()
        for p, item in self.doc["paths"].items():
            for m in item:
                if m in ("get", "post", "patch", "delete", "put"):
                    out.add((m.upper(), p))
        return out

    def operation(self, method, path):
        path = path.split("?")[0]
        for rx, template in self.paths:
            if rx.match(path):
                return template, self.doc["paths"][template].get(method.lower())
        return None, None

    def response(self, method, path, status):
        template, op = self.operation(method, path)
        if op is None:
            # No such path (404) or no such method on it (405): answered
            # before any operation, by the shared responses.
            name = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}.get(status)
            check(name is not None, "%s %s: status %d, but the path/method is not in "
                  "openapi.yaml" % (method, path, status))
            check(status != 404 or template is None, "%s %s: 404 for a documented path "
                  "without this method (expected 405)" % (method, path))
            return self.deref(self.doc["components"]["responses"][name])
        resp = op["responses"].get(str(status))
        if resp is None and status in (405, 413):
            resp = self.doc["components"]["responses"][
                "MethodNotAllowed" if status == 405 else "PayloadTooLarge"]
        check(resp is not None, "%s %s answered %d, which openapi.yaml does not list for "
              "%s %s" % (method, path, status, method, template))
        return self.deref(resp)

    def validate(self, method, path, r):
        resp = self.response(method, path, r.status)
        for name, h in (resp.get("headers") or {}).items():
            if h.get("required"):
                check(name.lower() in r.headers, "%s %s %d: no %s header" % (
                    method, path, r.status, name), r.headers)
        content = resp.get("content")
        if not content:
            check(r.body == b"", "%s %s %d: a body where openapi.yaml has none" % (
                method, path, r.status), r.body[:300])
            return
        ctype = r.headers.get("content-type")
        check(ctype in content, "%s %s %d: Content-Type %r, openapi.yaml has %s" % (
            method, path, r.status, ctype, list(content)))
        if ctype != "application/json":
            return
        schema = content[ctype]["schema"]
        errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(r.json),
                        key=lambda e: list(e.path))
        check(not errors, "%s %s %d: the body does not match openapi.yaml:\n%s" % (
            method, path, r.status, "\n".join("%s: %s" % (list(e.path), e.message)
                                              for e in errors[:5])), r.json)


SPEC = None


def spec():
    global SPEC
    if SPEC is None:
        SPEC = Spec(os.path.join(os.environ.get("STOA_SRCDIR", "."), "docs", "openapi.yaml"))
    return SPEC


# ---------------------------------------------------------------- the client

class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        if headers.get("content-type") == "application/json":
            try:
                self.json = json.loads(body)
            except ValueError:
                raise AssertionError("HTTP %d: a JSON Content-Type but not JSON: %r"
                                     % (status, body[:300]))

    def __repr__(self):
        return "<HTTP %d %r %r>" % (self.status, self.headers, self.body[:400])


def rest(method, path, body=None, token=WRITER, port=ADMIN_HTTP_PORT, raw=None,
         ctype="application/json", headers=None, validate=True):
    """One request on a fresh connection; the reply is checked against the
    spec unless validate=False."""
    h = {}
    if token is not None:
        h["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None and ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    conn = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        reply = Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()
    if validate:
        spec().validate(method, path, reply)
    return reply


def ok(r, status=200, what=""):
    check(r.status == status, "%sexpected HTTP %d" % (what + ": " if what else "", status), repr(r))
    return r.json


def error(r, status, code, field=None, what=""):
    """Asserts the error shape with this status/code (and field)."""
    prefix = what + ": " if what else ""
    check(r.status == status, "%sexpected HTTP %d %s" % (prefix, status, code), repr(r))
    e = (r.json or {}).get("error") or {}
    check(e.get("status") == status and e.get("code") == code,
          "%sexpected error code %s" % (prefix, code), r.json)
    check(isinstance(e.get("message"), str) and e["message"], "an error without a message",
          r.json)
    if field is not None:
        check(e.get("field") == field, "%sexpected field %r" % (prefix, field), r.json)
    return e


async def arest(*args, **kw):
    """rest() from a coroutine, off the event loop (events keep flowing)."""
    return await asyncio.to_thread(rest, *args, **kw)


def create_room(**fields):
    r = rest("POST", "/api/v1/rooms", fields)
    room = ok(r, 201, "create %s" % fields)
    check(r.headers.get("location") == "/api/v1/rooms/%d" % room["room"], "Location",
          r.headers)
    return room["room"]


# ---------------------------------------------------------------- the spec itself

@tap.test("openapi.yaml is OpenAPI 3.0 and has exactly the server's endpoints; every "
          "response it names resolves; every schema is a valid JSON Schema")
def test_spec_covers_endpoints():
    s = spec()
    check(str(s.doc.get("openapi", "")).startswith("3.0"), "not OpenAPI 3.0", s.doc.get("openapi"))
    want = set(ENDPOINTS)
    have = s.operations()
    check(want == have, "endpoints differ: missing from the spec %s, only in the spec %s"
          % (sorted(want - have), sorted(have - want)))
    # And the server's answers agree: a method no route has (PUT) on each
    # documented path is 405, with the spec's methods for that path in Allow.
    for path, item in s.doc["paths"].items():
        methods = {m.upper() for m in item if m in ("get", "post", "patch", "delete", "put")}
        r = rest("PUT", concrete(path), {})
        error(r, 405, "method_not_allowed", what="PUT %s" % path)
        allow = {m.strip() for m in r.headers.get("allow", "").split(",")}
        check(allow == methods, "%s: the server allows %s, openapi.yaml documents %s" % (
            path, sorted(allow), sorted(methods)))
    for method, path in sorted(have):
        op = s.doc["paths"][path][method.lower()]
        for status, resp in op["responses"].items():
            resp = s.deref(resp)
            for media in (resp.get("content") or {}).values():
                jsonschema.Draft4Validator.check_schema(media["schema"])
    for name in s.doc["components"]["schemas"]:
        jsonschema.Draft4Validator.check_schema(s.deref(s.doc["components"]["schemas"][name]))


# ---------------------------------------------------------------- auth

@tap.test("every endpoint: no token, an unknown token, another scheme -> 401 with "
          "WWW-Authenticate: Bearer; a read token on a write -> 403 insufficient_scope")
def test_auth_every_endpoint():
    for method, template in ENDPOINTS:
        path = concrete(template)
        body = {} if method in ("POST", "PATCH") else None
        r = rest(method, path, body, token=None)
        error(r, 401, "unauthorized", what="%s %s without a token" % (method, path))
        check(r.headers.get("www-authenticate", "").startswith('Bearer realm="stoa"'),
              "401 without WWW-Authenticate: Bearer", r.headers)
        r = rest(method, path, body, token="not-a-token")
        error(r, 401, "unauthorized", what="%s %s with an unknown token" % (method, path))
        check('error="invalid_token"' in r.headers.get("www-authenticate", ""),
              "unknown token: WWW-Authenticate without invalid_token", r.headers)
        r = rest(method, path, body, token=None,
                 headers={"Authorization": "Basic " + WRITER})
        error(r, 401, "unauthorized", what="%s %s with Basic" % (method, path))
        r = rest(method, path, body, token=READER)
        if method == "GET":
            check(r.status not in (401, 403), "%s %s: the read token was refused" %
                  (method, path), repr(r))
        else:
            error(r, 403, "insufficient_scope", what="%s %s with a read token" % (method, path))
            check('scope="write"' in r.headers.get("www-authenticate", ""),
                  "403 without the scope in WWW-Authenticate", r.headers)


@tap.test("the write token and the admin_secret may do everything; the scheme is "
          "case-insensitive; a token is compared whole")
def test_auth_tokens():
    for token in (WRITER, ADMIN_SECRET):
        room = create_room()
        ok(rest("GET", "/api/v1/rooms/%d" % room, token=token))
        ok(rest("DELETE", "/api/v1/rooms/%d" % room, token=token), 204)
    ok(rest("GET", "/api/v1/info", token=None, headers={"Authorization": "bearer " + READER}))
    error(rest("GET", "/api/v1/info", token=READER[:-1]), 401, "unauthorized")
    error(rest("GET", "/api/v1/info", token=READER + "x"), 401, "unauthorized")
    error(rest("GET", "/api/v1/info", token=None, headers={"Authorization": "Bearer"}), 401,
          "unauthorized")


@tap.test("rest_api.tokens: a record without a token, or with unknown scopes, stops start-up "
          "naming the record")
def test_token_config_errors():
    for record, want in (('{ scopes = "read"; }', "rest_api.tokens[0]"),
                         ('{ token = "t"; scopes = "admin"; }', "rest_api.tokens[0]"),
                         ('{ token = "t"; scopes = "read"; }, { token = 5; }',
                          "rest_api.tokens[1]"),
                         ('"t"', "rest_api.tokens[0]")):
        conf = "rest_api: {\n\ttokens = ( %s );\n}\n" % record
        status, out, err = run_stoa([], config=conf, timeout=10)
        check(status not in (None, 0), "stoa started with %s" % record, err)
        check(want in err, "the message does not name %s" % want, err)
        check(not any(m in out + err for m in SANITIZER_MARKS), "sanitizer report", err)


# ---------------------------------------------------------------- rooms

@tap.test("rooms: create with options (201, Location, the room), get, list with "
          "num_participants, patch (200, changed), delete (204, then 404); no admin_key needed")
def test_rooms_crud():
    room = rid()
    r = rest("POST", "/api/v1/rooms", {"room": room, "description": "REST room",
                                       "publishers": 5, "bitrate": 256000, "fir_freq": 10,
                                       "audiocodec": "opus,pcmu", "videocodec": "vp8,h264",
                                       "secret": "s", "pin": "p", "notify_joining": True})
    body = ok(r, 201, "create")
    check(r.headers.get("location") == "/api/v1/rooms/%d" % room, "Location", r.headers)
    want = {"room": room, "description": "REST room", "max_publishers": 5, "bitrate": 256000,
            "fir_freq": 10, "audiocodec": "opus,pcmu", "videocodec": "vp8,h264",
            "pin_required": True, "notify_joining": True, "num_participants": 0,
            "permanent": False}
    bad = {k: body.get(k) for k, v in want.items() if body.get(k) != v}
    check(not bad, "created room differs: %s" % bad, body)
    check("secret" not in body and "pin" not in body, "the reply shows the secret or pin", body)
    got = ok(rest("GET", "/api/v1/rooms/%d" % room, token=READER))
    check(got == {k: v for k, v in body.items() if k != "permanent"}, "GET differs from 201",
          got, body)
    rooms = ok(rest("GET", "/api/v1/rooms", token=READER))["rooms"]
    check([e for e in rooms if e["room"] == room] == [got], "not listed as GET shows it", rooms)
    r = rest("PATCH", "/api/v1/rooms/%d" % room, {"description": "Renamed", "publishers": 2,
                                                  "bitrate": 1000, "pin": "q",
                                                  "is_private": False})
    patched = ok(r, 200, "patch")
    check(patched.get("description") == "Renamed" and patched.get("max_publishers") == 2 and
          patched.get("bitrate") == 64000, "patch not applied (bitrate 1000 -> 64000)", patched)
    check(ok(rest("GET", "/api/v1/rooms/%d" % room)) == patched, "GET after PATCH differs")
    ok(rest("PATCH", "/api/v1/rooms/%d" % room, {}), 200, "an empty PATCH")
    ok(rest("DELETE", "/api/v1/rooms/%d" % room), 204, "delete")
    error(rest("GET", "/api/v1/rooms/%d" % room), 404, "room_not_found")
    error(rest("DELETE", "/api/v1/rooms/%d" % room), 404, "room_not_found")
    error(rest("PATCH", "/api/v1/rooms/%d" % room, {"description": "x"}), 404, "room_not_found")


@tap.test("rooms: a server-assigned id (no body, {}, and no room field), distinct; "
          "POST of an existing id -> 409 room_exists")
def test_rooms_assigned_ids():
    ids = set()
    for body in (None, {}, {"description": "Auto"}):
        r = rest("POST", "/api/v1/rooms", body)
        room = ok(r, 201, "create %r" % body)["room"]
        check(isinstance(room, int) and 0 < room < 2 ** 53, "assigned id", room)
        ids.add(room)
    check(len(ids) == 3, "the assigned ids repeat", ids)
    room = ids.pop()
    error(rest("POST", "/api/v1/rooms", {"room": room}), 409, "room_exists")
    for r in [room] + list(ids):
        ok(rest("DELETE", "/api/v1/rooms/%d" % r), 204)


@tap.test("rooms: private ones are left out of the list unless ?include=private; GET by id "
          "shows them; a bad include -> 400 naming it")
def test_rooms_private():
    room = create_room(is_private=True, description="Hidden")
    public = create_room()
    listed = [e["room"] for e in ok(rest("GET", "/api/v1/rooms"))["rooms"]]
    check(public in listed and room not in listed, "private room listed by default", listed)
    listed = ok(rest("GET", "/api/v1/rooms?include=private"))["rooms"]
    mine = [e for e in listed if e["room"] == room]
    check(len(mine) == 1 and mine[0]["is_private"] is True, "?include=private", listed)
    check(ok(rest("GET", "/api/v1/rooms/%d" % room))["description"] == "Hidden", "GET private")
    error(rest("GET", "/api/v1/rooms?include=all"), 400, "invalid_field", "include")
    for r in (room, public):
        ok(rest("DELETE", "/api/v1/rooms/%d" % r), 204)


@tap.test("validation: unknown, wrong-type and out-of-range fields -> 400 naming the field; "
          "PATCH of what edit cannot change -> immutable_field; bad JSON -> invalid_json")
def test_rooms_validation():
    cases = [
        ({"publishers": "3"}, "invalid_field", "publishers"),
        ({"publishers": 0}, "invalid_field", "publishers"),
        ({"publishers": -1}, "invalid_field", "publishers"),
        ({"room": 0}, "invalid_field", "room"),
        ({"room": "12"}, "invalid_field", "room"),
        ({"is_private": 1}, "invalid_field", "is_private"),
        ({"audiocodec": "nope"}, "invalid_field", "audiocodec"),
        ({"audiocodec": "opus,multiopus,isac32,isac16,pcmu,pcma"}, "invalid_field",
         "audiocodec"),
        ({"videocodec": "vp8,theora"}, "invalid_field", "videocodec"),
        ({"audio_level_average": 200}, "invalid_field", "audio_level_average"),
        ({"allowed": ["a", 1]}, "invalid_field", "allowed"),
        ({"admin_key": VR_ADMIN_KEY}, "unknown_field", "admin_key"),
        ({"descripton": "typo"}, "unknown_field", "descripton"),
    ]
    for body, code, field in cases:
        error(rest("POST", "/api/v1/rooms", body), 400, code, field, "POST %s" % body)
    room = create_room()
    path = "/api/v1/rooms/%d" % room
    for body, code, field in [({"audiocodec": "pcmu"}, "immutable_field", "audiocodec"),
                              ({"room": room + 1}, "immutable_field", "room"),
                              ({"new_description": "x"}, "unknown_field", "new_description"),
                              ({"publishers": 0}, "invalid_field", "publishers"),
                              ({"description": 5}, "invalid_field", "description")]:
        e = error(rest("PATCH", path, body), 400, code, field, "PATCH %s" % body)
        if code == "invalid_field":
            check("new_" not in e["message"], "the message speaks of edit's new_ fields", e)
    for raw in ("{", "[1]", '"room"', '{"room": 1, "room": 2}', "\xff"):
        error(rest("POST", "/api/v1/rooms", raw=raw.encode("latin-1")), 400, "invalid_json",
              what="body %r" % raw)
    error(rest("DELETE", path + "?permanent=maybe"), 400, "invalid_field", "permanent")
    check(ok(rest("GET", path))["room"] == room, "the room changed after refused requests")
    ok(rest("DELETE", path), 204)


@tap.test("404 for unknown paths and ids (rooms, participants, forwarders, sessions); "
          "405 with Allow for a wrong method")
def test_not_found_and_methods():
    for path in ("/api/v1", "/api/v1/", "/api/v1/nope", "/api/v1/rooms/abc",
                 "/api/v1/rooms/0", "/api/v1/rooms/-1", "/api/v1/rooms/1/nope",
                 "/api/v1/sessions/1/handles", "/api/v1/rooms/99999999999999999999"):
        error(rest("GET", path), 404, "not_found", what="GET %s" % path)
    gone = rid()
    for method, template in ENDPOINTS:
        if "{room}" not in template:
            continue
        body = {"mid": "0", "mute": True} if template.endswith("moderate") else \
            {"streams": [{"mid": "0", "port": 5000}], "host": "127.0.0.1"} \
            if method == "POST" and template.endswith("forwarders") else None
        error(rest(method, concrete(template, gone), body), 404, "room_not_found",
              what="%s %s" % (method, template))
    room = create_room()
    for method, template, body in [
            ("GET", "/api/v1/rooms/{room}/participants/{id}", None),
            ("DELETE", "/api/v1/rooms/{room}/participants/{id}", None),
            ("POST", "/api/v1/rooms/{room}/participants/{id}/moderate", {"mid": "0", "mute": True}),
            ("POST", "/api/v1/rooms/{room}/participants/{id}/forwarders",
             {"host": "127.0.0.1", "streams": [{"mid": "0", "port": 5000}]}),
            ("DELETE", "/api/v1/rooms/{room}/participants/{id}/forwarders/{stream_id}", None)]:
        error(rest(method, concrete(template, room), body), 404, "participant_not_found",
              what="%s %s" % (method, template))
    error(rest("DELETE", "/api/v1/rooms/%d/participants/7/forwarders/%d" % (room, 2 ** 40)),
          404, "forwarder_not_found")
    for method in ("GET", "DELETE"):
        error(rest(method, "/api/v1/sessions/%d" % rid()), 404, "session_not_found")
    ok(rest("DELETE", "/api/v1/rooms/%d" % room), 204)
    for method, path, allow in [("PUT", "/api/v1/rooms", "GET, POST"),
                                ("DELETE", "/api/v1/rooms", "GET, POST"),
                                ("POST", "/api/v1/rooms/5", "GET, PATCH, DELETE"),
                                ("GET", "/api/v1/rooms/5/participants/6/moderate", "POST"),
                                ("POST", "/api/v1/info", "GET"),
                                ("DELETE", "/metrics", "GET"),
                                ("PATCH", "/api/v1/sessions", "GET")]:
        r = rest(method, path, {} if method in ("POST", "PUT", "PATCH") else None)
        error(r, 405, "method_not_allowed", what="%s %s" % (method, path))
        check(r.headers.get("allow") == allow, "%s %s: Allow %r, expected %r" % (
            method, path, r.headers.get("allow"), allow))


@tap.test("413 over max_request_size (declared, sent, and chunked past the limit), in the "
          "error shape; 415 for a body that is not application/json; charset and "
          "merge-patch+json are accepted")
async def test_body_limits():
    big = json.dumps({"description": "x" * (MAX_REQUEST + 100)})
    r = await arest("POST", "/api/v1/rooms", raw=big)
    error(r, 413, "payload_too_large")
    # Only the headers: the answer comes before any body is read.
    status, headers, body = await raw_http(
        "POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n" % WRITER,
        port=ADMIN_HTTP_PORT)
    check(status == 413, "a declared 1 MB body", status, body)
    reply = Reply(status, headers, body)
    spec().validate("POST", "/api/v1/rooms", reply)
    error(reply, 413, "payload_too_large", what="a declared 1 MB body")
    # A chunked body declares no length: it is refused once it crosses the
    # limit, with the same answer (and the connection closed after it).
    chunk = b"x" * 1000
    head = ("POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % WRITER)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk)
                      for _ in range(MAX_REQUEST // len(chunk) + 2)) + b"0\r\n\r\n"
    status, headers, body = await raw_http(head.encode() + chunks, port=ADMIN_HTTP_PORT)
    check(status == 413, "a chunked body over max_request_size", status, body)
    reply = Reply(status, headers, body)
    spec().validate("POST", "/api/v1/rooms", reply)
    error(reply, 413, "payload_too_large", what="a chunked body over the limit")
    # One that goes on past the limit by more than the server drops (1 MiB)
    # gets the connection closed instead.
    big = b"x" * 65536
    endless = b"".join(b"%x\r\n%s\r\n" % (len(big), big) for _ in range(40)) + b"0\r\n\r\n"
    status, _, _ = await raw_http(head.encode() + endless, port=ADMIN_HTTP_PORT)
    check(status is None, "2.5 MB of chunks past the limit: the connection stays open", status)
    # Under the limit, chunked is an ordinary body.
    small = json.dumps({"description": "chunked"}).encode()
    status, headers, body = await raw_http(
        head.encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small), port=ADMIN_HTTP_PORT)
    reply = Reply(status, headers, body)
    spec().validate("POST", "/api/v1/rooms", reply)
    room = ok(reply, 201, "a small chunked body")["room"]
    ok(await arest("DELETE", "/api/v1/rooms/%d" % room), 204)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None, "application/jsonx"):
        r = await arest("POST", "/api/v1/rooms", {"description": "x"}, ctype=ctype)
        error(r, 415, "unsupported_media_type", what="Content-Type %r" % ctype)
    r = await arest("POST", "/api/v1/rooms", {}, ctype="Application/JSON; charset=utf-8")
    room = ok(r, 201, "charset parameter")["room"]
    r = await arest("PATCH", "/api/v1/rooms/%d" % room, {"description": "merge"},
                    ctype="application/merge-patch+json")
    check(ok(r, 200, "merge-patch")["description"] == "merge", "merge-patch PATCH", r.json)
    error(await arest("POST", "/api/v1/rooms/%d/participants/1/moderate" % room, {"mid": "0"},
                      ctype="text/plain"), 415, "unsupported_media_type")
    ok(await arest("DELETE", "/api/v1/rooms/%d" % room), 204)


@tap.test("16 threads create the same room id at once: exactly one 201, fifteen 409 room_exists")
def test_concurrent_create():
    room = rid()
    barrier = threading.Barrier(16)
    results = [None] * 16

    def one(i):
        barrier.wait(10)
        try:
            results[i] = rest("POST", "/api/v1/rooms", {"room": room})
        except Exception as e:  # noqa: B902 - reported below
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    statuses = sorted(r.status if isinstance(r, Reply) else repr(r) for r in results)
    check(statuses.count(201) == 1 and statuses.count(409) == 15,
          "expected one 201 and fifteen 409", statuses)
    for r in results:
        if r.status == 409:
            error(r, 409, "room_exists")
    ok(rest("DELETE", "/api/v1/rooms/%d" % room), 204)


# ---------------------------------------------------------------- with Janus API clients

async def janus_client():
    c = await JanusClient("ws").open()
    await c.create_session()
    return c


def vr(key, value=None):
    """A VideoRoom event predicate on data[key] (== value when given)."""
    return lambda d: key in d and (value is None or d[key] == value)


@tap.test("a room made by REST is joined by Janus API clients (with its pin) and listed by "
          "GET participants; REST edits are seen by the Janus API and Janus edits by REST; a "
          "REST kick reaches the participant (leaving/kicked) and the room (kicked)")
async def test_join_and_kick():
    room = await asyncio.to_thread(create_room, pin="1234", description="Joined",
                                   notify_joining=True)
    c = await janus_client()
    try:
        alice, bob = await VrHandle.attach(c), await VrHandle.attach(c)
        a = await alice.join(room, display="alice", pin="1234", metadata={"role": "host"})
        b = await bob.join(room, display="bob", pin="1234")
        listed = ok(await arest("GET", "/api/v1/rooms/%d/participants" % room, token=READER))
        check(listed["room"] == room, "participants: room", listed)
        people = {p["id"]: p for p in listed["participants"]}
        check(set(people) == {a["id"], b["id"]}, "participants: ids", listed)
        check(people[a["id"]].get("display") == "alice" and
              people[a["id"]].get("metadata") == {"role": "host"} and
              people[a["id"]].get("publisher") is False, "participants: alice", listed)
        info = ok(await arest("GET", "/api/v1/rooms/%d/participants/%d" % (room, a["id"])))
        check(info["id"] == a["id"] and info["room"] == room and info["publisher"] is False and
              info["streams"] == [] and info.get("display") == "alice", "participant info", info)
        check(ok(await arest("GET", "/api/v1/rooms/%d" % room))["num_participants"] == 2,
              "num_participants")
        # Both APIs see one room.
        await arest("PATCH", "/api/v1/rooms/%d" % room, {"description": "Edited by REST"})
        data = await alice.sync({"request": "list", "admin_key": VR_ADMIN_KEY})
        mine = [e for e in data.get("list", []) if e.get("room") == room]
        check(mine and mine[0].get("description") == "Edited by REST",
              "the Janus API does not see the REST edit", data)
        data = await alice.sync({"request": "edit", "room": room, "new_description": "By Janus",
                                 "secret": "unused"})
        check(data.get("videoroom") == "edited", "Janus edit", data)
        check(ok(await arest("GET", "/api/v1/rooms/%d" % room))["description"] == "By Janus",
              "REST does not see the Janus edit")
        # The kick.
        r = await arest("DELETE", "/api/v1/rooms/%d/participants/%d" % (room, a["id"]))
        check(r.status == 204 and r.body == b"", "kick: 204", repr(r))
        ev = await alice.event(vr("leaving", "ok"), 5, "alice's leaving/kicked")
        check(ev["plugindata"]["data"].get("reason") == "kicked", "kicked reason", ev)
        await bob.event(vr("kicked", a["id"]), 5, "bob told alice was kicked")
        listed = ok(await arest("GET", "/api/v1/rooms/%d/participants" % room))
        check([p["id"] for p in listed["participants"]] == [b["id"]], "after the kick", listed)
        error(await arest("GET", "/api/v1/rooms/%d/participants/%d" % (room, a["id"])), 404,
              "participant_not_found")
        error(await arest("DELETE", "/api/v1/rooms/%d/participants/%d" % (room, a["id"])), 404,
              "participant_not_found")
        # Destroying by REST reaches who is left.
        ok(await arest("DELETE", "/api/v1/rooms/%d" % room), 204)
        await bob.event(lambda d: d.get("videoroom") == "destroyed" and d.get("room") == room, 5,
                        "bob told the room was destroyed")
    finally:
        await c.close()


@tap.test("sessions: listed with transport and handle count; detail shows each handle's "
          "plugin; DELETE -> 204 and the client gets detached; then 404")
async def test_sessions():
    c = await janus_client()
    try:
        h = await VrHandle.attach(c)
        sid = c.session_id
        sessions = ok(await arest("GET", "/api/v1/sessions", token=READER))["sessions"]
        mine = [s for s in sessions if s["id"] == sid]
        check(len(mine) == 1 and mine[0]["transport"] == "janus.transport.websockets" and
              mine[0]["num_handles"] == 1 and mine[0]["orphaned"] is False and
              mine[0]["timeout_seconds"] == 60, "the session in the list", sessions)
        detail = ok(await arest("GET", "/api/v1/sessions/%d" % sid, token=READER))
        check(detail["id"] == sid and len(detail["handles"]) == 1, "session detail", detail)
        hi = detail["handles"][0]
        check(hi["handle_id"] == h.id and hi["plugin"] == VIDEOROOM and
              hi["session_id"] == sid, "handle info", hi)
        check(hi["loop-running"] is False and "webrtc" not in hi,
              "a handle without a peer connection: no media loop", hi)
        r = await arest("DELETE", "/api/v1/sessions/%d" % sid)
        check(r.status == 204, "DELETE session", repr(r))
        await c.event(lambda m: m.get("janus") == "detached" and m.get("sender") == h.id, 5,
                      "detached")
        error(await arest("GET", "/api/v1/sessions/%d" % sid), 404, "session_not_found")
        error(await arest("DELETE", "/api/v1/sessions/%d" % sid), 404, "session_not_found")
        sessions = ok(await arest("GET", "/api/v1/sessions"))["sessions"]
        check(sid not in [s["id"] for s in sessions], "destroyed session still listed")
    finally:
        await c.close()


def udp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    return s


def drain(sock):
    out = []
    while True:
        try:
            out.append(sock.recv(2048))
        except BlockingIOError:
            return out


async def subscribers_follow_a_viewer(c, room, pid, base, mids):
    """One aiortc viewer subscribes: each published stream shows
    subscribers 1 while it watches and 0 once it has left."""
    def counts(info):
        return {s["mid"]: s.get("subscribers") for s in info["streams"] if s["mid"] in mids}
    viewer = RoomPeer()
    try:
        sh = await VrHandle.attach(c)
        await vr_subscribe(sh, viewer, room, [{"feed": pid}])
        check(await viewer.wait_counts(video=10, timeout=15), "the viewer decodes nothing",
              viewer.counts())
        info = ok(await arest("GET", base, token=READER))
        check(counts(info) == {m: 1 for m in mids}, "one viewer: subscribers 1 per stream",
              info)
        await viewer.close()
        await sh.detach()
        for _ in range(50):
            info = ok(await arest("GET", base, token=READER))
            if counts(info) == {m: 0 for m in mids}:
                break
            await asyncio.sleep(0.1)
        check(counts(info) == {m: 0 for m in mids}, "the viewer left: subscribers 0", info)
    finally:
        await viewer.close()


@tap.test("with aiortc publishing into a REST room: participant info (codecs, subscribers 1 "
          "with a viewer and 0 after), session detail with ICE/DTLS state and packets in, "
          "moderate (moderated; unknown mid 404), RTP forwarders by REST deliver packets, are "
          "listed and stopped (204, then 404)", timeout=60, skip_if=skip_reason)
async def test_publisher_media():
    room = await asyncio.to_thread(create_room, description="Media")
    c = await janus_client()
    pub = RoomPeer(publish=True)
    vsock = udp_listener()
    try:
        h = await VrHandle.attach(c)
        pid = (await h.join(room, display="pub"))["id"]
        await vr_publish(h, pub)
        await h.core_event("webrtcup", 15)
        base = "/api/v1/rooms/%d/participants/%d" % (room, pid)
        await asyncio.sleep(2.2)   # the received bitrate is measured over a second
        info = ok(await arest("GET", base, token=READER))
        kinds = {s["type"]: s for s in info["streams"]}
        check(kinds.get("video", {}).get("bitrate", 0) > 0 and
              kinds.get("audio", {}).get("bitrate", 0) > 0, "participant info: bitrates", info)
        check(info["publisher"] is True and kinds.get("video", {}).get("codec") == "vp8" and
              kinds.get("audio", {}).get("codec") == "opus" and
              kinds["video"].get("subscribers") == 0, "participant info while publishing", info)
        detail = ok(await arest("GET", "/api/v1/sessions/%d" % c.session_id))
        hi = detail["handles"][0]
        webrtc = hi.get("webrtc") or {}
        check((webrtc.get("ice") or {}).get("state") in ("connected", "ready") and
              (webrtc.get("dtls") or {}).get("dtls-state") == "connected",
              "session detail: ICE/DTLS state", webrtc.get("ice"), webrtc.get("dtls"))
        check(hi.get("loop-running") is True, "a publishing handle's media loop runs", hi)
        vmid, amid = kinds["video"]["mid"], kinds["audio"]["mid"]
        media = webrtc.get("media") or {}
        for mid in (vmid, amid):
            stats = ((media.get(mid) or {}).get("stats") or {}).get("in") or {}
            check(stats.get("packets", 0) > 0 and stats.get("bytes", 0) > 0,
                  "session detail: no packets in on mid %s" % mid, media.get(mid))
        await subscribers_follow_a_viewer(c, room, pid, base, (vmid, amid))
        r = await arest("POST", base + "/moderate", {"mid": vmid, "mute": True})
        check(r.status == 204, "moderate", repr(r))
        await h.event(vr("moderation", "muted"), 5, "the moderation event")
        info = ok(await arest("GET", base))
        check([s for s in info["streams"] if s["mid"] == vmid][0].get("moderated") is True,
              "moderated not shown", info)
        ok(await arest("POST", base + "/moderate", {"mid": vmid, "mute": False}), 204)
        error(await arest("POST", base + "/moderate", {"mid": "nope", "mute": True}), 404,
              "stream_not_found", "mid")
        error(await arest("POST", base + "/moderate", {"mid": vmid}), 400, "missing_field", "mute")
        error(await arest("POST", base + "/moderate", {"mid": vmid, "mute": "yes"}), 400,
              "invalid_field", "mute")
        # Forwarders.
        port = vsock.getsockname()[1]
        error(await arest("POST", base + "/forwarders", {"host": "127.0.0.1"}), 400,
              "missing_field", "streams")
        error(await arest("POST", base + "/forwarders", {"streams": []}), 400, "invalid_field",
              "streams")
        error(await arest("POST", base + "/forwarders",
                          {"host": "127.0.0.1", "streams": [{"mid": "nope", "port": port}]}),
              404, "stream_not_found", "streams")
        error(await arest("POST", base + "/forwarders",
                          {"host": "127.0.0.1", "streams": [{"mid": vmid, "port": port}],
                           "publisher_id": pid}), 400, "unknown_field", "publisher_id")
        r = await arest("POST", base + "/forwarders",
                        {"host": "127.0.0.1",
                         "streams": [{"mid": vmid, "port": port, "ssrc": 777, "pt": 101}]})
        made = ok(r, 201, "rtp_forward")
        check(made["room"] == room and made["publisher_id"] == pid and
              len(made["forwarders"]) == 1 and made["forwarders"][0]["port"] == port,
              "forwarders made", made)
        await asyncio.sleep(1.5)
        got = drain(vsock)
        check(len(got) > 10 and all(int.from_bytes(p[8:12], "big") == 777 for p in got),
              "forwarded RTP with the SSRC asked for", len(got))
        listed = ok(await arest("GET", "/api/v1/rooms/%d/forwarders" % room, token=READER))
        check(len(listed["publishers"]) == 1 and listed["publishers"][0]["publisher_id"] == pid
              and [f["stream_id"] for f in listed["publishers"][0]["forwarders"]] ==
              [made["forwarders"][0]["stream_id"]], "listed forwarders", listed)
        stop = "%s/forwarders/%d" % (base, made["forwarders"][0]["stream_id"])
        ok(await arest("DELETE", stop), 204, "stop the forwarder")
        error(await arest("DELETE", stop), 404, "forwarder_not_found")
        check(ok(await arest("GET", "/api/v1/rooms/%d/forwarders" % room))["publishers"] == [],
              "a stopped forwarder is still listed")
    finally:
        vsock.close()
        await pub.close()
        await c.close()
        await arest("DELETE", "/api/v1/rooms/%d" % room, validate=False)


# ---------------------------------------------------------------- server

@tap.test("info (server_info + uptime), health, ready (503 while accept_new_sessions is "
          "false), metrics (Prometheus text, read scope)")
async def test_server_endpoints():
    info = ok(await arest("GET", "/api/v1/info", token=READER))
    check(VIDEOROOM in info["plugins"] and info["uptime_seconds"] >= 0 and
          info["version_string"] == "1.4.2", "info", info)
    health = ok(await arest("GET", "/api/v1/health", token=READER))
    check(health["status"] == "ok", "health", health)
    ready = ok(await arest("GET", "/api/v1/ready", token=READER))
    check(ready["status"] == "ready" and ready["checks"]["media_loops"]["running"] ==
          ready["checks"]["media_loops"]["total"] > 0 and
          VIDEOROOM in ready["checks"]["plugins"]["loaded"] and
          "janus.transport.http" in ready["checks"]["transports"]["listening"], "ready", ready)
    async with JanusClient("http", admin=True, admin_secret=ADMIN_SECRET) as a:
        expect(await a.request("accept_new_sessions", accept=False))
        try:
            r = await arest("GET", "/api/v1/ready")
            e = error(r, 503, "not_ready")
            check("sessions" in e["message"] and r.json["status"] == "not_ready" and
                  r.json["checks"]["sessions"] == {"ok": False, "accepting": False},
                  "not ready: the sessions check", r.json)
        finally:
            expect(await a.request("accept_new_sessions", accept=True))
    ok(await arest("GET", "/api/v1/ready"))
    r = await arest("GET", "/metrics", token=READER)
    check(r.status == 200 and r.headers.get("content-type") == "text/plain; version=0.0.4",
          "metrics", repr(r))
    text = r.body.decode()
    check("# TYPE " in text and "\nstoa_" in "\n" + text, "not Prometheus text", text[:300])


@tap.test("CORS: a preflight for the REST API is answered, and replies carry "
          "Access-Control-Allow-Origin")
async def test_cors():
    status, headers, body = await raw_http(
        "OPTIONS /api/v1/rooms HTTP/1.1\r\nHost: x\r\nOrigin: http://ui.example\r\n"
        "Access-Control-Request-Method: POST\r\n"
        "Access-Control-Request-Headers: authorization, content-type\r\n\r\n",
        port=ADMIN_HTTP_PORT)
    check(status == 200 and headers.get("access-control-allow-methods") == "POST" and
          "authorization" in headers.get("access-control-allow-headers", ""), "preflight",
          status, headers)
    r = await arest("GET", "/api/v1/health", token=READER, headers={"Origin": "http://ui.example"})
    check(r.headers.get("access-control-allow-origin") == "*", "CORS header", r.headers)


@tap.test("rest_api.open_health / open_metrics open those two only; on_main_port serves the "
          "API on the Janus port too (next to /janus)", timeout=40)
async def test_open_and_main_port():
    conf = MAIN_CONF.replace("rest_api: {", "rest_api: {\n\topen_health = true\n\t"
                             "open_metrics = true\n\ton_main_port = true")
    srv = Server(config=conf, offset=10)
    async with srv:
        for port in (srv.admin_http_port, srv.http_port):
            ok(await arest("GET", "/api/v1/health", token=None, port=port), 200, "open health")
            r = await arest("GET", "/metrics", token=None, port=port)
            check(r.status == 200 and r.body.startswith(b"# HELP"), "open metrics", repr(r))
            error(await arest("GET", "/api/v1/info", token=None, port=port), 401, "unauthorized")
            ok(await arest("GET", "/api/v1/info", token=READER, port=port))
        room = (await asyncio.to_thread(rest, "POST", "/api/v1/rooms", {}, port=srv.http_port)).json
        ok(await arest("DELETE", "/api/v1/rooms/%d" % room["room"], port=srv.http_port), 204)
        async with JanusClient("http", port=srv.http_port) as c:
            expect(await c.info(), "server_info")
    srv = Server(config=MAIN_CONF, offset=20)
    async with srv:
        r = await arest("GET", "/api/v1/health", token=READER, port=srv.http_port, validate=False)
        check(r.status == 404, "the REST API on the main port by default", repr(r))
        error(await arest("GET", "/api/v1/health", token=None, port=srv.admin_http_port), 401,
              "unauthorized")
    srv = Server(config=MAIN_CONF.replace("rest_api: {", "rest_api: {\n\tenabled = false"),
                 offset=30)
    async with srv:
        r = await arest("GET", "/api/v1/info", token=WRITER, port=srv.admin_http_port,
                        validate=False)
        check(r.status == 404 and r.body == b"", "rest_api.enabled = false still serves", repr(r))
        async with JanusClient("http", admin=True, port=srv.admin_http_port,
                               admin_secret=ADMIN_SECRET) as a:
            expect(await a.request("ping"), "pong")


@tap.test("no token configured: the run makes one, logs it with the dashboard link, and it "
          "has every scope; with a token configured there is none", timeout=40)
async def test_run_token():
    srv = Server(config="general: {\n\tdebug_level = 4\n}\n", offset=40)
    async with srv:
        m = re.search(r"this run's token \(read, write\) is ([0-9a-f]{32}); admin dashboard: "
                      r"http://localhost:%d/admin\.html#token=\1" % srv.http_port, srv.log_text())
        check(m, "no run token line in the log", srv.log_text()[-2000:])
        token = m.group(1)
        error(await arest("GET", "/api/v1/info", token=None, port=srv.admin_http_port), 401,
              "unauthorized")
        error(await arest("GET", "/api/v1/info", token=token[:-1], port=srv.admin_http_port), 401,
              "unauthorized")
        ok(await arest("GET", "/api/v1/info", token=token, port=srv.admin_http_port))
        r = await arest("POST", "/api/v1/rooms", {}, token=token, port=srv.admin_http_port)
        ok(r, 201)
        ok(await arest("DELETE", "/api/v1/rooms/%d" % r.json["room"], token=token,
                       port=srv.admin_http_port), 204)
    srv = Server(config=MAIN_CONF, offset=50)
    async with srv:
        check("this run's token" not in srv.log_text(), "a run token next to configured ones")


@tap.test("a handle's Janus API token (token_auth) is in the Admin API's handle_info, as in "
          "Janus, and never in REST session detail, which a read-only token can see")
async def test_handle_token_hidden():
    conf = MAIN_CONF.replace("general: {\n", "general: {\n\ttoken_auth = true\n", 1)
    srv = Server(config=conf, offset=60)
    async with srv:
        async with JanusClient("http", admin=True, port=srv.admin_http_port,
                               admin_secret=ADMIN_SECRET) as a:
            expect(await a.request("add_token", token="tok-vr", plugins=[VIDEOROOM]))
            async with JanusClient("ws", port=srv.ws_port, token="tok-vr") as c:
                sid = await c.create_session()
                hid = await c.attach_handle(VIDEOROOM)
                info = expect(await a.request("handle_info", session_id=sid, handle_id=hid))
                check(info["info"].get("token") == "tok-vr", "Admin API handle_info token", info)
                detail = ok(await arest("GET", "/api/v1/sessions/%d" % sid, token=READER,
                                        port=srv.admin_http_port))
                hi = detail["handles"][0]
                check(hi["handle_id"] == hid and "token" not in hi,
                      "REST session detail shows the handle's token", hi)


def conf_text(srv):
    try:
        with open(os.path.join(srv.folder, VR_CONF)) as f:
            return f.read()
    except OSError:
        return None


async def restart(srv):
    """SIGKILL (nothing flushed on exit), then the same config folder."""
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(5)
    srv.kill()
    await srv.start()


@tap.test("permanent: a room made with permanent:true survives a SIGKILL and restart, a plain "
          "one does not; PATCH permanent keeps the change; DELETE ?permanent=true removes it "
          "for good", timeout=60)
async def test_permanent():
    srv = Server(config=MAIN_CONF, files={VR_CONF: "general: {\n}\n"}, offset=40)
    port = srv.admin_http_port
    async with srv:
        room, temp = rid(), rid()
        r = await arest("POST", "/api/v1/rooms", {"room": room, "permanent": True,
                                                  "description": "Kept", "publishers": 4,
                                                  "pin": "p"}, port=port)
        check(ok(r, 201)["permanent"] is True, "permanent in the reply", r.json)
        ok(await arest("POST", "/api/v1/rooms", {"room": temp}, port=port), 201)
        await restart(srv)
        check("room-%d" % room in (conf_text(srv) or ""), "not in %s" % VR_CONF, conf_text(srv))
        kept = ok(await arest("GET", "/api/v1/rooms/%d" % room, port=port))
        check(kept["description"] == "Kept" and kept["max_publishers"] == 4 and
              kept["pin_required"] is True, "settings after the restart", kept)
        error(await arest("GET", "/api/v1/rooms/%d" % temp, port=port), 404, "room_not_found")
        ok(await arest("PATCH", "/api/v1/rooms/%d" % room,
                       {"description": "Kept again", "permanent": True}, port=port))
        await restart(srv)
        check(ok(await arest("GET", "/api/v1/rooms/%d" % room, port=port))["description"] ==
              "Kept again", "the permanent PATCH was lost")
        ok(await arest("DELETE", "/api/v1/rooms/%d?permanent=true" % room, port=port), 204)
        await restart(srv)
        error(await arest("GET", "/api/v1/rooms/%d" % room, port=port), 404, "room_not_found")
        check("room-%d" % room not in (conf_text(srv) or ""), "still in %s" % VR_CONF)


if __name__ == "__main__":
    # Only the aiortc test needs PEER_IP (it is skipped without it); the
    # VideoRoom is part of the build, so without it the room tests fail.
    tap.run(shared=Server(config=MAIN_CONF,
                          files={VR_CONF: 'general: {\n\tadmin_key = "%s"\n}\n' % VR_ADMIN_KEY},
                          args=["-E", PEER_IP] if skip_reason() is None else []))
