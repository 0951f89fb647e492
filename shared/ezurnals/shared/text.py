"""What a text typed by a person may hold: the one rule for every free-text field of every service.

Control characters have no place in a topic, a homework or a name: PostgreSQL refuses NUL
outright (a 500 before this rule) and the others (bell, escape …) only corrupt what is printed and
exported later. Tab and line breaks are text (browsers send CRLF from a textarea); a one-line
field such as a name refuses them too. Lone surrogates (``"\\ud800"`` in JSON) are not characters
at all and cannot be stored as UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: The characters free text may hold although they are controls.
TEXT_CONTROLS = "\t\n\r"
#: C0 controls other than tab and line breaks, DEL, and lone surrogates.
REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: In a one-line field (names, labels) tab and line breaks are refused as well.
REFUSED_IN_A_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def refused_character(text: str, *, one_line: bool = False) -> str | None:
    """The first character ``text`` may not hold, or ``None`` when it is acceptable text."""
    found = (REFUSED_IN_A_LINE if one_line else REFUSED).search(text)
    return found.group() if found else None


def reason(character: str) -> str:
    """Why a text holding ``character`` is refused, naming the character by its code point."""
    point = f"U+{ord(character):04X}"
    if 0xD800 <= ord(character) <= 0xDFFF:
        return f"holds {point}, which is not a character (a lone surrogate)"
    return f"holds the control character {point}, which text may not contain"


def refused_fields(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, reason) for every string in a decoded JSON value (or a form's values) that holds a
    refused character; ``("items", 2, "topic")`` names a nested field. A refused character in an
    object's key is reported at that key, written with escapes (see :func:`clean_name`)."""
    if isinstance(value, str):
        character = refused_character(value)
        if character is not None:
            yield path, reason(character)
    elif isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            character = refused_character(key_text)
            if character is not None:
                yield (*path, clean_name(key_text)), reason(character)
            else:
                yield from refused_fields(item, (*path, key_text))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from refused_fields(item, (*path, index))


def clean_name(name: str) -> str:
    """A field's name with its refused characters written as ``\\u0000`` escapes, so the answer
    naming the field is itself clean text."""
    return REFUSED.sub(lambda m: f"\\u{ord(m.group()):04x}", name)
