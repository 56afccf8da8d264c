"""Names in the machine-readable zone: pinyin, ICAO transliteration, truncation.

GB/T 28039-2011 (Chinese phonetic alphabet spelling rules for names): the
surname and the given name are each written as one word, without tones; ü is
written YU when the letters must be A–Z only (吕 → LYU, 女 → NYU).

Other names follow ICAO 9303 Part 3: national characters are transliterated
by the tables of section 6 (Latin A, Cyrillic B), punctuation is handled as
section 4.6 says (apostrophes dropped, hyphens and commas become a filler),
and the name field is truncated only when it does not fit, as Part 4, 4.2.3
(TD3), Part 5 (TD1), Part 6 (TD2) and Part 7 (visas) prescribe.

PRC passports also carry the first Chinese characters of the name in the
personal-number field: GBK bytes in hex, digits 0-9 written A-J and A-F
written K-P (证件样本 → NGKELMPONBPJLBLO); see :func:`gbk_letters`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from pypinyin import Style, lazy_pinyin

from factory.errors import InvalidField, MrzError

__all__ = [
    "chinese_to_pinyin",
    "is_chinese_name",
    "LATIN_TRANSLITERATION",
    "CYRILLIC_TRANSLITERATION",
    "transliterate",
    "name_components",
    "format_name",
    "parse_name",
    "gbk_letters",
    "gbk_letters_to_text",
]

# Surnames read differently from the character's common reading; pypinyin
# would give the common one (单 dān, 曾 céng, 解 jiě ...).
_SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "区": "ou",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "覃": "qin",
    "盖": "ge",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "长孙": "zhangsun",
    "乐": "yue",
    "缪": "miao",
    "翟": "zhai",
    "燕": "yan",
    "冼": "xian",
    "召": "shao",
    "员": "yun",
    "华": "hua",
    "种": "chong",
    "秘": "bi",
    "繁": "po",
    "任": "ren",
    "纪": "ji",
    "宁": "ning",
    "沈": "shen",
    "石": "shi",
    "薄": "bo",
    "蕃": "pi",
}

_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef·]+$")


def is_chinese_name(text: str) -> bool:
    """True when ``text`` is made of Han characters (and the middle dot) only."""
    return bool(text) and bool(_HAN.match(text))


def chinese_to_pinyin(text: str, *, surname: bool = False, field: str = "name") -> str:
    """Transliterate a Chinese surname or given name to upper-case pinyin, A–Z only.

    Parameters
    ----------
    text : str
        The name in Han characters, e.g. ``"吕"`` or ``"晓明"``.
    surname : bool
        Use surname readings for polyphonic characters (单 → SHAN, not DAN).
    field : str
        The field name used in the error when the text cannot be transliterated.

    Returns
    -------
    str
        One word, upper case, ü written YU: ``"LYU"``, ``"XIAOMING"``.

    Raises
    ------
    InvalidField
        When ``text`` is empty or holds anything but Han characters.
    """
    if not is_chinese_name(text):
        raise InvalidField(field, "must be Chinese characters only", text)
    text = text.replace("·", "")
    head = ""
    if surname:
        # Longest match first so that compound surnames (尉迟) win over 尉.
        for length in (2, 1):
            reading = _SURNAME_READINGS.get(text[:length])
            if reading is not None:
                head, text = reading, text[length:]
                break
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: [None] * len(chars))
    if any(s is None for s in syllables):
        raise InvalidField(field, "has a character without a pinyin reading", text)
    word = head + "".join(syllables)
    # pypinyin writes ü as v in NORMAL style (lv, nv, lve); GB/T 28039 writes YU.
    word = word.replace("v", "yu").replace("ü", "yu")
    if not re.fullmatch(r"[a-z]+", word):
        raise InvalidField(field, "transliterates to letters outside A-Z", word)
    return word.upper()


# --------------------------------------------------------------------------- ICAO 9303 Part 3

# ICAO 9303 Part 3 (8th ed.), section 6.A "Transliteration of multinational
# Latin-based characters": every upper-case row of the table. Where the table
# offers a choice ("AE or A", "N or NXX", "UE or UXX or U") the first option is
# the default here; an issuer picks another through ``variants``.
LATIN_TRANSLITERATION: Mapping[str, str] = {
    "À": "A", "Á": "A", "Â": "A", "Ã": "A", "Ä": "AE", "Å": "AA", "Æ": "AE", "Ç": "C",
    "È": "E", "É": "E", "Ê": "E", "Ë": "E", "Ì": "I", "Í": "I", "Î": "I", "Ï": "I",
    "Ð": "D", "Ñ": "N", "Ò": "O", "Ó": "O", "Ô": "O", "Õ": "O", "Ö": "OE", "Ø": "OE",
    "Ù": "U", "Ú": "U", "Û": "U", "Ü": "UE", "Ý": "Y", "Þ": "TH",
    "Ā": "A", "Ă": "A", "Ą": "A", "Ć": "C", "Ĉ": "C", "Ċ": "C", "Č": "C", "Ď": "D",
    "Đ": "D", "Ē": "E", "Ĕ": "E", "Ė": "E", "Ę": "E", "Ě": "E", "Ĝ": "G", "Ğ": "G",
    "Ġ": "G", "Ģ": "G", "Ĥ": "H", "Ħ": "H", "Ĩ": "I", "Ī": "I", "Ĭ": "I", "Į": "I",
    "İ": "I", "I": "I", "Ĳ": "IJ", "Ĵ": "J", "Ķ": "K", "Ĺ": "L", "Ļ": "L", "Ľ": "L",
    "Ŀ": "L", "Ł": "L", "Ń": "N", "Ņ": "N", "Ň": "N", "Ŋ": "N", "Ō": "O", "Ŏ": "O",
    "Ő": "O", "Œ": "OE", "Ŕ": "R", "Ŗ": "R", "Ř": "R", "Ś": "S", "Ŝ": "S", "Ş": "S",
    "Š": "S", "Ţ": "T", "Ť": "T", "Ŧ": "T", "Ũ": "U", "Ū": "U", "Ŭ": "U", "Ů": "U",
    "Ű": "U", "Ų": "U", "Ŵ": "W", "Ŷ": "Y", "Ÿ": "Y", "Ź": "Z", "Ż": "Z", "Ž": "Z",
    "ẞ": "SS",
}
"""ICAO 9303 Part 3, 6.A: upper-case national Latin characters to MRZ letters."""

# The alternatives the table allows for the rows with a choice.
LATIN_ALTERNATIVES: Mapping[str, tuple[str, ...]] = {
    "Ä": ("AE", "A"), "Å": ("AA", "A"), "Ñ": ("N", "NXX"), "Ö": ("OE", "O"), "Ü": ("UE", "UXX", "U"),
}

# ICAO 9303 Part 3, 6.B "Transliteration of Cyrillic characters", general column;
# the language-specific exceptions (Ukrainian initial Є → YE, Serbian Ж → Z ...)
# are the issuer's choice and go through ``variants``.
CYRILLIC_TRANSLITERATION: Mapping[str, str] = {
    "Ё": "E", "Ђ": "D", "Є": "IE", "Ѕ": "DZ", "І": "I", "Ї": "I", "Ј": "J", "Љ": "LJ",
    "Њ": "NJ", "Ќ": "K", "Ў": "U", "Џ": "DZ", "А": "A", "Б": "B", "В": "V", "Г": "G",
    "Д": "D", "Е": "E", "Ж": "ZH", "З": "Z", "И": "I", "Й": "I", "К": "K", "Л": "L",
    "М": "M", "Н": "N", "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U",
    "Ф": "F", "Х": "KH", "Ц": "TS", "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y",
    "Ь": "", "Э": "E", "Ю": "IU", "Я": "IA", "Ѫ": "U", "Ѵ": "Y", "Ґ": "G", "Ғ": "G", "Һ": "C",
}
"""ICAO 9303 Part 3, 6.B: upper-case Cyrillic letters to MRZ letters (Ь is not written)."""

_TABLE: dict[str, str] = {**LATIN_TRANSLITERATION, **CYRILLIC_TRANSLITERATION}
# ICAO 9303 Part 3, 4.6: an apostrophe is dropped and the parts joined (D'ARTAGNAN →
# DARTAGNAN); a hyphen or a comma between components becomes one filler; every
# other punctuation mark is dropped.
_SEPARATORS = frozenset(" -‐‑‒–—,\t")
_DROPPED = frozenset("'’‘ʼ`´.·•\"()/")
_PLAIN = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_FILLERS = re.compile(r"<+")


def transliterate(
    text: str,
    *,
    field: str = "name",
    surname: bool = False,
    variants: Mapping[str, str] | None = None,
) -> str:
    """One name part (primary or secondary identifier) in MRZ letters.

    Han characters are written in pinyin (:func:`chinese_to_pinyin`); Latin and
    Cyrillic national characters follow the ICAO 9303 Part 3 tables; name
    components are separated by one filler.

    Parameters
    ----------
    text : str
        The name as written in the visual zone, e.g. ``"Müller-Lüdenscheidt"``.
    field : str
        The field named in the error, e.g. ``"surname"``.
    surname : bool
        Han text is a surname: use surname readings (单 → SHAN).
    variants : mapping of str to str, optional
        Overrides of table rows, e.g. ``{"Ä": "A", "Ñ": "NXX"}`` for the choices
        ICAO 9303 Part 3, 6.A leaves to the issuer.

    Returns
    -------
    str
        A-Z and single ``<`` between components: ``"MUELLER<LUEDENSCHEIDT"``;
        ``""`` for an empty name.

    Raises
    ------
    MrzError
        When a character has no transliteration or the name holds a digit
        (ICAO 9303 Part 3, 4.6: numerals are not allowed in names).
    """
    if _PLAIN.fullmatch(text):  # the common case: upper-case pinyin or ASCII already
        return text.replace(" ", "<")
    stripped = text.strip()
    if not stripped:
        return ""
    if is_chinese_name(stripped):
        return chinese_to_pinyin(stripped, surname=surname, field=field)
    table = _TABLE if not variants else {**_TABLE, **{k.upper(): v for k, v in variants.items()}}
    out: list[str] = []
    # NFC first: the table lists precomposed characters, and a decomposed "I" +
    # combining dot is İ. str.upper() maps ß to SS (ICAO: ẞ → SS) and lower-case
    # letters with diacritics to their upper-case rows of the table.
    for char in unicodedata.normalize("NFC", stripped).upper():
        if "A" <= char <= "Z":
            out.append(char)
        elif char in table:
            out.append(table[char])
        elif char in _SEPARATORS:
            out.append("<")
        elif char in _DROPPED:
            continue
        elif char.isdigit():
            raise MrzError(field, "numerals are not allowed in names (ICAO 9303 Part 3, 4.6)", text)
        elif char == "<":
            out.append("<")
        elif unicodedata.category(char) == "Mn":
            # A combining mark left after NFC: diacritical marks are not permitted
            # in the MRZ (ICAO 9303 Part 3, 4.3), the base letter stands alone.
            continue
        else:
            raise MrzError(field, f"character {char!r} cannot be transliterated to the MRZ", text)
    word = _FILLERS.sub("<", "".join(out)).strip("<")
    if not re.fullmatch(r"[A-Z<]*", word):
        raise MrzError(field, "transliterates to characters outside A-Z", text)
    return word


def name_components(mrz_part: str) -> list[str]:
    """The components of one transliterated identifier: ``"ANNA<MARIA"`` → ``["ANNA", "MARIA"]``."""
    return [c for c in mrz_part.split("<") if c]


def _shift_in_next_letter(full: str, length: int, keep_from: int) -> str | None:
    """Cut ``full`` to ``length`` characters ending with a letter.

    The cut ``full[:length]`` ends with a single filler between two components;
    removing the last letter of the nearest earlier component of two or more
    letters (at or after ``keep_from``) pulls the next component's first letter
    into the last position. None when no component can give up a letter.
    """
    for i in range(length - 2, max(keep_from, 1) - 1, -1):
        if full[i] != "<" and full[i + 1] == "<" and full[i - 1] != "<":
            shifted = full[:i] + full[i + 1 :]
            if shifted[length - 1] != "<":
                return shifted[:length]
    return None


def format_name(primary: str, secondary: str, length: int, *, field: str = "name") -> tuple[str, bool]:
    """The name field of an MRZ: primary ``<<`` secondary, padded or truncated.

    Parameters
    ----------
    primary, secondary : str
        Transliterated identifiers (see :func:`transliterate`): A-Z with single
        ``<`` between components, e.g. ``"ERIKSSON"`` and ``"ANNA<MARIA"``.
    length : int
        Positions of the name field: 39 (TD3, MRV-A), 31 (TD2, MRV-B), 30 (TD1).
    field : str
        The field named in the error.

    Returns
    -------
    tuple of (str, bool)
        The field, exactly ``length`` characters, and whether it was truncated.

    Raises
    ------
    MrzError
        When the name is empty or cannot be truncated to end with a letter.

    Notes
    -----
    ICAO 9303 Part 3, 4.6: the name is truncated only when it does not fit.
    ICAO 9303 Part 4, 4.2.3 (and the matching paragraphs of Parts 5 to 7):
    when the primary identifier leaves room for ``<<`` and one letter, the
    secondary identifier is cut (4.2.3.2); otherwise letters are removed from
    the end of the primary identifier's components until ``<<`` and the first
    letter of the secondary identifier fit (4.2.3.3). A truncated field ends
    with a letter, the reader's sign that truncation may have occurred; a cut
    that would end on a filler gives up one more letter of the preceding
    component so that the next component's initial takes the last position.
    """
    primary = "<".join(name_components(primary))
    secondary = "<".join(name_components(secondary))
    if not primary and not secondary:
        raise MrzError(field, "is empty")
    full = primary + "<<" + secondary if secondary else primary
    if len(full) <= length:
        return full + "<" * (length - len(full)), False
    if not secondary:
        # Part 4, 4.2.2.1: only a primary identifier: remove characters until the
        # last position holds a letter.
        cut = full[:length]
        if cut[-1] == "<":
            cut = _shift_in_next_letter(full, length, 0) or ""
        if not cut:
            raise MrzError(field, f"cannot be truncated to {length} characters", full)
        return cut, True
    if len(primary) + 3 > length:
        # Part 4, 4.2.3.3: free positions in the primary identifier for << and the
        # first letter of the secondary identifier, taking letters from the end of
        # its last components and never emptying a component.
        comps = primary.split("<")
        excess = len(primary) + 3 - length
        for k in range(len(comps) - 1, -1, -1):
            take = min(excess, len(comps[k]) - 1)
            comps[k] = comps[k][: len(comps[k]) - take]
            excess -= take
            if excess == 0:
                break
        # Whole trailing components go when letters alone do not free enough.
        while excess > 0 and len(comps) > 1:
            excess -= len(comps.pop()) + 1
        if excess > 0:
            raise MrzError(field, f"cannot be truncated to {length} characters", full)
        primary = "<".join(comps)
        full = primary + "<<" + secondary
        if len(full) <= length:  # only possible after dropping a whole component
            full = full + "<" * (length - len(full))
            return full, True
    # Part 4, 4.2.3.2: cut the secondary identifier; the last position must be a letter.
    cut = full[:length]
    if cut[-1] == "<":
        shifted = _shift_in_next_letter(full, length, 0)
        cut = shifted if shifted is not None else cut.rstrip("<") + "<" * (length - len(cut.rstrip("<")))
    return cut, True


def parse_name(field_text: str) -> tuple[str, str, bool]:
    """Split an MRZ name field into (primary, secondary, possibly truncated).

    ``"ERIKSSON<<ANNA<MARIA<<<"`` gives ``("ERIKSSON", "ANNA MARIA", False)``:
    components are joined with spaces. The flag is True when the last position
    holds a letter (ICAO 9303 Part 4, 4.2.3: the name must then be treated as
    possibly truncated).
    """
    body = field_text.rstrip("<")
    primary, sep, secondary = body.partition("<<")
    return (
        " ".join(name_components(primary)),
        " ".join(name_components(secondary)) if sep else "",
        bool(field_text) and field_text[-1] != "<",
    )


# --------------------------------------------------------------------------- PRC GBK letters

# Hex digits 0-9 are written A-J and A-F written K-P: the hex digit's value
# plus 'A'. The PRC uses this for Chinese characters in the MRZ.
_HEX_TO_LETTER = str.maketrans("0123456789abcdef", "ABCDEFGHIJKLMNOP")
_LETTER_TO_HEX = str.maketrans("ABCDEFGHIJKLMNOP", "0123456789abcdef")
_HEX_LETTERS = re.compile(r"[A-P]*")


def gbk_letters(text: str, *, field: str = "name_cn") -> str:
    """Chinese characters as GBK bytes in hex written with the letters A-P.

    Parameters
    ----------
    text : str
        Chinese characters, e.g. ``"证件样本"``.
    field : str
        The field named in the error.

    Returns
    -------
    str
        Four letters per character: ``"NGKELMPONBPJLBLO"``.

    Raises
    ------
    MrzError
        When a character has no GBK code.
    """
    try:
        raw = text.encode("gbk")
    except UnicodeEncodeError as err:
        raise MrzError(field, f"character {text[err.start]!r} has no GBK code", text) from None
    return raw.hex().translate(_HEX_TO_LETTER)


def gbk_letters_to_text(letters: str, *, field: str = "name_cn") -> str:
    """The inverse of :func:`gbk_letters`: ``"NGKELMPONBPJ"`` → ``"证件样"``.

    Raises
    ------
    MrzError
        When ``letters`` holds a letter outside A-P, an odd number of hex
        digits, or bytes that are not GBK.
    """
    if not _HEX_LETTERS.fullmatch(letters) or len(letters) % 2:
        raise MrzError(field, "is not GBK hex written A-P", letters)
    raw = bytes.fromhex(letters.translate(_LETTER_TO_HEX))
    try:
        text = raw.decode("gbk")
    except UnicodeDecodeError:
        raise MrzError(field, "does not decode as GBK characters", letters) from None
    # Names are two-byte GBK characters; a single-byte (ASCII) one means a misread.
    if len(text) * 2 != len(raw):
        raise MrzError(field, "does not decode as two-byte GBK characters", letters)
    return text
