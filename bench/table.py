#!/usr/bin/env python3
"""The table bench/run prints, from the raw outputs in one run's folder.

    python3 bench/table.py bench/out/run-<time> [FAILED_STEPS]
"""
import os, re, sys
out, failed = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "").split()

def read(name):
    try:
        return open(os.path.join(out, name + ".txt"), encoding="utf-8", errors="replace").read()
    except OSError:
        return ""

def num(pattern, text, group=1):
    m = re.search(pattern, text, re.M)
    return float(m.group(group).replace(",", "")) if m else None

rows = []
def row(what, value, unit, target, ok, note=""):
    shown = "not measured" if value is None else (f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}")
    verdict = "" if not target else "—" if value is None else ("PASS" if ok(value) else "MISS")
    rows.append((what, shown, target, verdict, note))

intake = read("intake")
h_rps = num(r"^herald intake\s+(\d+)", intake)
b_rps = num(r"^bare route\s+(\d+)", intake)
row("intake throughput (durable, verified)", h_rps, "req/s", "", lambda v: True, "wrk, 32 connections")
row("bare route ceiling (same run)", b_rps, "req/s", "", lambda v: True)
ratio = 100 * h_rps / b_rps if h_rps and b_rps else None
row("intake / bare route", ratio, "%", "≥ 50 %", lambda v: v >= 50)
row("intake p50", num(r"^herald intake\s+\d+\s+([\d.]+)", intake), "ms", "", lambda v: True)
row("intake p99", num(r"^herald intake\s+\d+\s+[\d.]+\s+([\d.]+)", intake), "ms", "≤ 5 ms", lambda v: v <= 5)

def e2e_rows(text, suffix, target, note_prefix="", lost_words="lost"):
    """One row for the run at 200/s, one per consecutive run at 1000/s, and whether every one held."""
    runs = {200: [], 1000: []}
    for l in text.splitlines():
        m = re.match(r"rate\s+(\d+)/s", l)
        if m and int(m.group(1)) in runs:
            runs[int(m.group(1))].append(l)
    for rate, lines in runs.items():
        for index, line in enumerate(lines or [""]):
            p99 = num(r"p99\s+([\d.]+) ms", line)
            lost, dup = num(r"undelivered after drain (\d+)", line), num(r"duplicated (\d+)", line)
            p50 = num(r"p50\s+([\d.]+) ms", line)
            note = f"{note_prefix}p50 {p50} ms; {lost_words} {lost:.0f}, duplicated {dup:.0f}" if line else ""
            run = f", run {index + 1}/{len(lines)}" if len(lines) > 1 else ""
            row(f"end to end p99 at {rate}/s{suffix}{run}", p99, "ms", f"≤ {target} ms", lambda v: v <= target, note)
        if rate == 1000 and len(lines) > 1:
            worst = max((num(r"p99\s+([\d.]+) ms", l) or float("inf")) for l in lines)
            row(f"end to end p99 at 1000/s{suffix}, worst of {len(lines)} runs", worst, "ms", f"every run ≤ {target} ms",
                lambda v: v <= target)

e2e = read("e2e")
e2e_rows(e2e, "", 20)
cpu_line = next((l for l in reversed(e2e.splitlines()) if l.startswith("CPU per webhook at 1000/s")), "")
if cpu_line:
    rows.append(("   " + cpu_line, None, "", "", ""))
row("peak RSS under load (1000/s end to end)", num(r"herald peak RSS at 1000/s: (\d+) MiB", e2e), "MiB", "≤ 200 MB", lambda v: v * 1.048576 <= 200)

row("dry-run", num(r"= ([\d,]+) payloads/s", read("dryrun")), "payloads/s", "≥ 50 000", lambda v: v >= 50000, "one core, 100 000 envelopes")
core = read("core")
row("rule evaluations", num(r"rule evaluations/s[^:]*: (\d+)", core), "/s", "≥ 1 000 000", lambda v: v >= 1_000_000, "one core, 50 rules")
row("renders", num(r"messages rendered/s[^:]*: (\d+)", core), "/s", "≥ 200 000", lambda v: v >= 200_000, "one core")
startup = read("startup")
row("start-up (exec → /healthz 200)", num(r"median (\d+) ms", startup), "ms", "≤ 300 ms", lambda v: v <= 300)
row("idle RSS", num(r"idle RSS: ([\d.]+) MiB", startup), "MiB", "≤ 64 MB", lambda v: v * 1.048576 <= 64)

# PostgreSQL: one cluster on this same machine, measured beside its own ceiling (pgbench).
rows.append(("-- PostgreSQL: 2 cores shared by instances, PostgreSQL, load generator and fake provider: "
             "shows correctness and contention, not scaling", None, "", "", ""))
pg = read("pgintake")
pg_tps = num(r"^pgbench, one webhook per txn\s+(\d+)", pg)
pg_rps = num(r"^herald serve --db postgres://\s+(\d+)", pg)
row("pgbench, Herald's intake statements", pg_tps, "txn/s", "", lambda v: True, "32 clients, one webhook per transaction")
row("intake on PostgreSQL (durable, verified)", pg_rps, "req/s", "", lambda v: True, "wrk, 32 connections, 1 instance")
row("intake / pgbench", 100 * pg_rps / pg_tps if pg_rps and pg_tps else None, "%", "≥ 50 %", lambda v: v >= 50,
    "Herald groups commits, pgbench cannot")
row("intake on PostgreSQL p99", num(r"^herald serve --db postgres://\s+\d+\s+p50 [\d.]+ ms, p99 ([\d.]+) ms", pg), "ms",
    "", lambda v: True)
e2e_pg = read("e2e-pg")
# e2e_load.py waits 20 s after the load for the provider to see every message: a backlog larger
# than that shows as "not sent" although the messages are still queued in the database.
e2e_rows(e2e_pg, ", PostgreSQL", 50, "2 instances; ", "not sent 20 s after the load")
cpu_line = next((l for l in reversed(e2e_pg.splitlines()) if l.startswith("CPU per webhook at 1000/s")), "")
if cpu_line:
    rows.append(("   " + cpu_line, None, "", "", ""))

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print()
print(f"================ Herald benchmarks ({os.cpu_count()} CPUs, {cpu}) ================")
table = [r for r in rows if r[1] is not None]  # a None value: a heading line
widths = [max(len(r[i]) for r in table + [("measure", "measured", "target", "", "")]) for i in range(4)]
print(f"{'measure':<{widths[0]}}  {'measured':>{widths[1]}}  {'target':<{widths[2]}}  verdict")
for what, shown, target, verdict, note in rows:
    if shown is None:
        print(what)
        continue
    print(f"{what:<{widths[0]}}  {shown:>{widths[1]}}  {target:<{widths[2]}}  {verdict:<7}  {note}")
print(f"raw outputs: {out}")
if failed:
    print("FAILED benchmarks (wrong answers, lost or duplicated messages, or no result): " + ", ".join(failed))
