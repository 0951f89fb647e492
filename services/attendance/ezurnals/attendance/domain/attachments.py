"""Checking a document attached to an excuse request, by what the bytes are, not what the file
is called: a renamed executable must not pass as ``note.pdf``."""

from __future__ import annotations

import hashlib
from uuid import UUID

from ezurnals.shared.contracts.attendance import AttachmentContentType, ExcuseAttachment
from ezurnals.shared.domain import Invalid

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024

SIGNATURES: tuple[tuple[bytes, AttachmentContentType], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def content_type_of(data: bytes) -> AttachmentContentType | None:
    """The accepted type the content's signature shows, or None."""
    return next((kind for magic, kind in SIGNATURES if data.startswith(magic)), None)


def check_attachment(
    data: bytes, *, attachment_id: UUID, max_bytes: int = MAX_ATTACHMENT_BYTES
) -> ExcuseAttachment:
    """The attachment's description for the request, or Invalid saying why it is refused."""
    if not data:
        raise Invalid("the attachment is empty", field="attachment")
    if len(data) > max_bytes:
        raise Invalid(
            f"the attachment is {len(data)} bytes; at most {max_bytes} bytes are accepted",
            field="attachment",
            details={"size_bytes": len(data), "max_bytes": max_bytes},
        )
    content_type = content_type_of(data)
    if content_type is None:
        raise Invalid("the attachment is not a PDF, JPEG or PNG document", field="attachment")
    return ExcuseAttachment(
        attachment_id=attachment_id,
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        size_bytes=len(data),
    )
