"""Attachments to excuse requests: PDF, JPEG or PNG by content, at most 5 MB."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest

from ezurnals.attendance.domain import MAX_ATTACHMENT_BYTES, check_attachment
from ezurnals.shared.domain import Invalid

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 32 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")],
)
def test_an_accepted_document_is_described_by_its_content(data: bytes, content_type: str) -> None:
    attachment_id = uuid4()

    attachment = check_attachment(data, attachment_id=attachment_id)

    assert attachment.content_type == content_type
    assert attachment.attachment_id == attachment_id
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size_bytes == len(data)


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03 this is a Windows executable called zime.pdf",
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04 a docx is a zip",
        b"<html>%PDF-1.7</html>",
    ],
)
def test_other_content_is_refused_whatever_it_is_called(data: bytes) -> None:
    with pytest.raises(Invalid) as err:
        check_attachment(data, attachment_id=uuid4())

    assert err.value.field == "attachment"
    assert "PDF, JPEG or PNG" in err.value.message


def test_an_empty_attachment_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        check_attachment(b"", attachment_id=uuid4())

    assert "empty" in err.value.message


def test_five_megabytes_pass_and_one_byte_more_does_not() -> None:
    at_limit = PDF + b"\x00" * (MAX_ATTACHMENT_BYTES - len(PDF))

    assert check_attachment(at_limit, attachment_id=uuid4()).size_bytes == 5 * 1024 * 1024
    with pytest.raises(Invalid) as err:
        check_attachment(at_limit + b"\x00", attachment_id=uuid4())

    assert err.value.details == {
        "size_bytes": MAX_ATTACHMENT_BYTES + 1,
        "max_bytes": MAX_ATTACHMENT_BYTES,
    }
    assert str(MAX_ATTACHMENT_BYTES) in err.value.message
