#!/usr/bin/python3
"""fanout-bench.py: Stoa against Janus on the same fan-out load, in one run.

For each viewer count N (default 10, 100, 300, 1000) it runs, one server at
a time, inside a private network namespace that has only `lo`:
  - Stoa, built in this tree, with ICE on 127.0.0.2 (stoa-load too: both
    ends of every pair on that address);
  - Janus (Debian's `janus`; installed with apt when missing unless
    --no-install) with ICE on 127.0.0.2, in its best configuration for this
    load (event_loops = 2) and, with --janus-default, also with its defaults;
and drives each with stoa-load: one publisher sending a pre-encoded VP8
stream at ~1.6 Mbit/s (made by make-media.py), N subscribers joining at
--ramp per second. The floor (bench_floor: one srtp_protect of a 1,200-byte
packet + one delivered loopback send, per profile, over one session as the
issue defines it and over 300) is measured in the same run.

It prints, per N and server: server CPU us per forwarded packet (from
/proc, over the steady window, as stoa-load reports it) and its ratio to the
floor of the negotiated profile, RSS growth per viewer, loss, p50/p99 time
from `start` to first packet, and how many viewers received. Ratios are the
headline: these machines are shared and absolute times drift, so --repeat K
runs every (N, server) K times, interleaved, and shows the median run with
the range of CPU per packet over the K runs.

  tests/bench/fanout-bench.py --build BUILD_DIR [--viewers 10,100,300,1000]
      [--duration 20] [--ramp 50] [--repeat 3] [--json results.jsonl] [--no-janus]

It never sends traffic off the machine: everything runs in the namespace.
Results and method: docs/performance.md.
"""

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ICE_IP = "127.0.0.2"
WS_PORT = 8188
SETTLE_S = 5  # after the last join, before the steady window can start
JANUS_PLUGINS = "/usr/lib/x86_64-linux-gnu/janus/plugins"
JANUS_TRANSPORTS = "/usr/lib/x86_64-linux-gnu/janus/transports"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def in_private_netns():
    """True inside tests/ns-run's namespace (lo, and 127.0.0.2 on a device
    that is not flagged LOOPBACK, which Janus needs to gather at all)."""
    return os.environ.get("STOA_IN_NETNS") == "1"


def reexec_in_netns():
    """Runs this script again through tests/ns-run."""
    ns_run = os.path.join(HERE, "..", "ns-run")
    os.execv(ns_run, [ns_run, sys.executable] + sys.argv)


def wait_port(port, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


# ---------------------------------------------------------------- servers

def stoa_server(build, tmp):
    conf = os.path.join(tmp, "stoa-conf")
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "stoa.jcfg"), "w") as f:
        f.write('general: {\n\tdebug_level = 3\n}\nnat: {\n\tice_enforce_list = "%s"\n}\n' % ICE_IP)
    cmd = [os.path.join(build, "src", "stoa"), "-P", os.path.join(build, "plugins", ".libs"),
           "-F", conf, "--html-folder", tmp, "-o"]
    return "stoa", cmd


def janus_server(tmp, loops):
    conf = os.path.join(tmp, "janus-conf-%d" % loops)
    os.makedirs(conf, exist_ok=True)
    general = ['configs_folder = "%s"' % conf, 'plugins_folder = "%s"' % JANUS_PLUGINS,
               'transports_folder = "%s"' % JANUS_TRANSPORTS, "debug_level = 3"]
    if loops:
        general.append("event_loops = %d" % loops)
    with open(os.path.join(conf, "janus.jcfg"), "w") as f:
        f.write("general: {\n\t%s\n}\n" % "\n\t".join(general))
        f.write('nat: {\n\tice_enforce_list = "%s"\n}\n' % ICE_IP)
        f.write('media: {\n\trtp_port_range = "20000-40000"\n}\n')
        # Only what the load needs: the videoroom and the WebSocket transport.
        f.write('plugins: {\n\tdisable = "libjanus_audiobridge.so,libjanus_echotest.so,'
                'libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,'
                'libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so,'
                'libjanus_duktape.so,libjanus_lua.so"\n}\n')
        f.write('transports: {\n\tdisable = "libjanus_http.so,libjanus_pfunix.so,'
                'libjanus_rabbitmq.so,libjanus_mqtt.so,libjanus_nanomsg.so"\n}\n')
        f.write('events: {\n\tbroadcast = false\n}\n')
    with open(os.path.join(conf, "janus.transport.websockets.jcfg"), "w") as f:
        f.write("general: {\n\tws = true\n\tws_port = %d\n}\nadmin: {\n\tadmin_ws = false\n}\n" % WS_PORT)
    with open(os.path.join(conf, "janus.plugin.videoroom.jcfg"), "w") as f:
        f.write("general: {\n}\n")
    return ("janus-loops%d" % loops if loops else "janus-default"), ["janus", "-F", conf, "-o"]


# ---------------------------------------------------------------- one run

def run_one(name, cmd, load, media, n, args, tmp):
    logf = open(os.path.join(tmp, "%s-%d.log" % (name, n)), "w")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if not wait_port(WS_PORT, proc):
            return {"server": name, "viewers": n, "error": "server did not start (%s)" % logf.name}
        time.sleep(0.5)
        out = os.path.join(tmp, "%s-%d.jsonl" % (name, n))
        # stoa-load's --duration counts the ramp too; ours is the steady part.
        total = args.duration + math.ceil(n / max(args.ramp, 1)) + SETTLE_S
        lcmd = [load, "--server", "ws://127.0.0.1:%d" % WS_PORT, "--viewers", str(n),
                "--duration", str(total), "--ramp", str(args.ramp), "--video", media,
                "--server-pid", str(proc.pid), "--ice-ip", ICE_IP, "--json", out, "--quiet"]
        timeout = total + 120
        res = subprocess.run(lcmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                             text=True)
        summary = None
        if os.path.exists(out):
            with open(out) as f:
                for line in f:
                    try:
                        o = json.loads(line)
                    except ValueError:
                        continue
                    if o.get("summary"):
                        summary = o
        if summary is None:
            return {"server": name, "viewers": n, "error": "no summary from stoa-load (exit %d): %s"
                    % (res.returncode, res.stderr[-500:])}
        summary["server"] = name
        summary["viewers"] = n
        return summary
    finally:
        status = stop(proc)
        logf.close()
        if status not in (0, None, -signal.SIGINT):
            log("%s exited with %s (log: %s)" % (name, status, logf.name))


def floor(build, spread=1):
    """us per packet for srtp_protect + a delivered loopback send, per profile,
    over `spread` sessions and sockets (1 is the issue's definition)."""
    exe = os.path.join(build, "tests", "bench", "bench_floor")
    subprocess.run(["make", "-C", build, "tests/bench/bench_floor"], check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.run([exe, "--json", "--spread", str(spread)], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    return {o["profile"]: o["us_per_packet"] for o in map(json.loads, out.splitlines())}


def median_row(runs):
    """The run with the median CPU per packet (runs without one rank last),
    with the range over all runs in "us_range"."""
    def key(r):
        us = r.get("server_cpu_us_per_packet")
        return (us is None, us or 0.0)
    runs = sorted(runs, key=key)
    row = dict(runs[(len(runs) - 1) // 2])
    uss = [r["server_cpu_us_per_packet"] for r in runs
           if r.get("server_cpu_us_per_packet") is not None]
    row["us_range"] = (min(uss), max(uss)) if len(uss) > 1 else None
    return row


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def table(rows, floors, spread_floors):
    head = "%6s  %-14s  %-24s  %8s  %11s  %7s  %9s  %6s  %11s  %9s" % (
        "N", "server", "profile", "us/pkt", "runs range", "x floor", "KB/viewer", "loss%",
        "join p50/99", "receiving")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print("%6d  %-14s  %s" % (r["viewers"], r["server"], r["error"]))
            continue
        prof = r.get("srtp_profile") or "AES_CM_128_HMAC_SHA1_80"
        us = r.get("server_cpu_us_per_packet")
        fl = floors.get(prof)
        j = r.get("join_ms") or {}
        rng = r.get("us_range")
        print("%6d  %-14s  %-24s  %8s  %11s  %7s  %9s  %6s  %11s  %9s" % (
            r["viewers"], r["server"], prof, fmt(us, "%.2f"),
            "%.2f-%.2f" % rng if rng else "-",
            fmt(us / fl if us is not None and fl else None, "%.2f"),
            fmt(r.get("rss_growth_kb_per_viewer")), fmt(r.get("loss_pct"), "%.2f"),
            "%s/%s" % (fmt(j.get("p50"), "%.0f"), fmt(j.get("p99"), "%.0f")),
            "%d/%d" % (r.get("receiving", 0), r["viewers"])))
    print("floor (protect + delivered send, 1 session):",
          ", ".join("%s %.2f us" % kv for kv in floors.items()))
    print("floor over 300 sessions and sockets:",
          ", ".join("%s %.2f us" % kv for kv in spread_floors.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="the build directory (with src/stoa and stoa-load)")
    ap.add_argument("--viewers", default="10,100,300,1000")
    ap.add_argument("--duration", type=int, default=20,
                    help="seconds of steady load per run, after the last join")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per N and server, interleaved; the table shows the median")
    ap.add_argument("--ramp", type=int, default=50, help="viewer joins per second")
    ap.add_argument("--json", help="append every summary (JSON lines) here")
    ap.add_argument("--no-janus", action="store_true", help="Stoa only")
    ap.add_argument("--janus-default", action="store_true", help="also Janus with its defaults")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get install janus")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    if not args.no_janus and shutil.which("janus") is None:
        if args.no_install:
            sys.exit("janus is not installed (apt-get install janus), or pass --no-janus")
        if in_private_netns():
            sys.exit("janus is missing; run once outside a namespace to install it")
        log("installing Debian's janus ...")
        subprocess.run(["apt-get", "install", "-y", "janus"], check=True)
    if not in_private_netns():
        reexec_in_netns()

    load = os.path.join(build, "stoa-load")
    if not os.path.exists(load):
        sys.exit("%s is missing: build it (make -C %s stoa-load)" % (load, build))
    tmp = tempfile.mkdtemp(prefix="stoa-bench-")
    media = os.path.join(tmp, "video.ivf")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "make-media.py"), "--video", media],
                   check=True, stdout=subprocess.DEVNULL)
    # The floor is measured --repeat times too (at least 3), median kept.
    fl_runs = [floor(build) for _ in range(max(3, args.repeat))]
    floors = {p: statistics.median(f[p] for f in fl_runs) for p in fl_runs[0]}
    sp_runs = [floor(build, 300) for _ in range(max(3, args.repeat))]
    spread_floors = {p: statistics.median(f[p] for f in sp_runs) for p in sp_runs[0]}
    servers = [stoa_server(build, tmp)]
    if not args.no_janus:
        servers.append(janus_server(tmp, 2))
        if args.janus_default:
            servers.append(janus_server(tmp, 0))
    rows = []
    for n in [int(x) for x in args.viewers.split(",")]:
        runs = {name: [] for name, _ in servers}
        # Interleaved, so a noisy minute hits every server alike.
        for i in range(args.repeat):
            for name, cmd in servers:
                log("N=%d %s (run %d of %d) ..." % (n, name, i + 1, args.repeat))
                r = run_one(name, cmd, load, media, n, args, tmp)
                r["floor_us"] = floors
                r["floor_us_300"] = spread_floors
                r["run"] = i + 1
                runs[name].append(r)
                if args.json:
                    with open(args.json, "a") as f:
                        f.write(json.dumps(r) + "\n")
        for name, _ in servers:
            ok = [r for r in runs[name] if "error" not in r]
            rows.append(median_row(ok) if ok else runs[name][0])
    table(rows, floors, spread_floors)
    log("logs and raw results: %s" % tmp)


if __name__ == "__main__":
    main()
