import datetime as dt

from factory.demo.summary import PrintedDocument, format_summary, summarize_run
from factory.scheduler import build_calendar

DAY = dt.date(2026, 2, 24)  # a Tuesday


def summary(config, printed, truth=(), qa=None, audit=()):
    return summarize_run(
        states={"dispatched": len(printed)}, printed=printed, spoiled_reasons=["jam", "jam", "qa_reject"],
        ground_truth=truth, qa_passed=qa or {}, started_at=1000.0, finished_at=1600.0, speed=100.0,
        shift_hours=14.5, normal_hours=8.0, acceptance_day=DAY, calendar=build_calendar(config.calendar),
        audit_problems=audit,
    )


def test_print_times_map_to_working_days_of_the_line(config):
    shift_s = 14.5 * 3600 / 100  # one line shift in real seconds at speed 100
    docs = [
        PrintedDocument("a", "B01", 1000.0 + 0.5 * shift_s, DAY),                      # day 0, on time
        PrintedDocument("b", "B01", 1000.0 + 1.5 * shift_s, DAY),                      # day 1: late
        PrintedDocument("c", "B02", 1000.0 + 3.2 * shift_s, dt.date(2026, 3, 3)),      # day 3 = 02-27: on time
        PrintedDocument("d", "B02", 1000.0 + 4.1 * shift_s, dt.date(2026, 2, 27)),     # day 4 = 02-28: late
    ]
    result = summary(config, docs)
    assert (result.deadlines_met, result.deadlines_missed) == (2, 2)
    assert result.last_working_day == dt.date(2026, 2, 28)  # Saturday 02-28 is a make-up working day (调休)
    # B01 ran 14.5 * 0.5 = 7.25 h on day 0 (no overtime) and 7.25 h on day 1; B02 4.35 h and 1.45 h.
    assert result.overtime_hours == 0.0
    late_in_shift = [PrintedDocument("e", "B03", 1000.0 + 0.9 * shift_s, DAY)]
    assert abs(summary(config, late_in_shift).overtime_hours - (0.9 * 14.5 - 8.0)) < 1e-9


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
