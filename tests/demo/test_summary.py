import datetime as dt

from factory.demo.summary import PrintedDocument, format_summary, summarize_run
from factory.scheduler import build_calendar

DAY = dt.date(2026, 2, 24)  # a Tuesday


CYCLE_S = 52.2  # 1,000 documents in a 14.5 h shift


def summary(config, printed, truth=(), qa=None, audit=()):
    return summarize_run(
        states={"dispatched": len(printed)}, printed=printed, spoiled_reasons=["jam", "jam", "qa_reject"],
        ground_truth=truth, qa_passed=qa or {}, started_at=1000.0, finished_at=1600.0, cycle_s=CYCLE_S,
        shift_hours=14.5, normal_hours=8.0, acceptance_day=DAY, calendar=build_calendar(config.calendar),
        audit_problems=audit,
    )


def test_each_machines_prints_are_replayed_at_its_rated_pace(config):
    # B01 prints 4,500 documents: 1,000 a shift, so its last ones fall on working day 4.
    docs = [PrintedDocument(f"a{k}", "B01", 2000.0 + k, DAY + dt.timedelta(days=2)) for k in range(4500)]
    docs += [PrintedDocument("b", "B02", 9000.0, DAY)]  # B02's first document: day 0, on time
    result = summary(config, docs)
    # Day 0 is 02-24, day 1 02-25, day 2 02-26 (all on time), day 3 02-27 and day 4 02-28 (late).
    assert result.deadlines_met == 3000 + 1 and result.deadlines_missed == 1500
    assert result.last_working_day == dt.date(2026, 2, 28)  # Saturday 02-28 is a make-up working day (调休)
    # Four full shifts of 14.5 h are 6.5 h overtime each; 500 documents (7.25 h) and B02's one need none.
    assert abs(result.overtime_hours - 4 * (1000 * CYCLE_S / 3600 - 8.0)) < 1e-6


def test_defects_caught_and_clean_pages_flagged(config):
    truth = [
        {"application_id": "a", "blank_serial": "E1", "defects": [{"type": "smudge"}]},
        {"application_id": "b", "blank_serial": "E2", "defects": [{"type": "smudge"}, {"type": "dropout"}]},
        {"application_id": "c", "blank_serial": "E3", "defects": []},
        {"application_id": "d", "blank_serial": "E4", "defects": []},
        {"application_id": "e", "blank_serial": "E5", "defects": [{"type": "photo_swap"}]},  # not checked yet
    ]
    qa = {("a", "E1"): False, ("b", "E2"): True, ("c", "E3"): True, ("d", "E4"): False}
    result = summary(config, [], truth, qa)
    assert result.defects == {"dropout": (0, 1), "smudge": (1, 2)}
    assert (result.clean_pages, result.clean_flagged) == (2, 1)
    assert result.spoiled_by_reason == {"jam": 2, "qa_reject": 1}
    text = format_summary(result)
    assert "smudge               1/2      50.0 %" in text
    assert "clean pages flagged: 1/2 (50.00 %)" in text
    assert text.endswith("audit clean")


def test_an_audit_problem_is_shown(config):
    result = summary(config, [], audit=["blank E1: issued twice"])
    assert not result.audit_clean
    assert "audit FAILED" in format_summary(result) and "blank E1: issued twice" in format_summary(result)


def test_intake_qa_outcomes_and_look_alike_signatures_are_counted(config):
    result = summarize_run(
        states={"dispatched": 3, "intake_flagged": 1, "returned_to_acceptance": 1}, printed=[], spoiled_reasons=[],
        ground_truth=(), qa_passed={}, started_at=0.0, finished_at=1.0, cycle_s=CYCLE_S, shift_hours=14.5,
        normal_hours=8.0, acceptance_day=DAY, calendar=build_calendar(config.calendar), audit_problems=(),
        intake_outcomes={"a": "intake_passed", "b": "intake_passed", "c": "intake_passed", "d": "intake_flagged",
                         "e": "returned"},
        lookalike_ids=["d", "f"],  # f was not checked (yet): injected, not caught
    )
    assert result.intake == {"passed": 3, "review": 1, "returned": 1}
    assert result.lookalikes == (1, 2)
    assert ("intake QA: passed 3, to a reviewer 1, back to the acceptance point 1; look-alike signatures caught 1/2"
            " (50.0 %)") in format_summary(result)
