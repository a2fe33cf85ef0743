"""Keeping resident ID numbers (居民身份证号码) out of mail.

An ID number is never sent by mail. :func:`find_id_numbers` finds 18-character numbers that a regular
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

from stdnum.cn import ric

from notifications.errors import PrivacyViolation

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{6})[ \-]?(\d{8})[ \-]?(\d{3}[0-9Xx])(?![0-9A-Za-z])")
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
            if number in allow or number in found or int(number[6:10]) < _EARLIEST_BIRTH_YEAR:
                continue
            if ric.is_valid(number):
                found[number] = None
    return list(found)


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
