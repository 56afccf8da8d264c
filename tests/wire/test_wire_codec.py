"""The wire codec: every kind round-trips; any bytes decode to a message or a WireError, nothing else."""

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.errors import WireError
from factory.wire import (
    KINDS,
    WIRE_VERSION,
    Credit,
    JobDone,
    QaCheckResult,
    QaVerdict,
    QaVerdicts,
    decode,
    decode_frame,
    encode,
    schema,
)

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _strategy(hint: Any) -> st.SearchStrategy:
    if hint is str:
        return st.text(max_size=40)
    if hint is int:
        return st.integers(-(2**63), 2**63 - 1)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is bool:
        return st.booleans()
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType and type(None) in args:
        return st.none() | _strategy(next(a for a in args if a is not type(None)))
    if origin is dict:
        values = _json_values if args[1] is Any else _strategy(args[1])
        return st.dictionaries(st.text(max_size=12), values, max_size=4)
    if origin is tuple:
        return st.lists(_strategy(args[0]), max_size=3).map(tuple)
    if dataclasses.is_dataclass(hint):
        return _builds(hint)
    raise TypeError(hint)


def _builds(cls: type) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls, vars(schema))
    return st.builds(cls, **{f.name: _strategy(hints[f.name]) for f in dataclasses.fields(cls)})


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_round_trips(kind):
    @settings(max_examples=40, deadline=None)
    @given(_builds(KINDS[kind]), st.integers(0, 2**63 - 1), st.floats(0, 4e9))
    def round_trip(message, msg_id, sent_at):
        frame = decode_frame(encode(message, msg_id=msg_id, sent_at=sent_at))
        assert frame.message == message
        assert (frame.v, frame.kind, frame.msg_id, frame.sent_at) == (WIRE_VERSION, kind, msg_id, sent_at)

    round_trip()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_a_message_or_a_wire_error(data):
    try:
        decode(data)
    except WireError as err:
        assert err.field and err.reason


@settings(max_examples=200, deadline=None)
@given(_builds(QaVerdicts), st.data())
def test_truncated_frames_are_wire_errors(message, data):
    frame = encode(message)
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(WireError):
        decode(frame[:cut])


def _frame(**overrides):
    frame = {"v": WIRE_VERSION, "kind": "credit", "msg_id": 1, "sent_at": 0.0, "body": {"slots": 2}}
    frame.update(overrides)
    return msgpack.packb(frame)


@pytest.mark.parametrize("overrides,field,reason", [
    ({"v": WIRE_VERSION + 1}, "v", "newer than this program's protocol version"),
    ({"v": 0}, "v", "older than the oldest supported version"),
    ({"v": "1"}, "v", "must be an integer"),
    ({"kind": "launch_missiles"}, "kind", "is not a known message kind"),
    ({"body": {}}, "slots", "is required"),
    ({"body": {"slots": "two"}}, "slots", "must be an integer"),
    ({"body": {"slots": True}}, "slots", "must be an integer"),
    ({"body": [1]}, "body", "must be a map"),
    ({"msg_id": -0.5}, "msg_id", "must be an integer"),
    ({"sent_at": float("nan")}, "sent_at", "must be finite"),
])
def test_bad_headers_and_bodies_name_the_field_and_the_reason(overrides, field, reason):
    with pytest.raises(WireError) as caught:
        decode(_frame(**overrides))
    assert caught.value.field == field and reason in caught.value.reason


def test_a_missing_header_field_is_named():
    with pytest.raises(WireError) as caught:
        decode(msgpack.packb({"v": 1, "body": {}}))
    assert caught.value.field == "kind"


def test_nested_items_are_checked_with_their_path():
    frame = encode(QaVerdicts(batch_id="b", verdicts=(QaVerdict(job_id="j", attempt=1, passed=True),)))
    raw = msgpack.unpackb(frame)
    raw["body"]["verdicts"][0]["passed"] = "yes"
    with pytest.raises(WireError) as caught:
        decode(msgpack.packb(raw))
    assert caught.value.field == "verdicts[0].passed"


def test_unknown_body_keys_are_ignored_for_forward_compatibility():
    assert decode(_frame(body={"slots": 2, "added_in_a_later_minor": 1})) == Credit(slots=2)


def test_optional_fields_take_their_defaults():
    raw = msgpack.packb({"v": 1, "kind": "job_done", "body": {"job_id": "A", "attempt": 1, "ok": True}})
    assert decode(raw) == JobDone(job_id="A", attempt=1, ok=True)


def test_oversized_strings_are_refused():
    with pytest.raises(WireError, match="longer than"):
        decode(_frame(kind="refused", body={"reason": "x" * 10_000}))


def test_docs_wire_md_states_the_protocol_version():
    text = (Path(__file__).resolve().parents[2] / "docs" / "wire.md").read_text(encoding="utf-8")
    stated = re.search(r"WIRE_VERSION\s*=\s*(\d+)", text)
    assert stated is not None and int(stated.group(1)) == WIRE_VERSION
    for kind in KINDS:
        assert f"`{kind}`" in text, f"docs/wire.md does not describe {kind}"


def test_a_check_value_is_a_finite_number_or_nil():
    verdict = QaVerdict(job_id="j", attempt=1, passed=False, checks=(
        QaCheckResult(name="viz_date_of_birth", ok=False, value=0.41, detail="differs", zone="date_of_birth"),
        QaCheckResult(name="mrz_confidence", ok=True, value=None)), mrz_read=("P<CHN", "E1"))
    assert decode(encode(QaVerdicts(batch_id="b", verdicts=(verdict,)))).verdicts == (verdict,)
    raw = msgpack.unpackb(encode(QaVerdicts(batch_id="b", verdicts=(verdict,))))
    for bad, reason in ((float("inf"), "must be finite"), ("0.4", "must be a number")):
        raw["body"]["verdicts"][0]["checks"][0]["value"] = bad
        with pytest.raises(WireError) as caught:
            decode(msgpack.packb(raw))
        assert caught.value.field == "verdicts[0].checks[0].value" and reason in caught.value.reason


def test_a_version_1_verdict_is_upgraded_to_check_results():
    body = {"batch_id": "b", "verdicts": [{"job_id": "j", "attempt": 1, "passed": False,
                                           "checks": {"record_valid": True, "mrz_roundtrip": False},
                                           "reasons": ["MRZ does not decode"]}]}
    message = decode(msgpack.packb({"v": 1, "kind": "qa_verdicts", "msg_id": 1, "sent_at": 0.0, "body": body}))
    assert message.verdicts[0].checks == (QaCheckResult(name="record_valid", ok=True),
                                          QaCheckResult(name="mrz_roundtrip", ok=False))
    assert message.verdicts[0].check_map() == {"record_valid": True, "mrz_roundtrip": False}
    body["verdicts"][0]["checks"] = {"record_valid": "yes"}
    with pytest.raises(WireError) as caught:
        decode(msgpack.packb({"v": 1, "kind": "qa_verdicts", "body": body}))
    assert caught.value.field == "verdicts[0].checks[0].ok"
