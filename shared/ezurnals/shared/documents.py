"""Printed documents (letters, forms, statements, report cards) as PDFs from Typst templates.

Only the fonts bundled with Typst are used, never the machine's, so a document looks the same —
with every Latvian diacritic — wherever it is rendered. The template reads its data as JSON from
``sys.inputs.<name>`` and sets it as plain text, so nothing in the data is markup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import typst


def typst_pdf(source: bytes, name: str, data: Mapping[str, Any]) -> bytes:
    """The PDF of ``source`` with ``data`` given to it as ``sys.inputs.<name>``."""
    pdf = typst.compile(
        source,
        format="pdf",
        sys_inputs={name: json.dumps(data, ensure_ascii=False, default=str)},
        ignore_system_fonts=True,
    )
    assert isinstance(pdf, bytes)
    return pdf
