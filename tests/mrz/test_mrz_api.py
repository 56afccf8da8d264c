"""The public names of factory.mrz, and what the package may not import or do."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import factory.mrz

PUBLIC = {
    "MRZ_ALPHABET", "char_value", "check_digit", "check_digits", "is_mrz_text",
    "FORMATS", "TD1", "TD2", "TD3", "MRVA", "MRVB", "PRC_CARD", "FieldSpec", "MrzFormat",
    "DOC_TYPE_FORMATS", "COUNTRY_CODES", "is_country_code", "format_for_doc_type", "detect_format",
    "encode", "encode_td1", "encode_td2", "encode_td3", "encode_mrva", "encode_mrvb", "encode_prc_card",
    "encode_record", "decode", "DecodeResult", "FieldError", "Correction",
    "chinese_to_pinyin", "is_chinese_name", "transliterate", "format_name", "parse_name",
    "gbk_letters", "gbk_letters_to_text", "prc_personal_number", "parse_prc_personal_number",
    "format_date", "parse_date",
}


def test_public_names_are_pinned():
    assert set(factory.mrz.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(factory.mrz, name), name


def test_alphabet():
    assert factory.mrz.MRZ_ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"


def test_imports_no_zmq_sqlite_or_fastapi():
    code = (
        "import sys, factory.mrz; "
        "print(','.join(m for m in ('zmq', 'sqlite3', 'fastapi', 'factory.records', 'factory.config') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_reads_no_clock_and_does_no_io():
    forbidden = re.compile(r"\.today\(|\.now\(|time\.time|perf_counter|monotonic|\bopen\(|read_text|urlopen|import (random|time)\b")
    for path in Path(factory.mrz.__file__).parent.glob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not forbidden.search(line), f"{path.name}:{n}: {line.strip()}"
