"""The complaint register (投诉明细表) as .xlsx: the rows the register shows its user, with their times in
the user's zone."""
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from crm.lib.timezones import user_zone
from crm.lib.xlsx import header_cell, safe_cell

from .models import ComplaintStep, RootCause

CHUNK = 2000


def _columns():
    return [(_("Ticket"), 10), (_("Customer"), 28), (_("Subject"), 30), (_("Registered"), 17), (_("Accepted"), 17),
            (_("Accepted in time"), 10), (_("Handled"), 17), (_("Root cause"), 14), (_("What caused it"), 30),
            (_("What we change"), 30), (_("Called back"), 17), (_("Customer accepts"), 10), (_("Closed"), 17),
            (_("Step"), 10), (_("Handled by"), 14)]


def complaint_row(complaint, zone):
    """One complaint as the register shows it (strings and local times)."""
    ticket = complaint.ticket

    def when(moment):
        return timezone.localtime(moment, zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    in_time = "" if not complaint.accepted_at or not ticket.first_response_due else (
        _("yes") if complaint.accepted_at <= ticket.first_response_due else _("no"))
    accepts = "" if complaint.customer_accepts is None else _("yes") if complaint.customer_accepts else _("no")
    return [ticket.reference, ticket.customer.name, ticket.subject, when(ticket.created_at),
            when(complaint.accepted_at), in_time, when(complaint.handled_at),
            str(RootCause(complaint.root_cause_kind).label) if complaint.root_cause_kind else "", complaint.root_cause,
            complaint.corrective_action, when(complaint.called_back_at), accepts, when(complaint.closed_at),
            str(ComplaintStep(complaint.step).label), complaint.handled_by.name if complaint.handled_by_id else ""]


def complaints_xlsx(user, complaints):
    """(file open at its start, file name) of the register `complaints` (a queryset) for `user`."""
    zone = user_zone(user)
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - streamed, then closed by the response
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Complaints"))
        sheet.freeze_panes = "A2"
        for index, (_title, width) in enumerate(_columns()):
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        sheet.append([header_cell(sheet, title) for title, _width in _columns()])
        for complaint in complaints.iterator(chunk_size=CHUNK):
            sheet.append([safe_cell(sheet, value) for value in complaint_row(complaint, zone)])
        workbook.save(file)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    day = timezone.localtime(timezone.now(), zone)
    return file, f"{_('Complaints')}_{day:%Y%m%d}.xlsx"
