"""QA workers on real printed pages: defects are flagged, a reviewer rejects, the document is reprinted."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pipeline_line import wait_until
from factory.ledger import Ledger

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_misprinted_documents_are_flagged_rejected_and_reprinted_on_a_new_blank(line):
    samples = line.root / "samples"
    subprocess.run([sys.executable, "-m", "factory.cli", "sample", "--count", "10", "--seed", "31", "--out",
                    str(samples), "--workers", "1"], check=True, capture_output=True, timeout=300)
    line.keys_for("B01", "C01", "qa1", "intake")
    line.start_controller()
    capture = ("--capture-dir", str(line.root / "pages"))
    # Every page B01 prints has one MRZ character wrong: QA must flag each of them.
    line.start_device("B01", "booklet", extra=(*capture, "--defect", "mrz_character=1.0"))
    line.start_device("C01", "card", extra=capture)
    for machine in ("B01", "C01"):
        line.start_worker(machine)
    line._spawn("qa-qa1", ["qa-worker", "--name", "qa1", "--connect", line.endpoint, "--keys", str(line.keys),
                           "--check", "printed", "--metrics-port", "-1"])
    result = line.intake(samples / "applications.jsonl")
    assert result.returncode == 0, result.stdout + result.stderr

    def decided(counts):
        return counts.get("dispatched", 0) + counts.get("qa_flagged", 0) == 10

    counts = line.wait_for(decided, 240, "every document checked")
    flagged = [r[0] for r in line.query("SELECT application_id FROM applications WHERE state = 'qa_flagged'")]
    booklets = {r[0] for r in line.query("SELECT application_id FROM applications WHERE pool = 'booklet'")}
    assert set(flagged) == booklets and counts.get("dispatched", 0) == 10 - len(booklets)
    reasons = line.query("SELECT reasons FROM qa_results WHERE passed = 0")
    assert all("mrz" in r[0].lower() for r in reasons)

    # The reviewer rejects the first flagged document: its blank is voided and it is printed again.
    victim = flagged[0]
    with Ledger.open(line.ledger_path) as ledger:
        first_blank = ledger.application(victim)["blank_serial"]
        ledger.review(victim, approve=False, reviewer="rui", reason="MRZ misprint", now=time.time())
        for other in flagged[1:]:
            ledger.review(other, approve=True, reviewer="rui", reason="checked by hand", now=time.time())
    wait_until(lambda: line.query("SELECT state, blank_serial FROM applications WHERE application_id = ?",
                                  (victim,))[0][0] in ("qa_flagged", "dispatched") and
               line.query("SELECT blank_serial FROM applications WHERE application_id = ?", (victim,))[0][0]
               not in (None, first_blank), 120, what="the reprint")
    assert line.query("SELECT state, reason FROM blanks WHERE blank_serial = ?", (first_blank,)) == [
        ("voided", "qa_reject")]
    report = line.audit()
    assert report.ok, "\n".join(report.lines())
    assert sum(t.spoiled for t in report.shifts) == 1
