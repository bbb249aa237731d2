#!/usr/bin/env python3
"""table.py RESULTS: the one table of `make bench`.

RESULTS holds the key=value lines the bench programs print, each prefixed
with "run=N ". Every figure is shown as min / median / max over the runs; a
ratio is computed within one run (both sides measured in it) before the
statistics. "met": yes when the worst run meets the target, "median" when
only the median does, "NO" otherwise.

table.py --compare BASE HEAD: the median of each figure on both sides and
the change (tests/bench/compare.sh).
"""
import statistics
import sys


def parse(path):
    runs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if len(words) < 2 or not words[0].startswith("run="):
                continue
            run = int(words[0][4:])
            kv = {}
            tag = []
            for w in words[1:]:
                if "=" in w:
                    k, v = w.split("=", 1)
                    kv.setdefault(k, v)
                elif not kv:
                    tag.append(w)
            kv["_tag"] = " ".join(tag)
            runs.setdefault(run, []).append(kv)
    return runs


def find(lines, tag, **match):
    for kv in lines:
        if kv["_tag"] == tag and all(kv.get(k) == v for k, v in match.items()):
            return kv
    return None


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


# (label, unit, getter(lines of one run) -> number or None, target (op, value) or None)
def g(tag, key, scale=1.0, **match):
    def get(lines):
        kv = find(lines, tag, **match)
        x = num(kv.get(key)) if kv else None
        return None if x is None or x < 0 else x * scale
    return get


def lostdup(tag):
    def get(lines):
        kv = find(lines, tag)
        if not kv:
            return None
        a, b = num(kv.get("lost")), num(kv.get("dup"))
        return None if a is None or b is None else a + b
    return get


def gapdup(tag):
    def get(lines):
        kv = find(lines, tag)
        if not kv:
            return None
        a, b, c = num(kv.get("gaps")), num(kv.get("dup_rows")), num(kv.get("orphans"))
        return None if a is None or b is None or c is None else a + b + c
    return get


MB = 1 / 1024
ROWS = [
    ("1 engine in memory: normalise, match, render", "msgs/s", g("engine", "msgs_per_s"), (">=", 50000)),
    ("2 engine + store, 1 msg/commit, sync=full (shipped)", "msgs/s", g("store", "msgs_per_s", sync="full", batch="1"), (">=", 5000)),
    ("2 engine + store, 1 msg/commit, sync=normal", "msgs/s", g("store", "msgs_per_s", sync="normal", batch="1"), (">=", 5000)),
    ("2   (info) sync=full, 64 msgs/commit as a modem read", "msgs/s", g("store", "msgs_per_s", sync="full", batch="64"), None),
    ("3 drain N=1000: hotlined, start to last reply", "s", g("drain hotlined", "wall_s"), None),
    ("3 drain N=1000: gammu-smsd (files, tuned)", "s", g("drain gammu-smsd", "wall_s"), None),
    ("3 drain ratio gammu-smsd / hotlined (same run)", "x", g("drain", "ratio"), (">=", 10)),
    ("3 drain peak RSS hotlined (VmHWM)", "MB", g("drain hotlined", "hwm_kb", MB), ("<=", 32)),
    ("3 drain peak RSS gammu-smsd (VmHWM)", "MB", g("drain gammu-smsd", "hwm_kb", MB), None),
    ("3 drain lost+dup hotlined", "msgs", lostdup("drain hotlined"), ("<=", 0)),
    ("3 drain lost+dup gammu-smsd", "msgs", lostdup("drain gammu-smsd"), ("<=", 0)),
    ("4 USSD hotlined, 64 conns, menu walks", "req/s", g("ussd hotline", "rps"), None),
    ("4 USSD bare libmicrohttpd responder", "req/s", g("ussd bare", "rps"), None),
    ("4 USSD ratio hotlined / bare (same run)", "x", g("ussd", "ratio"), (">=", 0.7)),
    ("4 USSD hotlined latency p50", "ms", g("ussd hotline", "p50_ms"), None),
    ("4 USSD hotlined latency p99", "ms", g("ussd hotline", "p99_ms"), ("<", 10)),
    ("4   (info) USSD hotlined at 2 connections", "req/s", g("ussd hotline-c2", "rps"), None),
    ("4   (info) USSD hotlined at 2 connections, p99", "ms", g("ussd hotline-c2", "p99_ms"), None),
    ("4 USSD bare latency p50", "ms", g("ussd bare", "p50_ms"), None),
    ("4 USSD bare latency p99", "ms", g("ussd bare", "p99_ms"), None),
    ("5 peak RSS idle, shipped menus", "MB", g("mem idle", "hwm_kb", MB), ("<=", 16)),
    ("5 peak RSS with 100,000 live sessions", "MB", g("mem sessions", "hwm_kb", MB), ("<=", 64)),
    ("5   (info) live USSD sessions at the end", "rows", g("mem sessions", "live_sessions"), None),
    ("6 start-up to ready, new database", "ms", g("startup new", "ready_ms"), ("<=", 100)),
    ("6 start-up to ready, restart", "ms", g("startup restart", "ready_ms"), ("<=", 100)),
    ("6   (info) start-up to first /healthz answer", "ms", g("startup restart", "http_ms"), None),
    ("7 Kannel MO->MT, hotlined, 1 county", "rt/s", g("kannel hotlined", "rt_per_s", counties="1"), None),
    ("7 Kannel MO->MT, smsbox echo (text), 1 county", "rt/s", g("kannel echo", "rt_per_s", counties="1"), None),
    ("7 Kannel ratio hotlined / echo, 1 county (same run)", "x", g("kannel ratio", "c1"), None),
    ("7 Kannel MO->MT, hotlined, 4 counties", "rt/s", g("kannel hotlined", "rt_per_s", counties="4"), None),
    ("7 Kannel MO->MT, smsbox echo (text), 4 counties", "rt/s", g("kannel echo", "rt_per_s", counties="4"), None),
    ("7 Kannel ratio hotlined / echo, 4 counties (same run)", "x", g("kannel ratio", "c4"), None),
    ("7   (info) hotlined with senders = 4, 1 county", "rt/s", g("kannel hotlined-s4", "rt_per_s", counties="1"), None),
    ("8 console case list p99, 10,000 cases, 100,000 msgs", "ms", g("console", "list_p99_ms"), ("<", 50)),
    ("8 console case page p99 (timeline, thread)", "ms", g("console", "case_p99_ms"), ("<", 50)),
    ("8   (info) console case list p50", "ms", g("console", "list_p50_ms"), None),
    ("8   (info) console case page p50", "ms", g("console", "case_p50_ms"), None),
    ("8 console logins (Argon2id, interactive cost)", "/s", g("console", "logins_per_s"), None),
    ("9 AT emulator: SIM to reply accepted, +CMTI, p50", "ms", g("at cmti", "p50_ms"), None),
    ("9 AT emulator: SIM to reply accepted, +CMTI, p99", "ms", g("at cmti", "p99_ms"), None),
    ("9 AT emulator: same, no +CNMI (poll), p50", "ms", g("at poll", "p50_ms"), None),
    ("9 AT emulator: same, no +CNMI (poll), p99", "ms", g("at poll", "p99_ms"), None),
    ("9 AT commands per idle minute, hotlined +CMTI", "cmds", g("at idle", "cmds_per_min"), None),
    ("9 AT commands per idle minute, hotlined polling", "cmds", g("at idle-poll", "cmds_per_min"), None),
    ("9 AT commands per idle minute, gammu-smsd", "cmds", g("at gammu-smsd", "cmds_per_min"), None),
    ("10 broadcast 10,000: import the roster (CSV)", "s", g("broadcast queue", "import_s"), None),
    ("10 broadcast: time to queue (create + approve)", "s", g("broadcast queue", "queue_s"), None),
    ("10 broadcast: approve to last send, 4 modems, rate 0", "s", g("broadcast send", "send_s"), None),
    ("10 broadcast: sends per second, rate 0 (ceiling)", "msgs/s", g("broadcast send", "msgs_per_s"), None),
    ("10 broadcast peak RSS hotlined (VmHWM)", "MB", g("broadcast send", "hwm_kb", MB), None),
    ("10 broadcast peak RSS hotlinectl create", "MB", g("broadcast queue", "ctl_rss_kb", MB), None),
    ("10 broadcast after kills: gaps + duplicate rows", "msgs", gapdup("broadcast kills"), ("<=", 0)),
    ("10   (info) sent twice on the air (each uncertain)", "msgs", g("broadcast kills", "air_dup"), None),
]


def fmt(x):
    if x is None:
        return "-"
    if 0 < abs(x) < 1:
        return f"{x:.3f}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if x != int(x) else f"{x:.0f}"


def ok(x, target):
    op, v = target
    return {">=": x >= v, "<=": x <= v, "<": x < v}[op]


def compare(base_path, head_path):
    """Each figure's median on both sides, and the change (compare.sh)."""
    sides = [parse(base_path), parse(head_path)]
    out = []
    head = ("figure", "unit", "base", "head", "change")
    for label, unit, get, _ in ROWS:
        meds = []
        for runs in sides:
            vals = [v for v in (get(lines) for _, lines in sorted(runs.items())) if v is not None]
            meds.append(statistics.median(vals) if vals else None)
        if None in meds:
            continue
        b, h = meds
        change = f"{(h - b) / b * 100:+.1f}%" if b else ""
        out.append((label, unit, fmt(b), fmt(h), change))
    widths = [max(len(r[i]) for r in out + [head]) for i in range(len(head))]

    def line(r):
        return "  ".join(c.rjust(widths[i]) if i >= 2 else c.ljust(widths[i]) for i, c in enumerate(r)).rstrip()

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for r in out:
        print(line(r))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        return compare(sys.argv[2], sys.argv[3])
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    runs = parse(sys.argv[1])
    nruns = len(runs)
    out = []
    head = ("figure", "unit", "min", "median", "max", "runs", "target", "met")
    for label, unit, get, target in ROWS:
        vals = [v for v in (get(lines) for _, lines in sorted(runs.items())) if v is not None]
        if not vals:
            continue
        lo, med, hi = min(vals), statistics.median(vals), max(vals)
        if target:
            op, v = target
            worst = hi if op in ("<=", "<") else lo
            met = "yes" if ok(worst, target) else "median" if ok(med, target) else "NO"
            tgt = f"{op} {fmt(v)}"
        else:
            met, tgt = "", ""
        out.append((label, unit, fmt(lo), fmt(med), fmt(hi), f"{len(vals)}/{nruns}", tgt, met))
    widths = [max(len(r[i]) for r in out + [head]) for i in range(len(head))]
    right = {2, 3, 4, 5}

    def line(r):
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)).rstrip()

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for r in out:
        print(line(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
