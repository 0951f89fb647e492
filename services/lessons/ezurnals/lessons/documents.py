"""The printable safety-briefing form (instruktāžas reģistrācijas lapa, rule 3) as a PDF in Latvian.

Typst renders it with Libertinus Serif, a font the ``typst`` package carries inside itself and
embeds in the PDF, so the Latvian letters (ā č ē ģ ī ķ ļ ņ š ū ž) print the same on every machine;
system fonts are ignored for the same reason. The data travels as JSON through ``sys.inputs`` and
is set as plain text, so a name can never be read as Typst markup.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from ezurnals.shared.documents import typst_pdf

FONT = "Libertinus Serif"

_TEMPLATE = r"""
#let form = json(bytes(sys.inputs.form))
#set document(title: "Instruktāžas reģistrācijas lapa")
#set page(paper: "a4", margin: (x: 2cm, y: 1.8cm),
  footer: context align(right, text(size: 9pt)[#counter(page).display("1/1", both: true)]))
#set text(font: "FONT", size: 11pt, lang: "lv")

#align(center, text(size: 15pt, weight: "bold")[Instruktāžas reģistrācijas lapa])
#v(0.6em)
#grid(columns: (auto, 1fr), column-gutter: 1em, row-gutter: 0.6em,
  [*Instruktāžas veids:*], form.type_name,
  [*Tēma:*], form.topic,
  [*Datums:*], form.date,
  [*Klase:*], form.class_label,
  [*Instruktāžu vadīja:*], form.conducted_by,
)
#v(0.8em)
Ar instruktāžu esmu iepazinies(-usies), to sapratu un apņemos ievērot.
#v(0.4em)
#table(
  columns: (2.2em, 1fr, 5cm),
  inset: (x: 6pt, y: 9pt),
  align: (right, left, left),
  table.header([*Nr.*], [*Skolēna vārds, uzvārds*], [*Paraksts*]),
  ..form.students.enumerate().map(((i, name)) => ([#(i + 1).], name, [])).flatten(),
)
#v(1.5em)
Instruktāžas vadītāja paraksts: #box(width: 6cm, repeat[.])
#v(0.8em)
#text(size: 9pt)[Parakstīto lapu glabā direktora vietnieks.]
""".replace("FONT", FONT)


class BriefingForm(BaseModel):
    """What the form prints; the names come from the caller and are not kept anywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: str
    topic: str
    conducted_on: date
    class_label: str | None = None
    conducted_by: str | None = None
    student_names: tuple[str, ...]


def briefing_form_pdf(form: BriefingForm) -> bytes:
    blank = "________________________"
    data = {
        "type_name": form.type_name,
        "topic": form.topic,
        "date": f"{form.conducted_on:%d.%m.%Y}.",
        "class_label": form.class_label or blank,
        "conducted_by": form.conducted_by or blank,
        "students": list(form.student_names),
    }
    return typst_pdf(_TEMPLATE.encode(), "form", data)
