"""Realistic leaf values: timestamps, emails, phone numbers, names, ids.

Each strategy is built from a few cheap draws and string formatting, never from a
filter, so generation stays fast and shrinking stays short.
"""

from __future__ import annotations

from datetime import date, timedelta

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


def hex_ids() -> st.SearchStrategy[str]:
    """24 hex digits, the shape of every Sakari id the page shows."""
    return st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)


# One draw picks the whole style: separator, fraction digits, offset form.
STYLES = tuple(
    (separator, digits, zone)
    for separator in "Tt"
    for digits in range(7)
    for zone in ("Z", "z", "+", "-")
)
OFFSET_RANGE = 24 * 60
EDGE_OFFSETS = (("+", 23 * 60 + 59), ("-", 23 * 60 + 59), ("-", 0))


def render(day: int, second: int, style: tuple[str, int, str], offset: int) -> str:
    """Format one RFC 3339 date-time (``offset`` in minutes, used by +/-).

    The fraction's digits are derived from the day and second rather than drawn:
    one draw fewer per timestamp, and they vary as much as a drawn value would.
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


def date_times(days: st.SearchStrategy[int] | None = None) -> st.SearchStrategy[str]:
    """RFC 3339 date-times in every legal style: ``Z``/``z``, ``+hh:mm``,
    ``-hh:mm``, ``T``/``t``, fractions from none to microseconds."""
    if days is None:
        days = st.integers(0, (LAST_DAY - EPOCH).days)
    return st.builds(
        render,
        days,
        st.integers(0, 86399),
        st.sampled_from(STYLES),
        st.integers(0, OFFSET_RANGE - 1),
    )


def edge_date_times() -> st.SearchStrategy[str]:
    """Leap days, the widest offsets (+-23:59), the first and last days."""
    days = st.sampled_from(EDGE_DAYS)
    widest = st.builds(
        lambda day, edge, second: render(day, second, ("T", 0, edge[0]), edge[1]),
        days,
        st.sampled_from(EDGE_OFFSETS),
        st.sampled_from((0, 86399)),
    )
    return st.one_of(widest, date_times(days))


def emails() -> st.SearchStrategy[str]:
    """Mailboxes as contacts have them: ``zoe.martin@example.com``."""
    return st.sampled_from(MAILBOXES)


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


def e164_numbers() -> st.SearchStrategy[str]:
    """E.164 numbers such as ``+14155550123``."""
    return st.builds(national, st.sampled_from(CALLING_CODES), st.integers(0, 10**11))


def national(code: tuple[str, int], seed: int) -> str:
    """A national number of the code's length with no leading zero."""
    first = 10 ** (code[1] - 1)
    return f"+{code[0]}{first + seed % (9 * first)}"


def first_names() -> st.SearchStrategy[str]:
    return st.sampled_from(FIRST_NAMES)


def last_names() -> st.SearchStrategy[str]:
    return st.sampled_from(LAST_NAMES)


def full_names() -> st.SearchStrategy[str]:
    return st.builds("{} {}".format, first_names(), last_names())


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
