"""Realistic leaf values: timestamps, emails, phone numbers, names, ids.

Each value is decoded from one drawn integer (an index into a pool, or 64 bits
mixed so that every part of the value varies), never from a filter, so
generation stays fast. The integer 0 always decodes to the simplest value, so
shrinking ends on ``1970-01-01T00:00:00Z`` or ``zoe.martin@example.com``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

# Names people really have, several outside ASCII, so redaction, encoding and
# report rendering meet them in every run.
FIRST_NAMES = (
    "Zoe", "Chris", "Joe", "Amara", "Zoë", "José", "Søren", "Łukasz", "François",
    "Ólafur", "Mária", "Dvořák", "Ngọc", "Мария", "Αλέξης", "美咲", "Anne-Marie",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bloggs", "Okafor", "O'Brien", "Müller", "García", "Nguyễn",
    "Jørgensen", "Wiśniewska", "Çelik", "Иванова", "Παπαδόπουλος", "李", "van der Berg",
)  # fmt: skip
# Email local parts are ASCII: the contract checks mailboxes strictly and the
# internationalised form (RFC 6531) is not accepted by it.
MAIL_NAMES = ("zoe", "chris", "joe", "amara", "jose", "soren", "lukasz", "maria")
MAIL_SURNAMES = ("martin", "bloggs", "okafor", "obrien", "muller", "garcia", "nguyen")
MAIL_DOMAINS = (
    "example.com", "example.org", "example.net", "mail.example.co.uk", "sakari.io",
)  # fmt: skip
# E.164: a country code and a national number, 15 digits at most in all.
CALLING_CODES = (("1", 10), ("44", 10), ("61", 9), ("358", 9), ("49", 11), ("91", 10))
COUNTRIES = ("US", "CA", "GB", "AU", "FI", "DE", "IN")
WORDS = (
    "active", "pending", "verified", "forward", "voicemail", "local", "tollfree",
    "twilio", "bandwidth", "marketing", "customer_care", "api", "web", "import",
    "2FA", "STOP", "Bienvenue à bord", "⚡ promo", "", " ", "a\tb", "línea\nnueva",
    "null", "0", "<b>&amp;</b>", "emoji 🙂", "RTL \u202eabc", "日本語",
)  # fmt: skip

FULL_NAMES = tuple(f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES)
# Keys of free-form maps (contact.attributes, phoneNumber.forwardTo, ...).
FREE_FORM_KEYS = ("plan", "region", "score", "vip", "source", "accountManager")
MAILBOXES = tuple(
    f"{name}{separator}{surname}{tag}@{domain}"
    for name in MAIL_NAMES
    for separator in (".", "_", "", "-")
    for surname in MAIL_SURNAMES
    for tag in ("", "7", "+calls")
    for domain in MAIL_DOMAINS
)
EPOCH = date(1970, 1, 1)
LAST_DAY = date(2099, 12, 31)
# Days as offsets from EPOCH, negative before it: leap days, the first and the
# last day RFC 3339 can write, the epoch itself.
EDGE_DAYS = tuple(
    (date.fromisoformat(day) - EPOCH).days
    for day in (
        "2000-02-29", "2024-02-29", "2096-02-29", "1972-02-29",
        "0001-01-01", "9999-12-31", "1970-01-01",
    )
)  # fmt: skip


# Leaves with many values draw one integer below WIDE and decode its bits.
WIDE = 2**64
MASK = WIDE - 1
SALTS = (0, 0x9E3779B97F4A7C15, 0xD1B54A32D192ED03, 0x8CB92BA72F3D8DD7)


def mix(n: int) -> int:
    """A bijection of 64-bit integers that spreads small ones (the ones
    Hypothesis draws most) over every bit, and keeps 0 at 0."""
    n = (n ^ n >> 30) * 0xBF58476D1CE4E5B9 & MASK
    n = (n ^ n >> 27) * 0x94D049BB133111EB & MASK
    return n ^ n >> 31


def wide(n: int, words: int = 1) -> int:
    """``64 * words`` mixed bits from one 64-bit draw, all 0 when ``n`` is."""
    value = 0
    for salt in SALTS[:words]:
        value = value << 64 | (mix(n ^ salt) ^ mix(salt))
    return value


def wide_integers() -> st.SearchStrategy[int]:
    return st.integers(0, WIDE - 1)


def hex_id(n: int) -> str:
    """24 hex digits, the shape of every Sakari id the page shows."""
    return f"{wide(n, 2) % 16**24:024x}"


def hex_ids() -> st.SearchStrategy[str]:
    return wide_integers().map(hex_id)


# Every style: separator, fraction digits, offset form.
STYLES = tuple(
    (separator, digits, zone)
    for separator in "Tt"
    for digits in range(7)
    for zone in ("Z", "z", "+", "-")
)
OFFSET_RANGE = 24 * 60
DAYS = (LAST_DAY - EPOCH).days + 1
EDGE_OFFSETS = (("+", 23 * 60 + 59), ("-", 23 * 60 + 59), ("-", 0))


def render(day: int, second: int, style: tuple[str, int, str], offset: int) -> str:
    """Format one RFC 3339 date-time (``offset`` in minutes, used by +/-).

    The fraction's digits are derived from the day and second rather than drawn,
    and they vary as much as a drawn value would.
    """
    separator, digits, zone = style
    hours, rest = divmod(second, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    micro = (second * 7919 + day * 104729) % 10**6
    fraction = f".{micro:06d}"[: digits + 1] if digits else ""
    if zone in "+-":
        zone = f"{zone}{offset // 60:02d}:{offset % 60:02d}"
    date_part = (EPOCH + timedelta(days=day)).isoformat()
    return f"{date_part}{separator}{clock}{fraction}{zone}"


def timestamp(n: int, days: tuple[int, ...] | None = None) -> str:
    """The style, day, second and offset of one date-time, from one integer.
    ``days`` limits the day to those offsets from the epoch.

    The style comes from the integer as drawn and only the instant from mixed
    bits, so a failure that needs one style shrinks to it on the epoch.
    """
    rest, style = divmod(n, len(STYLES))
    x, day = divmod(wide(rest), len(days) if days else DAYS)
    x, second = divmod(x, 86400)
    day = days[day] if days else day
    return render(day, second, STYLES[style], x % OFFSET_RANGE)


def date_times() -> st.SearchStrategy[str]:
    """RFC 3339 date-times in every legal style: ``Z``/``z``, ``+hh:mm``,
    ``-hh:mm``, ``T``/``t``, fractions from none to microseconds, 1970 to 2099."""
    return wide_integers().map(timestamp)


def edge_date_times() -> st.SearchStrategy[str]:
    """Leap days, the widest offsets (+-23:59), the first and last days."""
    widest = st.builds(
        lambda day, edge, second: render(day, second, ("T", 0, edge[0]), edge[1]),
        st.sampled_from(EDGE_DAYS),
        st.sampled_from(EDGE_OFFSETS),
        st.sampled_from((0, 86399)),
    )
    any_style = wide_integers().map(lambda n: timestamp(n, EDGE_DAYS))
    return st.one_of(widest, any_style)


def mailbox(n: int) -> str:
    return MAILBOXES[wide(n) % len(MAILBOXES)]


def emails() -> st.SearchStrategy[str]:
    """Mailboxes as contacts have them: ``zoe.martin@example.com``."""
    return wide_integers().map(mailbox)


def edge_emails() -> st.SearchStrategy[str]:
    """The shortest mailbox, a 64-character local part, a 63-character label."""
    return st.sampled_from(
        (
            "a@b.co",
            "x" * 64 + "@example.com",
            "zoe@" + "d" * 63 + ".com",
            "o'brien+tag.1@sub.mail.example.org",
        )
    )


def phone_number(n: int) -> str:
    """An E.164 number: a calling code and a national number of its length with
    no leading zero, ``+14155550123`` say."""
    rest, which = divmod(n, len(CALLING_CODES))
    code, length = CALLING_CODES[which]
    seed = wide(rest)
    first = 10 ** (length - 1)
    return f"+{code}{first + seed % (9 * first)}"


def e164_numbers() -> st.SearchStrategy[str]:
    return wide_integers().map(phone_number)


# Values of free-form map entries: a word, a small integer or a boolean.
FREE_VALUES = (*WORDS, *range(-3, 4), 100, 1000, -1000, True, False)


def free_form(n: int) -> dict[str, Any]:
    """A free-form map (contact.attributes, phoneNumber.forwardTo): any subset of
    a few keys, each with a word, an integer or a boolean; ``{}`` from 0."""
    rest, present = divmod(n, 2 ** len(FREE_FORM_KEYS))
    x = wide(rest, 2)
    value: dict[str, Any] = {}
    for index, key in enumerate(FREE_FORM_KEYS):
        x, choice = divmod(x, len(FREE_VALUES))
        if present >> index & 1:
            value[key] = FREE_VALUES[choice]
    return value


def free_forms() -> st.SearchStrategy[dict[str, Any]]:
    return wide_integers().map(free_form)


def first_names() -> st.SearchStrategy[str]:
    return st.sampled_from(FIRST_NAMES)


def last_names() -> st.SearchStrategy[str]:
    return st.sampled_from(LAST_NAMES)


def full_names() -> st.SearchStrategy[str]:
    return st.sampled_from(FULL_NAMES)


def words() -> st.SearchStrategy[str]:
    return st.sampled_from(WORDS)


def any_text() -> st.SearchStrategy[str]:
    return st.text(max_size=24)


def long_strings() -> st.SearchStrategy[str]:
    """Kilobytes of one character: long without costing a long draw."""
    return st.builds(
        str.__mul__, st.sampled_from(("a", "é", "語", "🙂")), st.integers(1000, 10000)
    )


def call_ids() -> st.SearchStrategy[str]:
    """callId path parameters: mostly plausible ids, some odd ones for unknown-id
    probes (non-ASCII, percent signs, very long). Never empty and never a slash:
    either would address another operation rather than an unknown call."""
    odd = st.one_of(
        st.sampled_from(("%", "%2F", "%00", "..", "通话-1", "call id", "ÿ" * 3)),
        st.text(st.characters(exclude_characters="/"), min_size=1, max_size=40),
        hex_ids().map(lambda h: h * 50),
    )
    return st.one_of(hex_ids(), hex_ids().map(str.upper), odd)
