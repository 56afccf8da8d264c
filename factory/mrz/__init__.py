"""ICAO 9303 machine-readable zones: encode, decode, check digits, names, PRC profiles.

Owns: MRZ formats (TD1, TD2, TD3, MRV-A, MRV-B, the PRC one-line permit),
check digits (scalar and vectorized), transliteration of names to the MRZ
alphabet (pinyin for Chinese names, per GB/T 28039; ICAO 9303 Part 3 tables
for Latin and Cyrillic), the PRC document profiles.

Pure functions over strings, dates and numpy arrays: imports only
``factory.errors``, numpy and pypinyin. No I/O, no clock.

The other parts call::

    encode_record(record) -> tuple[str, ...]
    decode(lines, *, reference_date=None, correct=False) -> DecodeResult
    check_digit(s) -> int
    check_digits(values: np.ndarray) -> np.ndarray
    format_for_doc_type(doc_type) -> MrzFormat | None    # .line_count, .line_length
"""

from factory.mrz.checkdigit import MRZ_ALPHABET, char_value, check_digit, check_digits, is_mrz_text
from factory.mrz.countries import COUNTRY_CODES, is_country_code
from factory.mrz.dates import format_date, parse_date
from factory.mrz.decoder import decode, detect_format
from factory.mrz.encoder import encode, encode_mrva, encode_mrvb, encode_prc_card, encode_td1, encode_td2, encode_td3
from factory.mrz.formats import FORMATS, MRVA, MRVB, PRC_CARD, TD1, TD2, TD3, FieldSpec, MrzFormat
from factory.mrz.names import (
    chinese_to_pinyin,
    format_name,
    gbk_letters,
    gbk_letters_to_text,
    is_chinese_name,
    parse_name,
    transliterate,
)
from factory.mrz.profiles import (
    DOC_TYPE_FORMATS,
    encode_record,
    format_for_doc_type,
    parse_prc_personal_number,
    prc_personal_number,
)
from factory.mrz.results import Correction, DecodeResult, FieldError

__all__ = [
    # check digits
    "MRZ_ALPHABET",
    "char_value",
    "check_digit",
    "check_digits",
    "is_mrz_text",
    # formats
    "FORMATS",
    "TD1",
    "TD2",
    "TD3",
    "MRVA",
    "MRVB",
    "PRC_CARD",
    "FieldSpec",
    "MrzFormat",
    "DOC_TYPE_FORMATS",
    "COUNTRY_CODES",
    "is_country_code",
    "format_for_doc_type",
    "detect_format",
    # encoding
    "encode",
    "encode_td1",
    "encode_td2",
    "encode_td3",
    "encode_mrva",
    "encode_mrvb",
    "encode_prc_card",
    "encode_record",
    # decoding
    "decode",
    "DecodeResult",
    "FieldError",
    "Correction",
    # names and dates
    "chinese_to_pinyin",
    "is_chinese_name",
    "transliterate",
    "format_name",
    "parse_name",
    "gbk_letters",
    "gbk_letters_to_text",
    "prc_personal_number",
    "parse_prc_personal_number",
    "format_date",
    "parse_date",
]
