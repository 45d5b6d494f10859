"""Files on tickets: checked before anything is written (an allowed kind whose first bytes are what its
name says, within the size and count limits), stored under MEDIA_ROOT/tickets/, read only through the
ticket page's access-checked download view."""
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import TicketAttachment

ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0"
# Extension: (content type, the first bytes such a file starts with; None for plain text).
ALLOWED = {
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"), ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"), ".gif": ("image/gif", b"GIF8"), ".webp": ("image/webp", b"RIFF"),
    ".pdf": ("application/pdf", b"%PDF-"),
    ".txt": ("text/plain", None), ".log": ("text/plain", None), ".csv": ("text/csv", None),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    ".zip": ("application/zip", ZIP), ".xls": ("application/vnd.ms-excel", OLE), ".doc": ("application/msword", OLE),
}


def _kind_of(upload):
    """The content type of an upload whose name and first bytes agree, else a ValidationError."""
    name = os.path.basename(upload.name or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in ALLOWED:
        raise ValidationError(_("%(name)s: this kind of file cannot be attached (pictures, PDF, text, Office "
                                "documents and ZIP files can).") % {"name": name})
    content_type, magic = ALLOWED[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if magic is not None and not head.startswith(magic) or magic is None and b"\x00" in head:
        raise ValidationError(_("%(name)s is not the kind of file its name says.") % {"name": name})
    return content_type


def attachments_check(files):
    """[(upload, content type)] of uploads that may be attached, or a ValidationError naming each file that
    may not (too many, too large, not allowed, or not what its name says)."""
    files = [f for f in files if f]
    if len(files) > settings.SERVICE_ATTACHMENTS_PER_MESSAGE:
        raise ValidationError(_("At most %(n)d files at a time.") % {"n": settings.SERVICE_ATTACHMENTS_PER_MESSAGE})
    checked, errors = [], []
    for upload in files:
        if upload.size > settings.SERVICE_ATTACHMENT_MAX_BYTES:
            errors.append(_("%(name)s is larger than %(mb)d MB.") % {
                "name": os.path.basename(upload.name), "mb": settings.SERVICE_ATTACHMENT_MAX_BYTES // 2**20})
            continue
        try:
            checked.append((upload, _kind_of(upload)))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return checked


def attachments_store(*, ticket, entry, checked, by):
    """Store checked uploads (attachments_check) on the ticket and the entry they came with."""
    for upload, content_type in checked:
        name = os.path.basename(upload.name)[:200]
        attachment = TicketAttachment(ticket=ticket, entry=entry, name=name, size=upload.size,
                                      content_type=content_type, uploaded_by=by)
        attachment.file.save(name, upload, save=False)
        attachment.save()
