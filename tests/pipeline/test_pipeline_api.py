"""The public names of the ledger, the wire and the pipeline, and what each may import."""

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "factory.ledger": {
        "JobState", "Event", "BlankState", "TRANSITIONS", "BLANK_EFFECTS", "BLANK_TRANSITIONS", "VOID_REASONS",
        "IN_FLIGHT", "HAS_DOCUMENT", "next_state", "allowed_events", "next_blank_state", "replay", "Admission",
        "Rejection", "read_jsonl", "prepare_intake", "canonical_json", "ShiftClock", "shift_clock", "Ledger",
        "Request", "decide", "Change", "IntakeResult", "QueuedJob", "InFlightJob", "PrintedJob",
        "UnknownApplication", "AuditReport", "Finding", "audit_ledger", "audit_rows",
    },
    "factory.wire": {
        "WIRE_VERSION", "OLDEST_VERSION", "KINDS", "ROLES", "RECONCILE_OUTCOMES", "CONTROL_ACTIONS",
        "MAX_FRAME_BYTES", "Message", "Hello", "Welcome", "Refused", "Reregister", "Heartbeat", "Credit", "JobOffer",
        "JobAccepted", "JobRefused", "JobDone", "JobRef", "Reconcile", "ReconcileItem", "ReconcileReport", "QaItem",
        "QaBatch", "QaVerdict", "QaVerdicts", "QaCheckResult", "IntakeItem", "IntakeBatch", "IntakeVerdict",
        "IntakeVerdicts", "INTAKE_OUTCOMES", "IntakeRequest", "IntakeReply", "Control", "Frame", "encode", "decode",
        "decode_frame", "to_body", "UPGRADES", "upgrade_body",
    },
    "factory.pipeline": {
        "Controller", "ControllerSettings", "PrinterWorker", "reconcile_outcome", "QaWorker", "QaCheck", "IntakeCheck",
        "intake_check",
        "record_check", "printed_check", "Link", "StationRefused", "send_intake", "InstantDevice", "ServerKeys",
        "ClientKeys", "make_keys", "load_server_keys", "load_client_keys", "start_authenticator", "Pulse", "Backoff",
        "heard", "is_alive", "dead_peers", "heartbeat_due", "next_backoff", "MAX_CREDIT", "grant", "spend",
        "plan_offers", "OUTCOMES", "events_for", "JobQueue",
    },
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_pinned_and_importable(name):
    module = importlib.import_module(name)
    assert set(module.__all__) == PUBLIC[name]
    for public in module.__all__:
        assert hasattr(module, public), public
    assert module.__doc__ and "import" in module.__doc__


_PROBE = """
import importlib, sys
importlib.import_module({name!r})
print(",".join(sorted(m for m in ("zmq", "sqlite3", "fastapi", "uvicorn") if m in sys.modules)))
"""


@pytest.mark.parametrize("name,allowed", [
    ("factory.wire", set()),
    ("factory.ledger", {"sqlite3"}),
])
def test_the_wire_and_the_ledger_import_no_sockets(name, allowed):
    result = subprocess.run([sys.executable, "-c", _PROBE.format(name=name)], capture_output=True, text=True,
                            check=True)
    imported = set(filter(None, result.stdout.strip().split(",")))
    assert imported <= allowed, f"{name} pulls in {imported - allowed}"
