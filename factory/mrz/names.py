"""Chinese names to Latin letters, as printed on PRC documents and in their MRZ.

GB/T 28039-2011 (Chinese phonetic alphabet spelling rules for names): the
surname and the given name are each written as one word, without tones; ü is
written YU when the letters must be A–Z only (吕 → LYU, 女 → NYU).
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

from factory.errors import InvalidField

__all__ = ["chinese_to_pinyin", "is_chinese_name"]

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
