#!/usr/bin/env python3
"""HTTPS and WSS made easy: --https, the self-signed certificate generated
when none is configured (what it holds, that HTTPS and WSS present the same
one, that its fingerprint is the one logged, that it is kept and reused),
configured certificates taking precedence, plain HTTP and WS staying on, and
Chromium seeing a secure context over it."""

import asyncio
import atexit
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import aiohttp  # noqa: E402

from stoa_harness import (HttpClient, Server, Tap, WsClient, check, env_path,  # noqa: E402
                          expect, run_stoa)

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError as e:  # pragma: no cover - environment problem
    print("Bail out! missing Python module: %s (Debian's python3-cryptography)" % e, flush=True)
    sys.exit(1)

tap = Tap(timeout=30)

HTTPS_PORT = 8089
WSS_PORT = 8989
TLS_PORTS = (8088, 8188, 7088, 7188, HTTPS_PORT, WSS_PORT)
SELFSIGNED_FILE = "stoa-selfsigned.pem"
# The start-up line that announces the generated (or reused) certificate.
ANNOUNCE_RE = re.compile(r"no certificate configured for HTTPS/WSS: .*self-signed certificate.*"
                         r"SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\. Open https://")


def scratch_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path


def https_server(args=(), **kw):
    kw.setdefault("ports", TLS_PORTS)
    return Server(args=["--https"] + list(args), **kw)


def no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def trusting(der):
    """Trusts exactly this certificate, with host name checks on: what a
    browser does once its user accepted the certificate, and more."""
    return ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(der))


async def peer_cert(port, ctx=None, server_hostname=None):
    """The DER certificate the listener on `port` presents."""
    r, w = await asyncio.wait_for(asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx or no_verify(), server_hostname=server_hostname), 5)
    der = w.get_extra_info("ssl_object").getpeercert(binary_form=True)
    w.close()
    try:
        await w.wait_closed()
    except (OSError, ssl.SSLError):
        pass
    return der


def fingerprint(der):
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def announced(srv):
    return ANNOUNCE_RE.findall(srv.log_text())


async def https_get(path, ctx, port=HTTPS_PORT):
    async with aiohttp.ClientSession() as s:
        async with s.get("https://127.0.0.1:%d%s" % (port, path), ssl=ctx,
                         timeout=aiohttp.ClientTimeout(total=10)) as r:
            return r.status, await r.read()


def interface_addresses():
    """Every address of this namespace's interfaces, as `ip` sees them."""
    out = subprocess.run(["ip", "-j", "addr", "show"], capture_output=True, text=True,
                         check=True).stdout
    return [a["local"] for link in json.loads(out) for a in link.get("addr_info", [])
            if "local" in a]


def check_generated(cert):
    """What the brief promises of the generated certificate."""
    key = cert.public_key()
    check(isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1",
          "an ECDSA P-256 key", str(key))
    check(cert.version == x509.Version.v3, "X.509 v3")
    check(cert.signature_hash_algorithm.name == "sha256", "signed with SHA-256")
    check(cert.issuer == cert.subject, "self-issued", cert.issuer.rfc4514_string())
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes,
                   ec.ECDSA(cert.signature_hash_algorithm))
    except InvalidSignature:
        check(False, "self-signed: its own key verifies its signature")
    now = datetime.datetime.utcnow()
    check(cert.not_valid_before <= now < cert.not_valid_after, "valid now",
          str(cert.not_valid_before), str(cert.not_valid_after))
    days = (cert.not_valid_after - now).days
    check(28 <= days <= 30, "valid for about 30 days", days)
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    check(bc.critical and bc.value.ca is False, "basicConstraints critical, CA:FALSE")
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    check(x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku, "extendedKeyUsage serverAuth")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = san.get_values_for_type(x509.DNSName)
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    host = socket.gethostname()
    check("localhost" in dns and host in dns, "DNS names localhost and %s" % host, dns)
    missing = [a for a in ["127.0.0.1", "::1"] + interface_addresses() if a not in ips]
    check(not missing, "IP addresses: loopback and every interface's", missing, ips)


# ---------------------------------------------------------------- generated

@tap.test("--https without certificates: a self-signed certificate serves the API and pages")
async def test_generated():
    async with https_server() as srv:
        der = await peer_cert(HTTPS_PORT)
        check_generated(x509.load_der_x509_certificate(der))
        check(announced(srv) == [fingerprint(der)],
              "one start-up line announces the fingerprint of the served certificate",
              announced(srv), fingerprint(der))
        # Trusting this one certificate is enough, host names included.
        ctx = trusting(der)
        await peer_cert(HTTPS_PORT, ctx, server_hostname="localhost")
        status, body = await https_get("/janus/info", ctx)
        check(status == 200 and json.loads(body).get("janus") == "server_info",
              "GET /janus/info over HTTPS", status, body[:200])
        status, body = await https_get("/", ctx)
        with open(os.path.join(env_path("STOA_HTML"), "index.html"), "rb") as f:
            index = f.read()
        check(status == 200 and body == index, "GET / over HTTPS serves index.html", status)
        status, body = await https_get("/stoa/client.json", ctx)
        check(status == 200 and "iceServers" in json.loads(body),
              "pages get their ICE servers over HTTPS too", status, body[:200])
        async with HttpClient() as h:
            r = await h.get("/janus/info")
            check(r.status == 200 and r.json().get("janus") == "server_info",
                  "plain HTTP on 8088 stays on", repr(r))


@tap.test("--https: WSS on 8989 speaks janus-protocol with the HTTPS certificate; WS stays on")
async def test_wss():
    async with https_server():
        der = await peer_cert(HTTPS_PORT)
        check(await peer_cert(WSS_PORT) == der, "HTTPS and WSS present the same certificate")
        ws = WsClient(WSS_PORT)
        ws.url = "wss://127.0.0.1:%d/" % WSS_PORT
        await ws.open(ssl=trusting(der))
        try:
            sid = expect(await ws.request({"janus": "create"}))["data"]["id"]
            expect(await ws.request({"janus": "destroy", "session_id": sid}))
        finally:
            await ws.close()
        async with WsClient() as plain:
            expect(await plain.request({"janus": "ping"}), "pong")


@tap.test("the certificate is kept in the configs folder (0600) and reused on restart")
async def test_reused():
    async with https_server() as srv:
        der = await peer_cert(HTTPS_PORT)
        path = os.path.join(srv.folder, SELFSIGNED_FILE)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode == 0o600, "saved readable by its owner only", oct(mode))
        with open(path) as f:
            saved = f.read()
        check("saved in %s" % path in srv.log_text(), "the log says where it is kept")
    again = https_server(files={SELFSIGNED_FILE: saved})
    os.chmod(os.path.join(again.folder, SELFSIGNED_FILE), 0o600)
    async with again:
        check(await peer_cert(HTTPS_PORT) == der, "the same certificate after a restart")
        check(await peer_cert(WSS_PORT) == der, "on WSS too")
        check(announced(again) == [fingerprint(der)], "announced again", announced(again))
        check("using the self-signed certificate saved in" in again.log_text(),
              "the log says it was reused")


@tap.test("a damaged saved file is replaced by a new certificate")
async def test_damaged_file():
    async with https_server(files={SELFSIGNED_FILE: "not a certificate\n"}) as srv:
        der = await peer_cert(HTTPS_PORT)
        check_generated(x509.load_der_x509_certificate(der))
        check("not reusing" in srv.log_text(), "the log says why the file was not used")
        with open(os.path.join(srv.folder, SELFSIGNED_FILE)) as f:
            pem = f.read()
        check(x509.load_pem_x509_certificate(pem.encode()).public_bytes(
            serialization.Encoding.DER) == der, "the file now holds the served certificate")


@tap.test("a saved file other users may read is not reused but replaced")
async def test_public_file():
    async with https_server() as srv:
        der = await peer_cert(HTTPS_PORT)
        with open(os.path.join(srv.folder, SELFSIGNED_FILE)) as f:
            saved = f.read()
    shown = https_server(files={SELFSIGNED_FILE: saved})
    path = os.path.join(shown.folder, SELFSIGNED_FILE)
    os.chmod(path, 0o644)
    async with shown:
        check(await peer_cert(HTTPS_PORT) != der, "a new certificate")
        check("other users may read it" in shown.log_text(), "the log says why")
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode == 0o600, "the new file is private", oct(mode))


@tap.test("without a writable configs folder the certificate is kept in memory only")
async def test_memory_only():
    missing = os.path.join(scratch_dir("stoa-tls-"), "no-such-folder")
    srv = Server(folder_args=False, ports=TLS_PORTS,
                 args=["-F", missing, "-P", env_path("STOA_PLUGINS"),
                       "--html-folder", env_path("STOA_HTML"), "--https"])
    async with srv:
        der = await peer_cert(HTTPS_PORT)
        check(announced(srv) == [fingerprint(der)], "announced", announced(srv))
        check("in memory only" in srv.log_text(), "the log says it is not kept")
        check(not os.path.exists(missing), "no folder was created")


# ---------------------------------------------------------------- configured

def make_pair(folder, name):
    """An RSA certificate and key as a CA would hand them out (PEM files)."""
    cert = os.path.join(folder, name + ".crt")
    key = os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    with open(cert, "rb") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read().decode())
    return cert, key, der


def certificates(cert, key):
    return 'certificates: {\n\tcert_pem = "%s"\n\tcert_key = "%s"\n}\n' % (cert, key)


@tap.test("configured cert_pem/cert_key are served on HTTPS and WSS; nothing is generated")
async def test_configured():
    folder = scratch_dir("stoa-tls-")
    cert, key, der = make_pair(folder, "stoa-test-configured")
    transports = {"http": "general: {\n\thttps = true\n}\n" + certificates(cert, key),
                  "websockets": "general: {\n\twss = true\n}\n" + certificates(cert, key)}
    async with Server(transports=transports, ports=TLS_PORTS) as srv:
        check(await peer_cert(HTTPS_PORT) == der, "HTTPS serves the configured certificate")
        check(await peer_cert(WSS_PORT) == der, "WSS serves the configured certificate")
        status, body = await https_get("/janus/info", trusting(der))
        check(status == 200 and json.loads(body).get("janus") == "server_info",
              "the API over HTTPS", status)
        check("self-signed" not in srv.log_text(), "no self-signed certificate announced")
        check(not os.path.exists(os.path.join(srv.folder, SELFSIGNED_FILE)), "none saved")


@tap.test("--https with a certificate for HTTP only: WSS gets the generated one")
async def test_mixed():
    folder = scratch_dir("stoa-tls-")
    cert, key, der = make_pair(folder, "stoa-test-http-only")
    async with https_server(transports={"http": certificates(cert, key)}) as srv:
        check(await peer_cert(HTTPS_PORT) == der, "HTTPS serves the configured certificate")
        wss = await peer_cert(WSS_PORT)
        check(wss != der, "WSS has no configured certificate")
        check_generated(x509.load_der_x509_certificate(wss))
        check(announced(srv) == [fingerprint(wss)], "announced once", announced(srv))


@tap.test("cert_pem without cert_key stops start-up")
def test_half_configured():
    status, out, err = run_stoa(["--https"], files={
        "janus.transport.http.jcfg": 'certificates: {\n\tcert_pem = "/nonexistent.pem"\n}\n'})
    check(status not in (0, None), "start-up fails", status, out, err)
    check("cert_pem and cert_key go together" in out + err, "and says why", out, err)


# ---------------------------------------------------------------- a browser

CHROMIUM = "/usr/bin/chromium"
SECURE_PAGE = ('<!doctype html><p id="r">pending</p><script>document.getElementById("r")'
               '.textContent = "secure=" + window.isSecureContext;</script>\n')


def chromium_secure(url, spki=None):
    """Loads `url` in headless Chromium; returns True/False for
    window.isSecureContext, or None when the page did not load."""
    profile = scratch_dir("stoa-chromium-")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + profile, "--dump-dom", url]
    if spki is not None:
        # Accepts this one key despite the unknown issuer, as a user does at the warning.
        cmd.append("--ignore-certificate-errors-spki-list=" + spki)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    m = re.search(r'<p id="r">secure=(true|false)</p>', out)
    return None if m is None else m.group(1) == "true"


@tap.test("Chromium: a secure context over https once the certificate is accepted, "
          "and on http://localhost", timeout=120)
async def test_browser():
    if not os.access(CHROMIUM, os.X_OK):
        print("# %s not found: browser check skipped" % CHROMIUM, flush=True)
        return
    html = scratch_dir("stoa-tls-html-")
    with open(os.path.join(html, "secure.html"), "w") as f:
        f.write(SECURE_PAGE)
    async with https_server(html=html):
        der = await peer_cert(HTTPS_PORT)
        spki = base64.b64encode(hashlib.sha256(
            x509.load_der_x509_certificate(der).public_key().public_bytes(
                serialization.Encoding.DER,
                serialization.PublicFormat.SubjectPublicKeyInfo)).digest()).decode()
        secure = await asyncio.to_thread(chromium_secure, "https://localhost:8089/secure.html",
                                         spki)
        check(secure is True, "https://localhost:8089 with the certificate accepted", secure)
        refused = await asyncio.to_thread(chromium_secure, "https://localhost:8089/secure.html")
        check(refused is None, "not loaded before the certificate is accepted", refused)
        plain = await asyncio.to_thread(chromium_secure, "http://localhost:8088/secure.html")
        check(plain is True, "http://localhost is a secure context without TLS", plain)


if __name__ == "__main__":
    tap.run()
