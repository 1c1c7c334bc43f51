#!/usr/bin/env python3
"""Command line and configuration files: --help/--version, bad options and
bad values, which main config file is used, precedence (defaults < file <
command line), --log-json, and transport config files."""

import json
import os
import re
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stoa_harness import (HttpClient, JanusClient, Server, Tap, check, expect,  # noqa: E402
                          port_open, run_stoa)

tap = Tap(timeout=20)

NO_PORTS = ["--http-port", "0", "--ws-port", "0", "--admin-http-port", "0",
            "--admin-ws-port", "0"]


async def server_info(port=8088):
    async with HttpClient(port) as h:
        return expect(await h.post("/janus", {"janus": "info", "transaction": "t"}),
                      "server_info")


def check_config_error(status, err, filename, line, key=None):
    check(status is not None, "stoa kept running with an invalid configuration")
    check(status != 0, "stoa exited 0 with an invalid configuration", err)
    check(filename in err, "the message does not name the file %s" % filename, err)
    check(re.search(r"%s:%d\b" % (re.escape(filename), line), err) is not None,
          "the message does not give line %d as file:line" % line, err)
    if key:
        check(key in err, "the message does not name %s" % key, err)


# ---------------------------------------------------------------- options

@tap.test("--help and -h print usage and exit 0")
def test_help():
    for opt in ("--help", "-h"):
        status, out, err = run_stoa([opt], folder_args=False)
        check(status == 0, "%s: exit status %s" % (opt, status), err)
        check("Usage" in out and "--configs-folder" in out and "--http-port" in out,
              "%s: usage text incomplete" % opt, out)


@tap.test("--version and -V print the version and exit 0")
def test_version():
    for opt in ("--version", "-V"):
        status, out, err = run_stoa([opt], folder_args=False)
        check(status == 0, "%s: exit status %s" % (opt, status), err)
        check(re.search(r"\d+\.\d+\.\d+", out) is not None, "%s: no version number" % opt, out)


@tap.test("an unknown option exits 2 with a message")
def test_unknown_option():
    status, out, err = run_stoa(["--no-such-option"], folder_args=False)
    check(status == 2, "exit status %s, expected 2" % status, err)
    check("no-such-option" in err, "the message does not name the option", err)
    status, out, err = run_stoa(["-Z"], folder_args=False)
    check(status == 2, "-Z: exit status %s, expected 2" % status, err)
    check(err.strip(), "-Z: no message")
    status, out, err = run_stoa(["stray-argument"], folder_args=False)
    check(status == 2 and "stray-argument" in err, "stray argument", status, err)


@tap.test("invalid option values exit 2 with a message")
def test_bad_option_values():
    for args, name in ((["-s", "abc"], "session-timeout"), (["-d", "9"], "debug-level"),
                       (["--http-port", "70000"], "http-port"),
                       (["--ws-port", "-1"], "ws-port")):
        status, out, err = run_stoa(args + NO_PORTS)
        check(status == 2, "%s: exit status %s, expected 2" % (args, status), err)
        check(name in err and args[1] in err, "%s: message does not name option and value"
              % args, err)


# ---------------------------------------------------------------- invalid config values

@tap.test("session_timeout = \"abc\": exit non-zero naming file, line and key")
def test_bad_session_timeout():
    status, out, err = run_stoa(NO_PORTS, config='general: {\n\tsession_timeout = "abc"\n}\n')
    check_config_error(status, err + out, "stoa.jcfg", 2, "general.session_timeout")


@tap.test("debug_level = 99: exit non-zero naming file, line and key")
def test_bad_debug_level():
    status, out, err = run_stoa(NO_PORTS, config='general: {\n\n\n\tdebug_level = 99\n}\n')
    check_config_error(status, err + out, "stoa.jcfg", 4, "general.debug_level")


@tap.test("a libconfig syntax error: exit non-zero naming file and line")
def test_syntax_error():
    status, out, err = run_stoa(NO_PORTS, config='general: {\n\tserver_name = "x"\n\t= oops\n}\n')
    check_config_error(status, err + out, "stoa.jcfg", 3)


@tap.test("a wrong type in another section names section.key")
def test_bad_nat_value():
    status, out, err = run_stoa(NO_PORTS, config='nat: {\n\tstun_port = "x"\n}\n')
    check_config_error(status, err + out, "stoa.jcfg", 2, "nat.stun_port")
    status, out, err = run_stoa(NO_PORTS, config='general: {\n\ttoken_auth = "maybe"\n}\n')
    check_config_error(status, err + out, "stoa.jcfg", 2, "general.token_auth")


@tap.test("an invalid value in a transport config names that file")
def test_bad_transport_value():
    status, out, err = run_stoa([], files={"janus.transport.http.jcfg":
                                           'general: {\n\tport = "eighty"\n}\n'})
    check_config_error(status, err + out, "janus.transport.http.jcfg", 2, "general.port")
    status, out, err = run_stoa([], files={"janus.transport.websockets.jcfg":
                                           'general: {\n\tws_port = 99999\n}\n'})
    check_config_error(status, err + out, "janus.transport.websockets.jcfg", 2,
                       "general.ws_port")


@tap.test("-C with a missing file exits non-zero naming it")
def test_missing_config_file():
    status, out, err = run_stoa(["-C", "/nonexistent/stoa-test.jcfg"] + NO_PORTS)
    check(status is not None and status != 0, "exit status %s" % status, err)
    check("/nonexistent/stoa-test.jcfg" in err + out, "the message does not name the file", err)


# ---------------------------------------------------------------- which file

@tap.test("janus.jcfg is used when stoa.jcfg is absent")
async def test_janus_jcfg():
    async with Server(files={"janus.jcfg": 'general: {\n\tserver_name = "from-janus-jcfg"\n}\n'}):
        info = await server_info()
        check(info.get("server-name") == "from-janus-jcfg", "server-name", info)


@tap.test("stoa.jcfg wins over janus.jcfg")
async def test_stoa_wins():
    async with Server(config='general: {\n\tserver_name = "from-stoa-jcfg"\n}\n',
                      files={"janus.jcfg": 'general: {\n\tserver_name = "from-janus"\n}\n'}):
        info = await server_info()
        check(info.get("server-name") == "from-stoa-jcfg", "server-name", info)


@tap.test("an empty configs folder runs on embedded defaults")
async def test_empty_folder():
    async with Server():
        info = await server_info()
        check(info.get("server-name") == "MyJanusInstance", "default server-name", info)
        check(info.get("session-timeout") == 60, "default session-timeout", info)
        for port in (8088, 8188, 7088, 7188):
            check(await port_open(port), "default port %d not open" % port)
        async with JanusClient("ws") as c:
            await c.create_session()
            await c.attach_handle()
            expect(await c.destroy())


@tap.test("unknown keys and sections only warn")
async def test_unknown_keys():
    cfg = ('general: {\n\tfrobnicate = 1\n\tserver_name = "still-read"\n}\n'
           'nosuchsection: {\n\ta = "b"\n}\n')
    async with Server(config=cfg) as srv:
        info = await server_info()
        check(info.get("server-name") == "still-read", "known keys must still apply", info)
    check("frobnicate" in srv.log_text(), "no warning naming the unknown key")


@tap.test("-C names an explicit main config file")
async def test_explicit_config():
    d = tempfile.mkdtemp(prefix="stoa-cfg-")
    path = os.path.join(d, "other-name.cfg")
    with open(path, "w") as f:
        f.write('general: {\n\tserver_name = "from-dash-C"\n\tsession_timeout = 33\n}\n')
    async with Server(config='general: {\n\tserver_name = "from-folder"\n}\n',
                      args=["-C", path]):
        info = await server_info()
        check(info.get("server-name") == "from-dash-C", "server-name", info)
        check(info.get("session-timeout") == 33, "session-timeout", info)
    os.unlink(path)
    os.rmdir(d)


@tap.test("the command line beats the file (-s, -n, --admin-secret)")
async def test_override():
    cfg = ('general: {\n\tsession_timeout = 100\n\tserver_name = "file-name"\n'
           '\tadmin_secret = "file-secret"\n}\n')
    async with Server(config=cfg, args=["-s", "7", "-n", "cli-name",
                                        "--admin-secret", "cli-secret"]):
        info = await server_info()
        check(info.get("session-timeout") == 7, "-s did not override", info)
        check(info.get("server-name") == "cli-name", "-n did not override", info)
        async with JanusClient("http", admin=True, admin_secret="cli-secret") as a:
            expect(await a.request("get_status"))
            r = await a.request("get_status", admin_secret="file-secret")
            check(r.get("janus") == "error" and r["error"]["code"] == 403,
                  "the file's admin_secret still works", r)


@tap.test("--log-json makes every stdout line a JSON object with ts/level/module/msg")
async def test_log_json():
    async with Server(args=["--log-json", "-d", "5"], split_stderr=True) as srv:
        async with JanusClient("ws") as c:
            await c.create_session()
            expect(await c.destroy())
    lines = [l for l in srv.log_text().split("\n") if l.strip()]
    check(len(lines) >= 3, "too few log lines", srv.log_text())
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            raise AssertionError("not a JSON line: %r" % line)
        check(isinstance(obj, dict), "not an object: %r" % line)
        for k in ("ts", "level", "module", "msg"):
            check(k in obj, "line lacks %r: %r" % (k, line))
        check(isinstance(obj["msg"], str), "msg is not a string: %r" % line)


@tap.test("log_format = \"json\" in the file works like --log-json")
async def test_log_json_file():
    async with Server(config='general: {\n\tlog_format = "json"\n}\n', split_stderr=True) as srv:
        await server_info()
    lines = [l for l in srv.log_text().split("\n") if l.strip()]
    check(lines and all(l.startswith("{") for l in lines), "non-JSON lines", lines[:5])
    status, out, err = run_stoa(NO_PORTS, config='general: {\n\tlog_format = "xml"\n}\n')
    check(status not in (None, 0) and "log_format" in err + out, "log_format = xml accepted",
          err)


# ---------------------------------------------------------------- transport configs

@tap.test("janus.transport.http.jcfg port = 8090 moves the HTTP port")
async def test_http_port_file():
    async with Server(transports={"http": "general: {\n\tport = 8090\n}\n"},
                      ports=(8090, 8188, 7088, 7188)):
        info = await server_info(8090)
        check(info.get("janus") == "server_info", "no API on 8090", info)
        check(not await port_open(8088), "8088 still open")


@tap.test("--http-port overrides the transport config file")
async def test_http_port_override():
    async with Server(transports={"http": "general: {\n\tport = 8090\n}\n"},
                      args=["--http-port", "8091"], ports=(8091, 8188)):
        await server_info(8091)
        check(not await port_open(8090), "the file's port 8090 is open too")


@tap.test("transport config: ws_port and admin ports move, 0 on the command line disables")
async def test_ws_ports():
    ws = "general: {\n\tws_port = 8190\n}\nadmin: {\n\tadmin_ws_port = 7190\n}\n"
    http = "admin: {\n\tadmin_port = 7090\n}\n"
    async with Server(transports={"websockets": ws, "http": http}, args=["--http-port", "0"],
                      ports=(8190, 7190, 7090)):
        check(not await port_open(8088), "--http-port 0 left HTTP on")
        check(not await port_open(8188), "8188 still open")
        async with JanusClient("ws", port=8190) as c:
            expect(await c.ping(), "pong")
        async with JanusClient("http", admin=True, port=7090) as a:
            expect(await a.request("list_sessions"))


@tap.test("transports.disable turns a transport off")
async def test_disable_transport():
    async with Server(config='transports: {\n\tdisable = "websockets"\n}\n',
                      ports=(8088, 7088)):
        await server_info()
        check(not await port_open(8188), "WebSocket transport still listening")


@tap.test("the admin listeners bind to loopback only by default")
async def test_admin_loopback():
    async with Server():
        # 127.0.0.2 is on a non-loopback device in the test namespace (tests/ns-run);
        # the public listeners answer there, the admin ones must not.
        if not await port_open(8088, host="127.0.0.2"):
            return  # no second address in this environment: nothing to compare
        check(not await port_open(7088, host="127.0.0.2"), "admin HTTP listens beyond 127.0.0.1")
        check(not await port_open(7188, host="127.0.0.2"), "admin WS listens beyond 127.0.0.1")


if __name__ == "__main__":
    tap.run()
