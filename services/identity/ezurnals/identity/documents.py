"""Family access letters (piekļuves vēstules) as one PDF, a page per family, in Latvian.

Typst renders them with Libertinus Serif, a font the ``typst`` package carries and embeds, so
the Latvian letters (ā č ē ģ ī ķ ļ ņ š ū ž) print the same everywhere; system fonts are ignored
for the same reason. The data travels as JSON through ``sys.inputs`` and is set as plain text,
so a name can never be read as Typst markup. The PDF holds secrets (the codes): it is made on
request and never stored.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from ezurnals.shared.documents import typst_pdf

FONT = "Libertinus Serif"

_TEMPLATE = r"""
#let data = json(bytes(sys.inputs.letters))
#set document(title: "Piekļuve e-žurnālam")
#set page(paper: "a4", margin: (x: 2.2cm, y: 2cm))
#set text(font: "FONT", size: 11.5pt, lang: "lv")

#for (i, family) in data.families.enumerate() {
  if i > 0 { pagebreak() }
  text(size: 9pt)[#data.school]
  v(1.2em)
  align(center, text(size: 15pt, weight: "bold")[Piekļuve skolas e-žurnālam])
  v(0.4em)
  align(center)[Ģimenei: #family.student (#data.class_label)]
  v(1em)
  [Labdien! Skola ir sagatavojusi e-žurnāla kontus. Katram zemāk minētajam cilvēkam ir savs
  vienreizējs aktivizācijas kods. Atveriet e-žurnālu, izvēlieties „Aktivizēt kontu“, ievadiet
  kodu un izvēlieties paroli (vismaz 12 rakstzīmes).]
  v(0.8em)
  table(
    columns: (1fr, auto, auto),
    inset: (x: 6pt, y: 8pt),
    table.header([*Vārds, uzvārds*], [*Lietotājvārds*], [*Aktivizācijas kods*]),
    ..family.people.map(p => (p.name, raw(p.username), text(size: 13pt, raw(p.code)))).flatten(),
  )
  v(0.8em)
  [Kodi derīgi līdz #family.expires. Katru kodu var izmantot vienu reizi; jauns kods padara
  iepriekšējo nederīgu. Neizpaudiet kodu citiem.]
  v(1.5em)
  [Klases audzinātājs(-a): #data.issued_by]
  v(0.3em)
  text(size: 9pt)[Izsniegts #data.issued_on]
}
""".replace("FONT", FONT)


class LetterPerson(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    username: str
    code: str


class FamilyLetter(BaseModel):
    """One family: a student and those of their guardians who are waiting for access."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    student: str
    people: tuple[LetterPerson, ...]
    expires_at: datetime


def access_letters_pdf(
    school: str,
    class_label: str,
    issued_by: str,
    issued_at: datetime,
    families: list[FamilyLetter],
    time_zone: str,
) -> bytes:
    zone = ZoneInfo(time_zone)
    data = {
        "school": school,
        "class_label": class_label,
        "issued_by": issued_by,
        "issued_on": f"{issued_at.astimezone(zone):%d.%m.%Y}.",
        "families": [
            {
                "student": f.student,
                "expires": f"{f.expires_at.astimezone(zone):%d.%m.%Y}",
                "people": [p.model_dump() for p in f.people],
            }
            for f in families
        ],
    }
    return typst_pdf(_TEMPLATE.encode(), "letters", data)
