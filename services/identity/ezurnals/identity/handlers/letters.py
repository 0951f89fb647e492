"""Family access for a class: fresh activation codes, one printable letter per family, and the
codes sent by e-mail or SMS to whoever has a contact on file."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ezurnals.identity import queries
from ezurnals.identity.delivery import CodeNotice, Courier
from ezurnals.identity.documents import FamilyLetter, LetterPerson, access_letters_pdf
from ezurnals.identity.handlers.accounts import issue_access_codes
from ezurnals.shared.domain import Conflict
from ezurnals.shared.eventstore import CommandContext
from ezurnals.shared.service import Runtime


@dataclass(frozen=True)
class AccessLetters:
    pdf: bytes
    #: Whose names and codes the letters carry (for the access audit).
    people: list[UUID]
    #: How many codes went out by each way: email, sms, letter (no contact), failed.
    delivered: Counter[str]


def _name(data: dict[str, Any] | None) -> str:
    data = data or {}
    return " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p) or "—"


async def issue_access_letters(
    rt: Runtime,
    ctx: CommandContext,
    school_id: UUID,
    class_id: UUID,
    courier: Courier | None,
) -> AccessLetters:
    """Re-issuing voids earlier codes, so the letters, e-mails and texts of one call agree."""
    async with rt.db.raw() as conn:
        klass = await queries.class_row(conn, school_id, class_id)
        families = await queries.families_waiting(conn, class_id)
        school = await conn.fetchrow(
            "SELECT name, time_zone FROM schools WHERE school_id = $1", school_id
        )
        issuer = await queries.personal_data(conn, ctx.actor.id) if ctx.actor.id else None
    if not families:
        raise Conflict("everyone in the class already has an account", code="nothing_to_issue")
    waiting = list(dict.fromkeys(p for people in families.values() for p in people))
    issued = await issue_access_codes(rt, ctx, school_id, waiting)
    codes = {UUID(c["person_id"]): c for c in issued.body["codes"]}
    zone = ZoneInfo(school["time_zone"])
    async with rt.db.raw() as conn:
        data = {p: await queries.personal_data(conn, p) or {} for p in waiting}
    letters = [
        FamilyLetter(
            student=_name(data[student]),
            people=tuple(
                LetterPerson(
                    name=_name(data[p]), username=codes[p]["username"], code=codes[p]["code"]
                )
                for p in people
            ),
            expires_at=datetime.fromisoformat(codes[people[0]]["expires_at"]),
        )
        for student, people in sorted(
            families.items(),
            key=lambda f: (data[f[0]].get("last_name", ""), data[f[0]].get("first_name", "")),
        )
    ]
    delivered: Counter[str] = Counter()
    for person in waiting:
        notice = CodeNotice(
            name=_name(data[person]),
            username=codes[person]["username"],
            code=codes[person]["code"],
            expires_on=f"{datetime.fromisoformat(codes[person]['expires_at']).astimezone(zone):%d.%m.%Y}",
            email=data[person].get("email"),
            phone=data[person].get("phone"),
        )
        delivered[await courier.deliver(notice) if courier else "letter"] += 1
    pdf = access_letters_pdf(
        school["name"], klass["label"], _name(issuer), ctx.now, letters, school["time_zone"]
    )
    return AccessLetters(pdf, waiting, delivered)
