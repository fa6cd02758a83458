"""Chinese phone numbers: validation, normalisation and masking (DESIGN.md §8).

Mobile numbers are 11 digits starting 13–19 (an optional +86/0086 prefix is dropped). Landlines
are an area code 0xx or 0xxx and a 7–8 digit number, optionally with an extension; they are
normalised as ``0xx-xxxxxxxx`` or ``0xx-xxxxxxxx-ext``. A number that is neither (a caller from
abroad, a test number of an Open311 client) may be kept ``as_given``.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from hotline.errors import Invalid

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(0\d{2,3})-([2-9]\d{6,7})(?:-(\d{1,6}))?")
# Without a separator the area code's length is known from its digits: 010 and 020–029 are the
# only three-digit codes, every other is four digits.
_LANDLINE_PLAIN = re.compile(r"(010|02\d|0[3-9]\d{2})([2-9]\d{6,7})")
_SEPARATORS = re.compile(r"[\s()（）]")
_SPACES = re.compile(r"\s+")
MAX_LENGTH = 32  # ticket.caller_phone


def normalise(raw: str) -> str:
    """The canonical form of a phone number; ``ValueError`` if it is not a Chinese number."""
    text = _SEPARATORS.sub("", raw.strip())
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text.removeprefix(prefix).lstrip("-")
            break
    digits = text.replace("-", "")
    if _MOBILE.fullmatch(digits):
        return digits
    match = _LANDLINE.fullmatch(text)
    if match:
        area, number, ext = match.groups()
        return f"{area}-{number}" + (f"-{ext}" if ext else "")
    plain = _LANDLINE_PLAIN.fullmatch(digits)
    if plain:
        return "-".join(plain.groups())
    raise Invalid(
        "不是有效的手机号（1xxxxxxxxxx）或固定电话（0xx-xxxxxxxx）",
        en="not a Chinese mobile (1xxxxxxxxxx) or landline (0xx-xxxxxxxx) number",
    )


def as_given(raw: str) -> str:
    """The canonical form if it is a Chinese number, else the text as given (spaces collapsed,
    at most MAX_LENGTH characters): for callers whose number must be kept whatever it is."""
    try:
        return normalise(raw)
    except ValueError:
        return _SPACES.sub(" ", raw.strip())[:MAX_LENGTH]


def mask(phone: str) -> str:
    """``13812341234`` → ``138****1234``; landlines keep the area code and the last four; any
    other number only its last four digits, and a short one (under 8 digits) none."""
    digits = phone.replace("-", "")
    if _MOBILE.fullmatch(digits):
        return f"{digits[:3]}****{digits[-4:]}"
    if _LANDLINE.fullmatch(phone):
        area = phone.split("-", 1)[0]
        return f"{area}-****{digits[-4:]}"
    digits = "".join(c for c in phone if c.isdigit())
    return f"****{digits[-4:]}" if len(digits) >= 8 else "****"


def keyed_hash(phone: str, key: bytes) -> str:
    """Keyed hash of a phone in its stored form: finding a caller's tickets (repeat detection,
    caller history) without the phone ever being a query column."""
    return hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()
