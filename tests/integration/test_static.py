#!/usr/bin/env python3
"""Static files at / from the html folder: MIME types, caching, HEAD, and
path traversal (never a file outside the folder). Raw sockets send the
paths HTTP clients would normalise."""

import atexit
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (HttpClient, Server, Tap, check, env_path,  # noqa: E402
                          raw_get)

tap = Tap(timeout=20)

SECRET_TEXT = b"stoa-outside-secret-7f3a"


def make_html_folder():
    """A copy of $STOA_HTML plus a secret file next to it (outside) and
    symlinks that point out of the folder."""
    base = tempfile.mkdtemp(prefix="stoa-static-")
    atexit.register(shutil.rmtree, base, True)
    html = os.path.join(base, "html")
    shutil.copytree(env_path("STOA_HTML"), html)
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(SECRET_TEXT)
    with open(os.path.join(html, ".hidden"), "wb") as f:
        f.write(SECRET_TEXT)
    os.symlink(os.path.join(base, "secret.txt"), os.path.join(html, "evil.txt"))
    os.symlink("/etc", os.path.join(html, "etcdir"))
    os.symlink(base, os.path.join(html, "up"))
    os.symlink("index.html", os.path.join(html, "alias.html"))
    return html


HTML = make_html_folder()


def read(rel):
    with open(os.path.join(HTML, rel), "rb") as f:
        return f.read()


def not_leaking(body):
    return SECRET_TEXT not in body and b"root:" not in body


@tap.test("GET / serves index.html as text/html")
async def test_index():
    async with HttpClient() as h:
        for path in ("/", "/index.html", "/index.html?x=1&y=2"):
            r = await h.get(path)
            check(r.status == 200, "GET %s: expected 200" % path, repr(r))
            check(r.headers.get("Content-Type", "").startswith("text/html"),
                  "GET %s: Content-Type %r" % (path, r.headers.get("Content-Type")))
            check(r.body == read("index.html"), "GET %s: wrong body" % path)


@tap.test("CSS and JavaScript MIME types")
async def test_mime():
    async with HttpClient() as h:
        r = await h.get("/css/stoa.css")
        check(r.status == 200 and r.body == read("css/stoa.css"), "css", repr(r))
        check(r.headers.get("Content-Type", "").startswith("text/css"),
              "css Content-Type %r" % r.headers.get("Content-Type"))
        r = await h.get("/js/info.js")
        check(r.status == 200 and r.body == read("js/info.js"), "js", repr(r))
        ct = r.headers.get("Content-Type", "")
        check(ct.startswith("text/javascript") or ct.startswith("application/javascript"),
              "js Content-Type %r" % ct)
        check(r.headers.get("X-Content-Type-Options", "nosniff") == "nosniff", "nosniff")


@tap.test("ETag and If-None-Match give 304; a stale ETag gives 200")
async def test_etag():
    async with HttpClient() as h:
        r = await h.get("/css/stoa.css")
        etag = r.headers.get("ETag")
        check(etag, "no ETag", repr(r))
        r2 = await h.get("/css/stoa.css", headers={"If-None-Match": etag})
        check(r2.status == 304, "expected 304", repr(r2))
        check(r2.body == b"", "304 with a body", repr(r2))
        r3 = await h.get("/css/stoa.css", headers={"If-None-Match": '"nope"'})
        check(r3.status == 200 and r3.body == read("css/stoa.css"), "stale etag", repr(r3))
        r4 = await h.get("/css/stoa.css", headers={"If-None-Match": '"nope", ' + etag})
        check(r4.status == 304, "ETag in a list: expected 304", repr(r4))
        lm = r.headers.get("Last-Modified")
        if lm:
            r5 = await h.get("/css/stoa.css", headers={"If-Modified-Since": lm})
            check(r5.status == 304, "If-Modified-Since: expected 304", repr(r5))


@tap.test("HEAD gives the headers without a body")
async def test_head():
    status, headers, body = await raw_get("/index.html", method="HEAD")
    check(status == 200, "HEAD: expected 200, got %s" % status)
    check(headers.get("content-type", "").startswith("text/html"), "HEAD Content-Type", headers)
    check(int(headers.get("content-length", "-1")) == len(read("index.html")),
          "HEAD Content-Length", headers)
    check(body == b"", "HEAD with a body")


@tap.test("a missing file gives 404")
async def test_missing():
    async with HttpClient() as h:
        for path in ("/nope.html", "/css/nope.css", "/js/", "/a/b/c/d"):
            r = await h.get(path)
            check(r.status == 404, "GET %s: expected 404" % path, repr(r))


TRAVERSALS = [
    "/../../etc/passwd",
    "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/etc/passwd",
    "/..%2f..%2fetc/passwd",
    "/..%2F..%2F..%2Fetc%2Fpasswd",
    "/.%2e/.%2e/etc/passwd",
    "/css/../../x",
    "/css/../../secret.txt",
    "/css/..%2f..%2fsecret.txt",
    "//etc/passwd",
    "///etc/passwd",
    "/%00",
    "/index.html%00.css",
    "/..%5c..%5cetc%5cpasswd",
    "/..\\..\\etc\\passwd",
    "/css\\..\\..\\secret.txt",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/....//....//etc/passwd",
    "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/.hidden",
    "/%2ehidden",
    "/css/.",
    "/./index.html/..",
    "/../html/index.html",
]


@tap.test("traversal attempts all give 404 and never leak a file")
async def test_traversal():
    bad = []
    for path in TRAVERSALS:
        status, headers, body = await raw_get(path)
        if status != 404 or not not_leaking(body):
            bad.append("%s -> %s %r" % (path, status, body[:80]))
    check(not bad, "paths not refused with 404:\n" + "\n".join(bad))
    # Absolute-form request target.
    status, _, body = await raw_get("http://127.0.0.1:8088/../../etc/passwd")
    check(status in (400, 404) and not_leaking(body), "absolute-form: %s" % status)


@tap.test("symlinks pointing outside the html folder give 404")
async def test_symlinks():
    for path in ("/evil.txt", "/etcdir/passwd", "/up/secret.txt", "/up/html/../secret.txt"):
        status, _, body = await raw_get(path)
        check(status == 404 and not_leaking(body), "%s -> %s %r" % (path, status, body[:80]))
    # A symlink that stays inside is fine.
    status, _, body = await raw_get("/alias.html")
    check(status == 200 and body == read("index.html"), "inside symlink -> %s" % status)


@tap.test("the Janus API path is not a static path")
async def test_api_path():
    async with HttpClient() as h:
        r = await h.get("/janus/info")
        check(r.status == 200 and r.json().get("plugins") is not None, "API", repr(r))


@tap.test("static files still work after traversal probes")
async def test_after():
    async with HttpClient() as h:
        r = await h.get("/")
        check(r.status == 200 and r.body == read("index.html"), "index", repr(r))


if __name__ == "__main__":
    tap.run(shared=Server(html=HTML))
