#!/usr/bin/env python3
"""at.py: the AT path on the modem emulator (issue 12), for `make bench`.

Runs hotlined on libgammu's real `at` connection to tests/tools/atemu.py, the
shipped config with only paths, ports and the modem changed, and prints
key=value lines for table.py:

  at cmti   p50_ms=.. p99_ms=..   a message appearing on the SIM (announced
                                  with +CMTI) to its reply accepted by the
                                  emulator, one message at a time
  at poll   p50_ms=.. p99_ms=..   the same on a modem that refuses AT+CNMI
                                  (read every limits.poll_interval_ms)
  at idle   cmds_per_min=..       AT commands in one idle minute, with +CMTI
  at idle-poll cmds_per_min=..    ... and without
  at gammu-smsd cmds_per_min=..   gammu-smsd 1.42 (files backend, shipped
                                  defaults) on the same emulator, idle

    at.py BUILD SRC [N] [IDLE_SECONDS]
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def ask(emu, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(emu, "ctl.sock"))
    s.sendall((line + "\n").encode())
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out.decode()


def ask_int(emu, line):
    a = ask(emu, line)
    return int(a.split()[1]) if a.startswith("ok ") else -1


def wait(fn, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.01)
    return fn()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_emu(src, folder):
    os.makedirs(folder, exist_ok=True)
    p = subprocess.Popen([sys.executable, os.path.join(src, "tests/tools/atemu.py"), folder],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(folder, "atemu.err"), "w"))
    if not wait(lambda: os.path.exists(os.path.join(folder, "atemu.pid")), 10):
        raise SystemExit("at.py: the emulator did not start")
    return p


def write_cfg(src, work, emu, extra=""):
    cfg = open(os.path.join(src, "config/hotline.cfg"), encoding="utf-8").read()
    cfg = cfg.replace('path = "../var/hotline.db";', 'path = "%s/hotline.db";' % work)
    cfg = cfg.replace('dir = "../menus";', 'dir = "%s/menus";' % src)
    cfg = cfg.replace('model = "dummy";', 'model = "";')
    cfg = cfg.replace('connection = "none";', 'connection = "at";')
    cfg = cfg.replace('device = "../var/phone";', 'device = "%s/modem";' % emu)
    cfg = cfg.replace("port = 8080;", "port = %d;" % free_port())
    cfg = cfg.replace("port = 8081;", "port = %d;" % free_port())
    path = os.path.join(work, "hotline.cfg")
    with open(path, "w", encoding="utf-8") as f:
        f.write(cfg + "\n" + extra + "\n")
    return path


def start_daemon(build, cfg, log):
    args = [os.path.join(build, "hotlined"), "-c", cfg]
    if os.getuid() == 0:
        args.append("--allow-root")
    return subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def latency(emu, n, flags):
    """Milliseconds from a message put on the SIM to its reply accepted, one at a time."""
    out = []
    for i in range(n):
        sent = ask_int(emu, "sent")
        t0 = time.monotonic()
        ask(emu, "sms +86137%08d %s 低保" % (i, flags))
        if not wait(lambda: ask_int(emu, "sent") > sent, 60):
            raise SystemExit("at.py: no reply in 60 s")
        out.append((time.monotonic() - t0) * 1000)
    return out


def idle(emu, seconds):
    t = ask(emu, "now").split()[1]
    time.sleep(seconds)
    return ask_int(emu, "since %s" % t) * 60.0 / seconds


def run_hotlined(build, src, root, name, n, idle_s, cnmi):
    work = os.path.join(root, name)
    emu = os.path.join(work, "emu")
    os.makedirs(work)
    e = start_emu(src, emu)
    if not cnmi:
        ask(emu, "fail CNMI 1000000 ERROR")
    d = start_daemon(build, write_cfg(src, work, emu), os.path.join(work, "hotlined.log"))
    try:
        if not wait(lambda: ask_int(emu, "count CMGL") >= 1, 60):
            raise SystemExit("at.py: hotlined did not read the emulator's inbox")
        lat = latency(emu, n, "cmti" if cnmi else "-")
        print("at %s n=%d p50_ms=%.0f p99_ms=%.0f" % ("cmti" if cnmi else "poll", n, pct(lat, 0.5), pct(lat, 0.99)))
        time.sleep(2)  # let the last reply's bookkeeping pass
        print("at %s cmds_per_min=%.0f" % ("idle" if cnmi else "idle-poll", idle(emu, idle_s)))
    finally:
        stop(d)
        e.terminate()
        e.wait()


def run_smsd(src, root, idle_s):
    if shutil.which("gammu-smsd") is None:
        print("at gammu-smsd cmds_per_min=-1")
        return
    work = os.path.join(root, "smsd")
    emu = os.path.join(work, "emu")
    os.makedirs(work)
    for d in ("inbox", "outbox", "sent", "error"):
        os.makedirs(os.path.join(work, d))
    e = start_emu(src, emu)
    rc = os.path.join(work, "smsdrc")
    with open(rc, "w") as f:
        f.write("[gammu]\ndevice = %s/modem\nconnection = at\n\n[smsd]\nservice = files\n"
                "inboxpath = %s/inbox/\noutboxpath = %s/outbox/\nsentsmspath = %s/sent/\n"
                "errorsmspath = %s/error/\nlogfile = %s/smsd.log\n" % ((emu,) + (work,) * 5))
    d = subprocess.Popen(["gammu-smsd", "-c", rc], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait(lambda: ask_int(emu, "count CMGL") >= 1 or ask_int(emu, "count CPMS") >= 2, 60):
            raise SystemExit("at.py: gammu-smsd did not poll the emulator")
        time.sleep(2)
        print("at gammu-smsd cmds_per_min=%.0f" % idle(emu, idle_s))
    finally:
        stop(d)
        e.terminate()
        e.wait()


def main():
    build, src = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    idle_s = float(sys.argv[4]) if len(sys.argv) > 4 else 60
    root = tempfile.mkdtemp(prefix="bench-at-")
    try:
        run_hotlined(build, src, root, "cmti", n, idle_s, True)
        run_hotlined(build, src, root, "poll", n, idle_s, False)
        run_smsd(src, root, idle_s)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
