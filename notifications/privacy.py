"""Keeping resident ID numbers (居民身份证号码) out of mail.

An ID number is never sent by mail. :func:`mask_id_numbers` masks the numbers people type into free
text before it goes into a mail; :func:`find_id_numbers` finds 18-character numbers that a regular
expression picks out and ``stdnum.cn.ric`` confirms (birth date, birth place, check digit), also when they
are written with full-width digits, separated by spaces or hyphens, or split by HTML markup;
:func:`ensure_no_id_numbers` turns a find into :class:`PrivacyViolation`. :func:`mask_id_number` keeps the
first 6 and last 4 characters for internal display. Nothing here may log, store or put an unmasked number
into an error message.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import orjson
from stdnum.cn import ric

from notifications.errors import PrivacyViolation

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{6})[ \-]?(\d{8})[ \-]?(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# A number as a person types it into free text: ASCII or full-width, maybe split by spaces or hyphens.
_WIDE_ALNUM = "0-9A-Za-z０-９Ａ-Ｚａ-ｚ"
_DIGIT = "[0-9０-９]"
_SEPARATOR = "[ \\-\u3000－]?"
_WRITTEN = re.compile(
    f"(?<![{_WIDE_ALNUM}])({_DIGIT}{{6}}){_SEPARATOR}({_DIGIT}{{8}}){_SEPARATOR}"
    f"({_DIGIT}{{3}}[0-9０-９XxＸｘ])(?![{_WIDE_ALNUM}])"
)
# What every typed number has whatever surrounds it: a text without it anywhere has nothing to mask.
_CORE = re.compile(f"{_DIGIT}{{6}}{_SEPARATOR}{_DIGIT}{{8}}{_SEPARATOR}{_DIGIT}{{3}}[0-9０-９XxＸｘ]")
_TAG = re.compile(r"<[^>]*>")
_EARLIEST_BIRTH_YEAR = 1900  # digits of a credit code may read as a valid year 0200; no resident is that old


def mask_id_number(value: str) -> str:
    """Mask an ID number for internal display: the first 6 and the last 4 characters stay.

    ``"11010119900307123x"`` becomes ``"110101********123X"``. Any string is accepted (masking must never
    fail on bad data); one of 10 characters or fewer is masked completely.

    Args:
        value: the number, possibly with surrounding spaces.

    Returns:
        The masked number, upper case.
    """
    compact = value.strip().upper()
    if len(compact) <= 10:
        return "*" * len(compact)
    return compact[:6] + "*" * (len(compact) - 10) + compact[-4:]


def _views(text: str) -> Iterator[str]:
    normal = unicodedata.normalize("NFKC", text)
    yield normal
    unescaped = html.unescape(normal)
    yield unescaped
    yield _TAG.sub("", unescaped)


def find_id_numbers(text: str, *, allow: Collection[str] = ()) -> list[str]:
    """Find resident ID numbers in a text.

    Args:
        text: a rendered subject, plain text or HTML.
        allow: 18-character codes known not to be ID numbers (the unified social credit codes of the units
            named in the context); a credit code can, rarely, also pass the ID number checks.

    Returns:
        The ID numbers found, compacted to 18 characters, upper case, each once, in order of appearance.
    """
    found: dict[str, None] = {}
    for view in _views(text):
        for match in _CANDIDATE.finditer(view):
            number = "".join(match.groups()).upper()
            if number not in found and _is_id_number(number, allow):
                found[number] = None
    return list(found)


def _is_id_number(number: str, allow: Collection[str]) -> bool:
    """Whether 18 compact characters are a resident ID number (and not a code known to be another)."""
    return number not in allow and int(number[6:10]) >= _EARLIEST_BIRTH_YEAR and bool(ric.is_valid(number))


def mask_id_numbers(text: str, *, allow: Collection[str] = ()) -> str:
    """The text with every resident ID number in it masked (:func:`mask_id_number`).

    Numbers are found as people type them into free text: with ASCII or full-width digits,
    whole or split by spaces or hyphens. A number disguised further (split by markup, written as
    character references) is left as it is, and :func:`ensure_no_id_numbers` refuses the mail it
    ends up in.

    Args:
        text: free text that goes into a mail (a comment, the facts, reasons).
        allow: codes known not to be ID numbers, see :func:`find_id_numbers`.
    """

    def masked(match: re.Match[str]) -> str:
        number = unicodedata.normalize("NFKC", "".join(match.groups())).upper()
        return mask_id_number(number) if _is_id_number(number, allow) else match.group(0)

    return _WRITTEN.sub(masked, text)


def mask_id_numbers_in(value: Any, *, allow: Collection[str] = ()) -> Any:
    """``value`` (plain data: mappings, lists, text) with the ID numbers in every text masked."""
    if isinstance(value, str):
        return mask_id_numbers(value, allow=allow)
    if isinstance(value, Mapping):
        return {key: mask_id_numbers_in(item, allow=allow) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_id_numbers_in(item, allow=allow) for item in value]
    return value


def may_hold_id_numbers(value: Any) -> bool:
    """Whether some text in ``value`` (plain data) may hold an ID number that
    :func:`mask_id_numbers_in` would mask; False only when none can.

    One search over the data as JSON (orjson leaves digits, spaces, hyphens and full-width
    characters as they are, so a number in a text is a number in the JSON) instead of a walk that
    builds the data again: most mail contexts hold none.
    """
    try:
        text = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return True
    return _CORE.search(text) is not None


def ensure_no_id_numbers(template: str, parts: Mapping[str, str], *, allow: Collection[str] = ()) -> None:
    """Refuse rendered mail parts that contain an ID number.

    Args:
        template: the notice name, for the error.
        parts: the rendered parts by name (``subject``, ``text``, ``html``).
        allow: codes known not to be ID numbers, see :func:`find_id_numbers`.

    Raises:
        PrivacyViolation: a part contains an ID number; the error names the part and the masked number.
    """
    for part, text in parts.items():
        numbers = find_id_numbers(text, allow=allow)
        if numbers:
            raise PrivacyViolation(template, part, [mask_id_number(number) for number in numbers])
