"""What an attachment of a service request may be (seed 002): a PDF, a JPEG, a PNG
or an Excel workbook, no larger than the limit, whose content is what its name says
(the first bytes, not the browser's content type, decide). Pure: bytes in, answer
out. Its stored name is never derived from what the user sent."""
from __future__ import annotations

import io
import re
import zipfile

#: extension → (content type served, the first bytes the content must start with)
KINDS = {
    "pdf": ("application/pdf", b"%PDF-"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             b"PK\x03\x04"),
}
ALIASES = {"jpeg": "jpg"}
#: default size limit (the setting AGENCYDESK_ATTACHMENT_MAX_MB overrides it)
MAX_BYTES = 10 * 1024 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


class AttachmentError(ValueError):
    """Refused: ``reason`` is ``type`` (not an allowed kind, or the content is not
    what the name says), ``size`` (too large) or ``empty``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def extension(filename: str) -> str:
    """The lower-case extension of a file name ('' when none)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if "." not in name:
        return ""
    ext = name.rsplit(".", 1)[1].strip().lower()
    return ALIASES.get(ext, ext)


def display_name(filename: str) -> str:
    """The name shown and offered on download: the last path part, without control
    or path characters, at most 120 characters (it is never used as a path)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .") or "file"
    return name[-120:]


def check(filename: str, content: bytes, max_bytes: int = MAX_BYTES) -> str:
    """The kind (extension) of an acceptable attachment.

    :raises AttachmentError: empty, too large, not an allowed kind, or content that
        does not start as its kind must (an .exe renamed .pdf, HTML renamed .png, a
        zip that is no workbook).
    """
    if not content:
        raise AttachmentError("empty")
    if len(content) > max_bytes:
        raise AttachmentError("size")
    ext = extension(filename)
    if ext not in KINDS or not content.startswith(KINDS[ext][1]):
        raise AttachmentError("type")
    if ext == "xlsx":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise AttachmentError("type") from None
        if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
            raise AttachmentError("type")
    return ext
