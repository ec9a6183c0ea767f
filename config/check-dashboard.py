#!/usr/bin/env python3
"""Check that the Grafana dashboard and the Prometheus alert rules name only metrics the gateway
exports.

    python3 config/check-dashboard.py                  # offline: parse, list the metric names
    python3 config/check-dashboard.py scrape.txt       # against a saved scrape
    python3 config/check-dashboard.py http://localhost:9090/_licensing/metrics
    curl -s http://localhost:9090/_licensing/metrics | python3 config/check-dashboard.py -

Offline, it parses the dashboard JSON and the rules YAML, extracts every metric name used in a
PromQL expression (panel targets, template variable queries, alert and recording rules) and
checks each against the names the gateway is documented to export (docs/operations.md, OpenTelemetry
Prometheus naming) plus a small allowlist of standard ASP.NET Core / HttpClient metrics and
Prometheus' own `up`. If promtool is on PATH, it also checks that every expression parses.

With a scrape (Prometheus text or OpenMetrics, from a file, `-` for stdin, or an http(s) URL), a
name passes when the scrape has it as a sample name, or as the family of a histogram or summary
(`x` for `x_bucket`/`x_sum`/`x_count`). A name the scrape lacks fails, except names that only
appear after their first event (the licensing event counters and histogram, the HTTP
server/client metrics): those are reported as warnings when the scrape came from a gateway with
no such traffic yet. `--strict` makes them fail too; use it on a scrape taken after traffic.

Exit status: 0 all good, 1 a metric is missing or unknown, 2 a file does not parse.
Only the Python 3 standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DASHBOARDS = [os.path.join(HERE, "grafana", "dashboards", "seat-gateway.json")]
DEFAULT_RULES = [os.path.join(HERE, "prometheus-alerts.yml")]

# What the gateway exports on /_licensing/metrics (meter Gateway.Licensing, docs/operations.md),
# under the OpenTelemetry Prometheus exporter's names. Histograms are listed by family name.
GATEWAY_ALWAYS = {
    # Observable gauges: present within 10 s of start, for every tenant with a plan.
    "licensing_session_active",
    "licensing_user_active",
    "licensing_seat_limit",
}
GATEWAY_AFTER_EVENT = {
    # Counters and histograms appear in a scrape only after their first measurement.
    "licensing_session_admissions_total": "the first admission decision",
    "licensing_session_ended_total": "the first session end",
    "licensing_session_admission_duration_seconds": "the first admission decision",
    "licensing_store_errors_total": "the first store error",
    "licensing_session_fail_open_total": "the first request forwarded under StoreUnavailable=FailOpen",
}
# Standard metrics of ASP.NET Core and System.Net.Http (YARP's forwarder), after traffic.
STANDARD_AFTER_EVENT = {
    "http_server_request_duration_seconds": "the first HTTP request served",
    "http_server_active_requests": "the first HTTP request served",
    "http_client_request_duration_seconds": "the first request forwarded to a backend",
    "http_client_connection_duration_seconds": "the first backend connection closed",
    "kestrel_active_connections": "the first connection accepted",
    "kestrel_connection_duration_seconds": "the first connection closed",
}
# Made by Prometheus itself, never in a target's scrape.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

# PromQL words that look like metric names but are not.
PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "atan2", "inf", "nan", "start", "end",
    # aggregation operators (may be followed by `by (...)` before their parenthesis)
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}


# --- PromQL -----------------------------------------------------------------------------------

def _strip_strings(expr: str) -> tuple[str, list[str]]:
    """Replaces string literals with "" and returns them (for __name__ matchers)."""
    out, strings, i = [], [], 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            j, buf = i + 1, []
            while j < len(expr) and expr[j] != c:
                if expr[j] == "\\" and c != "`" and j + 1 < len(expr):
                    buf.append(expr[j:j + 2])
                    j += 2
                    continue
                buf.append(expr[j])
                j += 1
            strings.append("".join(buf))
            out.append('""')
            i = j + 1
        elif c == "#":  # comment to end of line
            while i < len(expr) and expr[i] != "\n":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out), strings


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    names: set[str] = set()
    # Grafana variables: ${var}, ${var:fmt}, $var, [[var]].
    expr = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_]\w*|\[\[[^\]]*\]\]", "1", expr)
    # __name__="x" matchers name a metric inside braces.
    for m in re.finditer(r"__name__\s*=\s*(\"[^\"]*\"|'[^']*')", expr):
        names.add(m.group(1)[1:-1])
    expr, _ = _strip_strings(expr)
    expr = re.sub(r"\{[^{}]*\}", " ", expr)                       # label matchers
    expr = re.sub(r"\[[^\[\]]*\]", " ", expr)                     # ranges, subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", expr)
    expr = re.sub(r"\boffset\s+-?[0-9a-zA-Z]+", " ", expr)
    expr = re.sub(r"@\s*(start|end)\s*\(\s*\)|@\s*[0-9.]+", " ", expr)
    for m in re.finditer(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)", expr):
        word = m.group(1)
        rest = expr[m.end():].lstrip()
        if rest.startswith("("):
            continue  # function call
        if word.lower() in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names


def variable_query_names(query: str) -> set[str]:
    """Metric names in a Grafana Prometheus template-variable query."""
    q = query.strip()
    m = re.fullmatch(r"label_values\s*\((.*)\)", q, re.S)
    if m:
        args = m.group(1)
        # label_values(label) names no metric; label_values(selector, label) does.
        depth, split = 0, None
        for i, c in enumerate(args):
            if c in "({[":
                depth += 1
            elif c in ")}]":
                depth -= 1
            elif c == "," and depth == 0:
                split = i
        return metric_names(args[:split]) if split is not None else set()
    m = re.fullmatch(r"query_result\s*\((.*)\)", q, re.S)
    if m:
        return metric_names(m.group(1))
    if re.fullmatch(r"(label_names|metrics)\s*\(.*\)", q, re.S):
        return set()
    return metric_names(q)


# --- Dashboard --------------------------------------------------------------------------------

class ParseError(Exception):
    pass


def dashboard_expressions(path: str) -> tuple[dict, list[tuple[str, str]]]:
    """(dashboard, [(where, expression)]) for every PromQL expression in a dashboard JSON."""
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ParseError(f"{path}: {e}") from e
    if isinstance(dash.get("dashboard"), dict):  # an export wrapped for the HTTP API
        dash = dash["dashboard"]

    problems = []
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in dash:
            problems.append(f"missing top-level '{key}'")
    exprs: list[tuple[str, str]] = []

    def walk(panels, seen_ids):
        for p in panels or []:
            pid = p.get("id")
            if pid is None:
                problems.append(f"panel '{p.get('title')}' has no id")
            elif pid in seen_ids:
                problems.append(f"panel id {pid} is used twice")
            seen_ids.add(pid)
            if "gridPos" not in p:
                problems.append(f"panel {pid} '{p.get('title')}' has no gridPos")
            for t in p.get("targets") or []:
                if t.get("expr"):
                    exprs.append((f"panel {pid} '{p.get('title')}' {t.get('refId', '?')}", t["expr"]))
            walk(p.get("panels"), seen_ids)  # panels inside a collapsed row

    walk(dash.get("panels"), set())
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") != "query":
            continue
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if q:
            exprs.append((f"variable ${v.get('name')}", "\x00var\x00" + q))
    for a in (dash.get("annotations") or {}).get("list") or []:
        if a.get("expr"):
            exprs.append((f"annotation '{a.get('name')}'", a["expr"]))
    if problems:
        raise ParseError(f"{path}: " + "; ".join(problems))
    return dash, exprs


# --- Rules (YAML without a YAML library) ------------------------------------------------------

def rule_expressions(path: str) -> list[tuple[str, str]]:
    """[(where, expression)] for every `expr:` in a Prometheus rules file.

    Handles the forms rules files use: `expr: <plain or quoted scalar>` and block scalars
    (`expr: |`, `expr: >-`, ...). Not a general YAML parser."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ParseError(f"{path}: {e}") from e
    out, name, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\s*-?\s*(alert|record)\s*:\s*(.+?)\s*$", line)
        if m:
            name = f"{m.group(1)} {m.group(2).strip(chr(34) + chr(39))}"
        m = re.match(r"^(\s*)(-\s*)?expr\s*:\s*(.*?)\s*$", line)
        if m:
            indent = len(m.group(1)) + len(m.group(2) or "")
            value = m.group(3)
            if re.fullmatch(r"[|>][+-]?\d*", value):
                body = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    body.append(lines[i].strip())
                    i += 1
                out.append((name or f"{path}:{i}", " ".join(b for b in body if b)))
                continue
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
                if m.group(3)[0] == "'":
                    value = value.replace("''", "'")
                else:
                    value = bytes(value, "utf-8").decode("unicode_escape")
            else:
                value = re.sub(r"\s+#.*$", "", value)
            out.append((name or f"{path}:{i + 1}", value))
        i += 1
    if not out:
        raise ParseError(f"{path}: no `expr:` found")
    return out


# --- Scrape -----------------------------------------------------------------------------------

def read_scrape(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    if re.match(r"https?://", source):
        with urllib.request.urlopen(source, timeout=10) as r:
            return r.read().decode("utf-8", "replace")
    with open(source, encoding="utf-8") as f:
        return f.read()


def parse_scrape(text: str) -> tuple[set[str], dict[str, str]]:
    """(sample names, {family: type}) of a Prometheus text or OpenMetrics exposition."""
    samples, types = set(), {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = re.match(r"#\s*TYPE\s+(\S+)\s+(\S+)", line)
            if m:
                types[m.group(1)] = m.group(2)
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)", line)
        if m:
            samples.add(m.group(1))
    return samples, types


def in_scrape(name: str, samples: set[str], types: dict[str, str]) -> bool:
    if name in samples:
        return True
    # A histogram or summary family named by its base (histogram_quantile over x_bucket etc.).
    if types.get(name) in ("histogram", "summary", "gaugehistogram"):
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if types.get(base) in ("histogram", "summary", "gaugehistogram") or name in samples:
                return True
    return False


def family(name: str) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and (base in GATEWAY_AFTER_EVENT or base in STANDARD_AFTER_EVENT):
            return base
    return name


# --- promtool (optional) ----------------------------------------------------------------------

def promtool_check(exprs: list[tuple[str, str]]) -> list[str]:
    """Parses every expression with `promtool check rules` (Grafana variables substituted)."""
    promtool = shutil.which("promtool")
    if not promtool:
        return []
    rules = []
    for i, (_, e) in enumerate(exprs):
        if e.startswith("\x00var\x00"):
            continue
        e = re.sub(r"\$__(rate_)?interval|\$__range", "5m", e)
        e = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_]\w*", "x", e)
        rules.append({"record": f"check:expr_{i}", "expr": e})
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)  # JSON is YAML
        tmp = f.name
    try:
        r = subprocess.run([promtool, "check", "rules", tmp], capture_output=True, text=True)
    finally:
        os.unlink(tmp)
    if r.returncode != 0:
        out = (r.stdout + r.stderr).replace(tmp, "expressions")
        out = re.sub(r'"check:expr_(\d+)"', lambda m: repr(exprs[int(m.group(1))][0]), out)
        return [line for line in out.splitlines() if "check:expr_" not in line and "parse" in line] or [out.strip()]
    return []


# --- Main -------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scrape", nargs="?", help="a saved scrape, '-' for stdin, or a URL; omit to check offline")
    ap.add_argument("--dashboard", action="append", help="dashboard JSON (repeatable; default: the seat-gateway dashboard)")
    ap.add_argument("--rules", action="append", help="Prometheus rules YAML (repeatable; default: prometheus-alerts.yml)")
    ap.add_argument("--strict", action="store_true", help="fail on event-driven metrics missing from the scrape too")
    ap.add_argument("--no-promtool", action="store_true", help="do not parse the expressions with promtool")
    args = ap.parse_args(argv)

    used: dict[str, set[str]] = {}
    all_exprs: list[tuple[str, str]] = []
    try:
        for path in args.dashboard or DEFAULT_DASHBOARDS:
            dash, exprs = dashboard_expressions(path)
            print(f"dashboard {os.path.relpath(path)}: '{dash.get('title')}' uid={dash.get('uid')} "
                  f"schemaVersion={dash.get('schemaVersion')}, {len(exprs)} expressions")
            all_exprs += [(f"{os.path.basename(path)}: {w}", e) for w, e in exprs]
        for path in args.rules or DEFAULT_RULES:
            exprs = rule_expressions(path)
            print(f"rules {os.path.relpath(path)}: {len(exprs)} expressions")
            all_exprs += [(f"{os.path.basename(path)}: {w}", e) for w, e in exprs]
    except ParseError as e:
        print(f"ERROR {e}", file=sys.stderr)
        return 2

    for where, e in all_exprs:
        names = variable_query_names(e[5:]) if e.startswith("\x00var\x00") else metric_names(e)
        if not names:
            continue
        for n in names:
            used.setdefault(n, set()).add(where)

    failures, warnings = [], []
    if not args.no_promtool:
        if shutil.which("promtool"):
            errs = promtool_check(all_exprs)
            failures += [f"promtool rejects an expression:\n{x}" for x in errs]
            print(f"promtool: {'all expressions parse' if not errs else 'parse errors'}")
        else:
            print("promtool: not on PATH, expression syntax not checked")

    print("\nmetric names used:")
    for n in sorted(used):
        print(f"  {n}")

    known = GATEWAY_ALWAYS | set(GATEWAY_AFTER_EVENT) | set(STANDARD_AFTER_EVENT) | SYNTHETIC
    for n in sorted(used):
        if family(n) not in known:
            failures.append(f"{n}: not a metric the gateway is known to export "
                            f"(used by {', '.join(sorted(used[n]))})")

    if args.scrape:
        try:
            samples, types = parse_scrape(read_scrape(args.scrape))
        except OSError as e:
            print(f"ERROR reading scrape {args.scrape}: {e}", file=sys.stderr)
            return 2
        if not samples:
            print(f"ERROR the scrape {args.scrape} holds no samples", file=sys.stderr)
            return 2
        print(f"\nscrape {args.scrape}: {len(samples)} sample names, {len(types)} typed families")
        for n in sorted(used):
            if n in SYNTHETIC or in_scrape(n, samples, types):
                print(f"  ok       {n}")
                continue
            event = GATEWAY_AFTER_EVENT.get(family(n)) or STANDARD_AFTER_EVENT.get(family(n))
            if event and not args.strict:
                warnings.append(f"{n}: not in the scrape; it appears after {event}")
                print(f"  no data  {n}")
            else:
                failures.append(f"{n}: not in the scrape (used by {', '.join(sorted(used[n]))})")
                print(f"  MISSING  {n}")
        # The other way round: gateway metrics in the scrape that nothing shows.
        exported = {s for s in samples if s.startswith("licensing_")}
        shown = {family(n) for n in used}
        unshown = sorted(s for s in exported
                         if s not in shown and not any(s == b + x for b in shown for x in HISTOGRAM_SUFFIXES + ("_created",)))
        if unshown:
            print("\nlicensing metrics in the scrape that no panel or rule uses:")
            for s in unshown:
                print(f"  {s}")

    for w in warnings:
        print(f"WARNING {w}", file=sys.stderr)
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    if failures:
        return 1
    print("\nOK" + (" (with warnings: rerun with --strict on a scrape taken after traffic)" if warnings else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
