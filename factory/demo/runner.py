"""Run the whole line on this machine through a generated peak day, then summarize it.

The parts are the real commands, each its own process: the controller with
the ledger (``factory serve``), eight simulated printers (``factory
device-sim``, five booklet and three card machines) each driven by its
printer worker (``factory worker``), two QA workers (``factory qa-worker``
checking each application before printing and the printed pages), and
Debian's Prometheus when it is installed. The day's applications are
generated with their portraits and signatures in batches and sent through
the controller as acceptance points would (``factory intake --connect``),
while the line prints. The controller runs intake QA (``--intake-qa``): the
QA workers check every portrait and signature first; the generator's
look-alike signatures (2 % of names with a mistakable character) go to a
reviewer, failed portraits back to their acceptance point. Printers jam, go
offline and misprint at configured rates; the QA stage is to catch every
misprint. The run ends when every application is settled (dispatched,
flagged for a reviewer, returned, or waiting for an operator), and ``factory
audit`` checks the ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from factory.commands.sample import ImagePool, write_records
from factory.config import SECTIONS, load_config
from factory.demo.processes import ProcessGroup, wait_until
from factory.demo.summary import DemoSummary, PrintedDocument, format_summary, summarize_run
from factory.ledger import Ledger, audit_ledger
from factory.samples import generate_applications
from factory.scheduler import build_calendar

__all__ = ["DemoOptions", "run_demo", "DEMO_MACHINES", "DEFAULT_FAULTS", "DEFAULT_DEFECTS"]

DEMO_MACHINES = {"booklet": 5, "card": 3}
"""Machines the demo runs: the first of each pool in configs/line.toml."""

DEFAULT_FAULTS = {"jam": 0.002, "offline": 0.0004, "cover_open": 0.0003}
DEFAULT_DEFECTS = {
    "smudge": 0.002, "dropout": 0.002, "misregistration": 0.002, "wrong_character": 0.002,
    "mrz_character": 0.002, "photo_swap": 0.001, "signature_swap": 0.001, "missing_field": 0.001,
}
# Blanks loaded per machine and serial prefix: more than its share of a 20,000-document day.
_BLANKS = {"booklet": {"E": 3500}, "card": {"C": 3500, "L": 1200, "R": 400, "H": 300}}
_SERIAL_BASE = {"E": 10_000_001, "C": 20_000_001, "L": 30_000_001, "R": 40_000_001, "H": 50_000_001}
SETTLED = {"dispatched", "qa_flagged", "needs_reconcile", "returned_to_acceptance", "intake_flagged"}
CYCLE_S = (45, 60)
"""The simulated printers' print cycle, line seconds a document (seeds: under a minute)."""
_MARKER = ".factory-demo"
DEMO_USERS = {"supervisor": "supervisor", "operator": "operator", "reviewer": "reviewer"}
DEMO_PASSWORD = "factory-demo"
"""The demo's panel users (name: role), all with this password; a real line adds its own with `factory users`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    count: int = 20_000
    seed: int = 2026
    day: dt.date = dt.date(2026, 2, 24)
    out: Path = Path("var/demo")
    config_dir: Path | None = None
    speed: float = 400.0
    """Line seconds per real second (a 45-60 s print cycle in about 0.13 s)."""
    batch: int = 2000
    """Applications generated and sent to intake at a time."""
    qa_workers: int = 2
    prometheus: bool = True
    prometheus_port: int = 9090
    panel_port: int = 8080
    timeout_s: float = 1800.0
    keep_running: bool = False


def _prepare_directory(out: Path) -> None:
    if out.exists():
        if not (out / _MARKER).exists() and any(out.iterdir()):
            raise SystemExit(f"factory demo: {out} exists and is not a demo directory; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / _MARKER).write_text("a factory demo run; deleted by the next run\n")


def _toml_value(value) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):
        return json.dumps(value.isoformat())
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _demo_line_toml(source: dict) -> str:
    """The source line with only the demo's machines (the first of each pool)."""
    kept, seen = [], dict.fromkeys(DEMO_MACHINES, 0)
    for machine in source["machines"]:
        pool = machine["pool"]
        if seen.get(pool, 0) < DEMO_MACHINES.get(pool, 0):
            seen[pool] += 1
            kept.append(machine)
    lines = ["# The demo's line: written by `factory demo` from configs/line.toml.\n"]
    for key, value in source.items():
        if not isinstance(value, dict | list):
            lines.append(f"{key} = {_toml_value(value)}\n")
    for key, value in source.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in value.items()))
    for machine in kept:
        lines.append("\n[[machines]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in machine.items()))
    return "".join(lines)


def _demo_seasons_toml(source: str, normal_daily_intake: int) -> str:
    """The source seasons with the normal intake of the demo's smaller line: the day's count over the
    peak's volume factor, so that the demo's peak day is that factor times its normal day."""
    text, replaced = re.subn(r"(?m)^normal_daily_intake\s*=.*$",
                             f"normal_daily_intake = {normal_daily_intake}  # the demo's line: written by `factory demo`",
                             source)
    if not replaced:
        raise ValueError("seasons.toml: normal_daily_intake: missing")
    return text


def _write_demo_config(source_dir: Path, target: Path, options: DemoOptions) -> Path:
    target.mkdir(parents=True)
    for name in SECTIONS:
        shutil.copy(source_dir / f"{name}.toml", target / f"{name}.toml")
    with open(source_dir / "line.toml", "rb") as handle:
        (target / "line.toml").write_text(_demo_line_toml(tomllib.load(handle)), encoding="utf-8")
    peak = load_config(source_dir).seasons.peak_on(options.day)
    normal = max(1, round(options.count / (peak.volume_factor if peak else 1.0)))
    seasons = (source_dir / "seasons.toml").read_text(encoding="utf-8")
    (target / "seasons.toml").write_text(_demo_seasons_toml(seasons, normal), encoding="utf-8")
    load_config(target)  # the demo's configuration is validated like any other
    return target


def _prometheus_config(out: Path, config_dir: Path, targets: dict[str, list[str]]) -> Path:
    rules = (config_dir / "rules").resolve()
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: [{', '.join(repr(t) for t in addresses)}]\n"
        for job, addresses in targets.items()
    )
    text = (
        "# Written by `factory demo` from configs/prometheus.yml: the targets that run.\n"
        "global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n"
        f"rule_files:\n  - {rules}/*.yml\n"
        f"scrape_configs:\n{jobs}"
    )
    path = out / "prometheus.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _ledger_counts(path: Path) -> dict[str, int]:
    """Applications per state, and ``spoiled``: the blanks voided so far (a blank, not an application state)."""
    with Ledger.open(path) as ledger:
        counts = ledger.counts()
        counts["spoiled"] = ledger.query("SELECT COUNT(*) FROM blanks WHERE state = 'voided'")[0][0]
        return counts


def _show(line: str, *, final: bool = False) -> None:
    """The live progress line: redrawn in place on a terminal, one line a call otherwise."""
    if sys.stdout.isatty():
        print("\r" + line, end="\n" if final else "", flush=True)
    else:
        print(line, flush=True)


def _progress(started: float, sent: int, total: int, counts: dict[str, int]) -> str:
    minutes = (time.monotonic() - started) / 60.0
    printed = sum(counts.get(s, 0) for s in ("printed", "qa_passed", "qa_flagged", "approved", "dispatched"))
    waiting = counts.get("queued", 0) + counts.get("leased", 0) + counts.get("printing", 0)
    return (
        f"{minutes:5.1f} min | intake {sent:,}/{total:,} | intake QA {counts.get('accepted', 0):,} "
        f"| returned {counts.get('returned_to_acceptance', 0):,} | waiting {waiting:,} | printed {printed:,} "
        f"| dispatched {counts.get('dispatched', 0):,} | flagged {counts.get('qa_flagged', 0):,} "
        f"| spoiled {counts.get('spoiled', 0):,} | reconcile {counts.get('needs_reconcile', 0):,}   "
    )


def _collect_summary(out: Path, options: DemoOptions, config, started_wall: float,
                     finished_wall: float, lookalikes: frozenset[str] = frozenset()) -> DemoSummary:
    with Ledger.open(out / "ledger.db") as ledger:
        states = ledger.counts()
        printed_rows = ledger.query(
            "SELECT e.subject, e.machine, e.at, a.production_date FROM events e "
            "JOIN applications a ON a.application_id = e.subject "
            "WHERE e.kind = 'application' AND e.event IN ('device_executed', 'reconciled_printed')"
        )
        spoiled = [r[0] or "unknown" for r in ledger.query("SELECT reason FROM blanks WHERE state = 'voided'")]
        qa = {(r[0], r[1]): bool(r[2]) for r in ledger.query(
            "SELECT application_id, blank_serial, passed FROM qa_results WHERE attempt > 0")}
        intake = {r[0]: r[1] for r in ledger.query(
            "SELECT subject, event FROM events WHERE kind = 'application' AND event IN"
            " ('intake_passed', 'intake_flagged', 'returned') AND from_state = 'accepted'")}
        report = audit_ledger(ledger)
    truth = []
    for path in sorted((out / "pages").glob("*/ground_truth.jsonl")):
        truth.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    printed = [
        PrintedDocument(r[0], r[1] or "?", float(r[2]), dt.date.fromisoformat(r[3]) if r[3] else None)
        for r in printed_rows
    ]
    return summarize_run(
        states=states, printed=printed, spoiled_reasons=spoiled, ground_truth=truth, qa_passed=qa,
        started_at=started_wall, finished_at=finished_wall, cycle_s=sum(CYCLE_S) / 2,
        shift_hours=(config.seasons.peak_on(options.day).shift_hours if config.seasons.peak_on(options.day)
                     else config.line.shifts.normal_hours),
        normal_hours=config.line.shifts.normal_hours, acceptance_day=options.day,
        calendar=build_calendar(config.calendar), audit_problems=[str(v) for v in report.violations],
        intake_outcomes=intake, lookalike_ids=lookalikes,
    )


def run_demo(options: DemoOptions) -> int:
    """Run the line through the day; print progress and the summary; 0 when all settled and the audit is clean."""
    out = options.out.resolve()
    _prepare_directory(out)
    source = Path(options.config_dir) if options.config_dir else Path(__file__).resolve().parents[2] / "configs"
    config_dir = _write_demo_config(source, out / "configs", options)
    config = load_config(config_dir)
    peak = config.seasons.peak_on(options.day)
    machines = list(config.line.machines)
    peak_text = (f"peak {peak.name}, x{peak.volume_factor:g} the demo line's normal intake of "
                 f"{config.seasons.normal_daily_intake:,}, {peak.shift_hours:g} h shifts") if peak else "no peak"
    print(f"factory demo: {options.count:,} applications accepted {options.day} ({peak_text});"
          f" {len(machines)} printers ({', '.join(m.id for m in machines)}), {options.qa_workers} QA workers,"
          f" line time x{options.speed:g}")
    print(f"working directory {out} (logs in {out / 'logs'})")

    group = ProcessGroup(out)
    stations = [m.id for m in machines] + [f"qa{i + 1}" for i in range(options.qa_workers)] + ["intake"]
    started_wall = time.time()
    started = time.monotonic()
    images: ImagePool | None = None
    try:
        subprocess.run([sys.executable, "-m", "factory.cli", "keys", "--dir", str(out / "keys"), *stations],
                       check=True, capture_output=True)
        common = ["--keys", str(out / "keys"), "--config", str(config_dir)]
        group.factory("controller", "serve", "--ledger", str(out / "ledger.db"), "--bind", "tcp://127.0.0.1:*",
                      "--endpoint-file", str(out / "controller.endpoint"), "--panel-port", str(options.panel_port),
                      "--intake-qa", *common)
        wait_until(lambda: (out / "controller.endpoint").exists() or group.dead(), 60, what="the controller")
        if group.dead():
            raise RuntimeError("the controller did not start:\n" + group.tail("controller"))
        endpoint = (out / "controller.endpoint").read_text().strip()
        for name, role in DEMO_USERS.items():
            subprocess.run([sys.executable, "-m", "factory.cli", "users", "--ledger", str(out / "ledger.db"), "add",
                            name, "--role", role], check=True, capture_output=True,
                           env={**os.environ, "FACTORY_PANEL_PASSWORD": DEMO_PASSWORD})
        if options.panel_port >= 0:
            print(f"control panel: http://127.0.0.1:{options.panel_port}/  (log in as "
                  f"{', '.join(DEMO_USERS)}; password {DEMO_PASSWORD})")

        serials = dict(_SERIAL_BASE)
        devices = {}
        for index, machine in enumerate(machines):
            args = ["device-sim", "--id", machine.id, "--pool", machine.pool, "--config", str(config_dir),
                    "--state-dir", str(out / "devices"), "--capture-dir", str(out / "pages" / machine.id),
                    "--speed", str(options.speed), "--cycle", f"{CYCLE_S[0]}:{CYCLE_S[1]}", "--seed", str(options.seed + index), "--port", "0",
                    "--auto-clear-s", "180", "--offline-s", "60:240"]
            for prefix, count in _BLANKS[machine.pool].items():
                args += ["--blanks", f"{prefix}{serials[prefix]:08d}+{count}"]
                serials[prefix] += count
            for kind, rate in DEFAULT_FAULTS.items():
                args += ["--fault", f"{kind}={rate}"]
            for kind, rate in DEFAULT_DEFECTS.items():
                args += ["--defect", f"{kind}={rate}"]
            (out / "pages" / machine.id).mkdir(parents=True)
            group.factory(f"device-{machine.id}", *args)
        for machine in machines:
            found = group.wait_for_log(f"device-{machine.id}", r"listening on (tcp://127\.0\.0\.1:\d+)")
            devices[machine.id] = found.group(1)
            group.factory(f"worker-{machine.id}", "worker", "--machine", machine.id, "--device", devices[machine.id],
                          "--connect", endpoint, *common)
        for i in range(options.qa_workers):
            group.factory(f"qa{i + 1}", "qa-worker", "--name", f"qa{i + 1}", "--connect", endpoint,
                          "--check", "printed", *common)

        prometheus = shutil.which("prometheus") if options.prometheus else None
        if prometheus:
            targets = {
                "factory-controller": ["127.0.0.1:9400"],
                "factory-printer": [f"127.0.0.1:{9410 + i}" for i in range(len(machines))],
                "factory-qa": [f"127.0.0.1:{9450 + i}" for i in range(options.qa_workers)],
            }
            prom_config = _prometheus_config(out, source, targets)
            group.spawn("prometheus", [prometheus, f"--config.file={prom_config}",
                                       f"--web.listen-address=127.0.0.1:{options.prometheus_port}",
                                       f"--storage.tsdb.path={out / 'prometheus-data'}"])
            print(f"Prometheus: http://127.0.0.1:{options.prometheus_port}/  (alerts at /alerts)")
        else:
            print("Prometheus: " + ("not installed; skipped" if options.prometheus else "off (--no-prometheus)"))
        print("metrics: controller http://127.0.0.1:9400/metrics, printers :9410-"
              f"{9409 + len(machines)}, QA :9450-{9449 + options.qa_workers}")

        samples = generate_applications(options.count, options.seed, config, day=options.day,
                                        image_dir=str(out / "applications"))
        sent = 0
        images = ImagePool(os.cpu_count() or 1)  # one pool for the day: workers load their tools once
        batches = [samples[i:i + options.batch] for i in range(0, len(samples), options.batch)]
        for number, batch in enumerate(batches, 1):
            images.write(batch)
            path = out / "applications" / f"intake-{number:03d}.jsonl"
            write_records(path, batch)
            result = subprocess.run(
                [sys.executable, "-m", "factory.cli", "intake", str(path), "--connect", endpoint,
                 "--keys", str(out / "keys"), "--config", str(config_dir), "--timeout", "120"],
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise RuntimeError(f"intake of {path.name} failed:\n{result.stdout}\n{result.stderr}")
            sent += len(batch)
            _show(_progress(started, sent, options.count, _ledger_counts(out / "ledger.db")))
            _check_alive(group)
        images.close()

        deadline = time.monotonic() + options.timeout_s
        quiet_until = 0.0
        while True:
            counts = _ledger_counts(out / "ledger.db")
            settled = sum(counts.get(s, 0) for s in SETTLED) >= options.count
            if settled or sys.stdout.isatty() or time.monotonic() >= quiet_until:
                _show(_progress(started, sent, options.count, counts), final=settled)
                quiet_until = time.monotonic() + 15.0  # a log file gets a line every 15 s, a terminal a redraw
            if settled:
                break
            if time.monotonic() > deadline:
                print(f"\nfactory demo: not settled after {options.timeout_s:g} s: {counts}")
                return 1
            _check_alive(group)
            time.sleep(2.0)
        finished_wall = time.time()
        lookalikes = frozenset(s.record["application_id"] for s in samples
                               if s.truth.get("defect") == "signature_lookalike")
        summary = _collect_summary(out, options, config, started_wall, finished_wall, lookalikes)
        print(format_summary(summary))
        if options.keep_running:
            print("the line keeps running; press Ctrl-C to stop it")
            while True:
                time.sleep(3600)
        return 0 if summary.audit_clean else 1
    except KeyboardInterrupt:
        print("\nfactory demo: interrupted")
        return 130
    finally:
        if images is not None:
            images.close()
        group.stop_all()


def _check_alive(group: ProcessGroup) -> None:
    dead = [name for name in group.dead() if name != "prometheus"]
    if dead:
        raise RuntimeError(f"{dead[0]} stopped:\n" + group.tail(dead[0]))
