"""A proposal's file: the PDF check and the name it is offered under."""

from __future__ import annotations

import re
from typing import BinaryIO

from jiebang.errors import Invalid

MiB = 1024 * 1024
HEAD_BYTES = 1024  # the PDF header may follow some junk, within the first KiB (ISO 32000)
TAIL_BYTES = 1024  # %%EOF within the last KiB (writers add a newline or a few bytes after)
PDF_HEADER = re.compile(rb"%PDF-(1\.[0-7]|2\.0)")
FILENAME_SAFE = re.compile(r"[^A-Za-z0-9._ \-\u4e00-\u9fff]+")


def clean_filename(name: str | None) -> str:
    """A name to show and to offer as the attachment's: no folders, no control or quote
    characters, ending in .pdf, at most 100 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = FILENAME_SAFE.sub("_", base).strip(" ._") or "proposal"
    if not base.lower().endswith(".pdf"):
        base += ".pdf"
    return base[-100:]


def check_pdf(path_or_stream: BinaryIO, size: int, *, limit: int) -> None:
    """Refuse what is not a PDF: ``%PDF-1.x`` or ``%PDF-2.0`` within the first KiB and
    ``%%EOF`` within the last; and anything over ``limit`` bytes."""
    if size > limit:
        raise Invalid("file", "The file is over %(mb)d MB; make it smaller.", mb=limit // MiB)
    if size == 0:
        raise Invalid("file", "The file is empty; upload your proposal as a PDF.")
    stream = path_or_stream
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    if not PDF_HEADER.search(head):
        start = head[:8].decode("ascii", "replace")
        start = "".join(c if c.isprintable() else "?" for c in start)
        raise Invalid(
            "file",
            "Not a PDF: the file starts with %(start)r, not %%PDF-. Save or export your "
            "proposal as a PDF.",
            start=start,
        )
    stream.seek(max(0, size - TAIL_BYTES))
    if b"%%EOF" not in stream.read(TAIL_BYTES):
        raise Invalid(
            "file",
            "Not a complete PDF: %%EOF is missing at its end (a cut-off upload?). Export "
            "it again and upload the whole file.",
        )
    stream.seek(0)
