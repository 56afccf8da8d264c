"""Intake QA in the line (``factory serve --intake-qa``): real sockets, a real QA worker, real images.

Applications wait in ``accepted`` while a QA worker checks their photo and signature; the fit ones are
printed, a look-alike signature waits for a reviewer, a bad photo goes back to its acceptance point with
the reasons, and no blank is spent on either.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import cv2
import pytest

from factory.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_intake_qa_queues_the_fit_returns_a_bad_photo_and_holds_a_look_alike_signature(line):
    samples = line.root / "samples"
    subprocess.run([sys.executable, "-m", "factory.cli", "sample", "--count", "12", "--seed", "41", "--out",
                    str(samples), "--workers", "1", "--signature-error-rate", "0.5"],
                   check=True, capture_output=True, timeout=300)
    records = [json.loads(x) for x in (samples / "applications.jsonl").read_text(encoding="utf-8").splitlines()]
    truth = [json.loads(x) for x in (samples / "truth.jsonl").read_text(encoding="utf-8").splitlines() if x]
    lookalikes = {t["application_id"] for t in truth}
    assert lookalikes, "the seed must give at least one look-alike signature"
    # One applicant's photo is far too dark: it must go back to its acceptance point, not to a printer.
    dark = next(r for r in records if r["application_id"] not in lookalikes)
    photo = cv2.imread(dark["photo"], cv2.IMREAD_COLOR)
    cv2.imwrite(dark["photo"], (photo * 0.2).astype("uint8"))

    line.keys_for("B01", "C01", "qa1", "intake")
    line.start_controller("--intake-qa")
    for machine, pool in (("B01", "booklet"), ("C01", "card")):
        line.start_device(machine, pool)
        line.start_worker(machine)
    line.start_qa("qa1")
    result = line.intake(samples / "applications.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr

    def settled(counts):
        return sum(counts.get(s, 0) for s in ("dispatched", "intake_flagged", "returned_to_acceptance")) == 12

    line.wait_for(settled, 240, "every application checked and printed, held or returned")
    states = dict(line.query("SELECT application_id, state FROM applications"))
    assert states[dark["application_id"]] == "returned_to_acceptance"
    for app_id in lookalikes:
        assert states[app_id] in ("intake_flagged", "returned_to_acceptance")
    assert sum(s == "dispatched" for s in states.values()) >= 12 - len(lookalikes) - 2  # most pass

    returned = line.query("SELECT station, reason, detail FROM events WHERE subject = ? AND event = 'returned'",
                          (dark["application_id"],))
    station, reason, detail = returned[0]
    assert station == "qa1" and "photo_exposure" in reason
    assert json.loads(detail)["return_to"] == dark["acceptance_point"]
    checks = json.loads(line.query("SELECT checks FROM qa_results WHERE application_id = ? AND attempt = 0",
                                   (dark["application_id"],))[0][0])
    exposure = next(c for c in checks if c["name"] == "photo_exposure")
    assert exposure["ok"] is False and exposure["value"] < 60 and exposure["zone"]
    # Nothing held or returned took a blank.
    held = [a for a, s in states.items() if s != "dispatched"]
    marks = ",".join("?" * len(held))
    assert line.query(f"SELECT COUNT(*) FROM blanks WHERE application_id IN ({marks})", held) == [(0,)]

    # A reviewer lets one look-alike through: the controller picks it up and it is printed.
    flagged = [a for a in lookalikes if states[a] == "intake_flagged"]
    if flagged:
        with Ledger.open(line.ledger_path) as ledger:
            ledger.review_intake(flagged[0], approve=True, reviewer="rui", reason="signs like that", now=time.time())
        line.wait_for(lambda c: dict(line.query("SELECT application_id, state FROM applications"))[flagged[0]]
                      == "dispatched", 120, "the approved application printed")
    report = line.audit()
    assert report.ok, "\n".join(report.lines())
