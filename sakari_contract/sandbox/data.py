"""The call records the sandbox serves.

Every record is built from fixed tables, so a run today serves the same bytes as a
run next year. The set is varied on purpose: both directions, every status the
contract relies on, contacts on zero to five lists, names outside ASCII, timestamps
in UTC and with an offset, with and without a fraction, and optional fields left
out here and there. Required fields are never left out and nothing is ever null.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..schema import CALL_PATH, load_contract

# Enums and the page's example come from the contract itself, so the sandbox
# follows the document when a value is added.
_DOCUMENT = load_contract().document
_CALL = _DOCUMENT["components"]["schemas"]["Call"]["properties"]
DIRECTIONS = tuple(_CALL["direction"]["enum"])
STATUSES = tuple(_CALL["status"]["enum"])
GENERATED_CALLS = 59


def _page_example() -> dict[str, Any]:
    """The `data` record of the documentation page's example, key for key."""
    ok = _DOCUMENT["paths"][CALL_PATH]["get"]["responses"]["200"]
    examples = ok["content"]["application/json"]["examples"]
    return examples["documentationPage"]["value"]["data"]


DOC_EXAMPLE: dict[str, Any] = _page_example()

# first name, last name, email; the email is ASCII even where the name is not,
# because strict email checks (RFC 5321 without SMTPUTF8) reject anything else.
_PEOPLE = (
    ("Zoë", "Martin", "zoe.martin@example.com"),
    ("Łukasz", "Nowak", "lukasz.nowak@example.org"),
    ("José", "García", "jose.garcia@example.net"),
    ("渡辺", "健", "ken.watanabe@example.com"),
    ("Chris", "Bloggs", "chris.bloggs@example.com"),
    ("Amélie", "Dubois", "amelie.dubois@example.org"),
    ("Søren", "Østergaard", "soren.ostergaard@example.net"),
    ("Ana", "O'Neil", "ana.oneil@example.com"),
    ("Αλέξης", "Παπαδόπουλος", "alexis.papadopoulos@example.org"),
    ("Mia", "Müller-Lüdenscheidt", "mia.mueller@example.net"),
    ("Ngozi", "Okafor", "ngozi.okafor@example.com"),
)

_TEAM = (
    ("Joe", "Bloggs", "joe.bloggs@example.com", "hub", "web"),
    ("Inés", "Fernández", "ines.fernandez@example.org", "phone", "ios"),
    ("Kenji", "Sato", "kenji.sato@example.net", "api", "integration"),
)

# name, keyword, double opt-in prompt, filter query
_LISTS = (
    ("Newsletter", "NEWS", "Reply YES to get our monthly news", "newsletter"),
    ("VIP customers", "VIP", "Reply YES to join VIP offers", "plan:pro"),
    ("Appointments", "BOOK", "Reply YES for appointment reminders", "booked"),
    ("Soirée d'été", "ETE", "Répondez OUI pour l'invitation", "event:ete"),
    ("Support follow-up", "HELP", "Reply YES to hear back from support", "ticket"),
)

# number (E.164, from ranges reserved for fiction), country, type, name
_NUMBERS = (
    ("+12025550143", "US", "local", "Support line"),
    ("+447700900123", "GB", "mobile", "London desk"),
    ("+61491570156", "AU", "mobile", "Sydney office"),
    ("+18005550199", "US", "tollfree", "Sales"),
)

_NEWEST = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
_PLUS_TWO = timezone(timedelta(hours=2))


def calls() -> list[dict[str, Any]]:
    """Return every call record, newest first, as fresh copies the caller may edit."""
    generated = [_call(index) for index in range(GENERATED_CALLS)]
    return [*generated, copy.deepcopy(DOC_EXAMPLE)]


def _id(kind: str, index: int) -> str:
    # 24 hex digits, the shape of the ids Sakari returns.
    return hashlib.sha256(f"{kind}-{index}".encode()).hexdigest()[:24]


def _stamp(moment: datetime, style: int) -> str:
    """Render one instant in one of four RFC 3339 spellings."""
    if style % 4 == 0:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style % 4 == 1:
        return moment.astimezone(_PLUS_TWO).isoformat(timespec="seconds")
    if style % 4 == 2:
        utc = moment.astimezone(UTC).isoformat(timespec="milliseconds")
        return utc.replace("+00:00", "Z")
    return moment.astimezone(_PLUS_TWO).isoformat(timespec="microseconds")


def _call(index: int) -> dict[str, Any]:
    status = STATUSES[(index // 2) % len(STATUSES)]
    moment = _NEWEST - timedelta(hours=3 * index, minutes=17 * index, seconds=index)
    created: dict[str, Any] = {
        "at": _stamp(moment + timedelta(microseconds=index * 4321), index)
    }
    if index % 5 != 4:
        created["by"] = _user(index % len(_TEAM))

    return {
        "id": _id("call", index),
        "direction": DIRECTIONS[index % 2],
        "status": status,
        "contact": _contact(index % len(_PEOPLE)),
        "phoneNumber": _phone_number(index % len(_NUMBERS)),
        "created": created,
        "duration": _duration(index, status),
        "voicemail": status in ("busy", "no-answer") and index % 4 < 2,
        "recording": status == "completed" and index % 3 != 0,
    }


def _duration(index: int, status: str) -> int:
    if status == "completed":
        return 15 + (index * 37) % 900
    if status == "in-progress":
        return 5 + index % 60
    return 0


def _user(index: int) -> dict[str, Any]:
    first, last, email, source, sub_source = _TEAM[index]
    return {
        "id": _id("user", index),
        "name": f"{first} {last}",
        "firstName": first,
        "lastName": last,
        "email": email,
        "source": source,
        "subSource": sub_source,
    }


def _contact(index: int) -> dict[str, Any]:
    first, last, email = _PEOPLE[index]
    joined = datetime(2023, 1, 9, 9, 30, tzinfo=UTC) + timedelta(days=19 * index)
    contact: dict[str, Any] = {"id": _id("contact", index)}
    if index != 3:
        contact["email"] = email
    contact["firstName"] = first
    contact["lastName"] = last
    # Contact n is on n % 6 lists, so the set spans zero to five.
    contact["lists"] = [_membership(index, position) for position in range(index % 6)]
    contact["attributes"] = (
        {"company": "Example Ltd", "plan": "pro"} if index % 2 else {}
    )
    contact["optIn"] = _stamp(joined, index)
    if index % 4 != 0:
        contact["blocked"] = _stamp(joined + timedelta(days=200), index + 1)
    if index != 5:
        contact["activecampaign"] = {"id": 1000 + index}
        contact["hubspot"] = {"id": 5100000 + 37 * index}
        contact["pipedrive"] = {"id": 300 + index}
    contact["valid"] = index != 7
    return contact


def _membership(contact: int, position: int) -> dict[str, Any]:
    name, keyword, prompt, query = _LISTS[position]
    joined = datetime(2023, 3, 1, 8, 0, tzinfo=UTC) + timedelta(
        days=11 * contact + position
    )
    membership: dict[str, Any] = {
        "id": _id("list", position),
        "name": name,
        "keyword": keyword,
        "doubleOptIn": {"enabled": position % 2 == 0, "prompt": prompt},
        "filter": {
            "q": query,
            "attributes": [
                {"attribute": "plan", "comparator": "=", "value": ["pro", "team"]}
            ],
            "list": _id("list", position),
            "valid": True,
            "invalid": False,
            "blocked": False,
            "unblocked": True,
            "optIn": True,
        },
        "optInConfirmation": f"You joined {name}. Reply STOP to leave.",
        "optIn": _stamp(joined, contact + position),
    }
    if (contact + position) % 3 != 0:
        membership["optOut"] = _stamp(joined + timedelta(days=45), contact)
    return membership


def _phone_number(index: int) -> dict[str, Any]:
    number, country, kind, name = _NUMBERS[index]
    submitted = datetime(2023, 6, 5, 10, 15, tzinfo=UTC) + timedelta(days=index)
    regulatory: dict[str, Any] = {
        "brandStatus": "approved",
        "campaign": {
            "id": _id("campaign", index),
            "campaignId": f"C{index + 1:06d}",
            "useCase": "customer-care",
        },
        "pft": index == 3,
        "submitted": _stamp(submitted, index),
        "approved": _stamp(submitted + timedelta(days=9), index + 1),
    }
    if index != 1:
        # A first submission was turned down before the approval above.
        regulatory["rejected"] = _stamp(submitted + timedelta(days=3), index + 2)

    return {
        "id": _id("number", index),
        "status": "active",
        "number": number,
        "country": country,
        "type": kind,
        "name": name,
        "verified": index != 2,
        "provider": "sakari",
        "supportedDestinations": ["US", "CA"] if country == "US" else [country],
        "forwardTo": {"number": "+12025550187"} if index == 0 else {},
        "universalReply": index % 2 == 0,
        "channels": {
            "sms": {
                "active": True,
                "universalReply": index % 2 == 0,
                "supportedDestinations": {"US": True, "CA": index == 0},
                "regulatory": regulatory,
            },
            "voice": {
                "active": True,
                "incoming": {
                    "action": "forward",
                    "forwardTo": "+12025550187",
                    "message": "Thanks for calling, connecting you now.",
                    "transcribe": index != 3,
                },
                "features": ["recording", "voicemail"],
            },
            "whatsapp": {"active": index == 1},
        },
        "groups": [
            {"id": _id("group", index % 2), "name": ("Support", "Sales")[index % 2]}
        ],
        "hosted": index == 3,
    }
