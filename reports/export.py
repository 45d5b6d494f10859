"""The sales dashboard as an .xlsx: one sheet per block, the same figures the page shows (computed by
reports.selectors for the same scope). Names typed by people (stages, pipelines, teams, reps) go
through crm.lib.xlsx.safe_cell, so a name starting with = + - @ is stored as text, never a formula."""
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from crm.lib.xlsx import header_cell, safe_cell


def dashboard_filename(scope):
    return f"{_('sales-dashboard')}-{scope.period.start:%Y%m%d}-{scope.period.end:%Y%m%d}.xlsx"


def dashboard_workbook(scope, figures):
    """The workbook, written to memory (a few hundred rows at most) and returned open at its start."""
    workbook = Workbook(write_only=True)
    _sheet(workbook, _("Filter"), [_("Filter"), _("Value")], _filter_rows(scope))
    _sheet(workbook, _("Funnel"), [_("Stage"), _("Deals"), _("Amount"), _("Weighted amount")],
           [[row["stage"].name, row["count"], row["amount"], row["weighted"]] for row in figures["funnel"]])
    _sheet(workbook, _("Forecast"), [_("Expected close month"), _("Deals"), _("Amount"), _("Weighted amount")],
           [[f"{row['month']:%Y-%m}", row["count"], row["amount"], row["weighted"]] for row in figures["forecast"]])
    win = figures["win"]
    _sheet(workbook, _("Win rate"), [_("Figure"), _("Value")], [
        [_("Won deals"), win["won"]], [_("Won amount"), win["won_amount"]],
        [_("Lost deals"), win["lost"]], [_("Lost amount"), win["lost_amount"]],
        [_("Win rate (%)"), win["rate"]], [_("Average sales cycle (days)"), win["cycle_days"]]])
    _sheet(workbook, _("Conversion"), [_("Stage"), _("Deals that reached it"), _("From the stage before (%)"),
                                        _("From the first stage (%)")],
           [[row["stage"].name, row["count"], row["from_previous"], row["from_first"]]
            for row in figures["conversion"]])
    _sheet(workbook, _("Leaderboard"), [
        _("Rep"), _("team"), _("Won deals"), _("Won amount"), _("Target amount"), _("Target deals"),
        _("Of target (%)"), _("Open deals"), _("Open weighted amount")],
        [[row["user"].name, row["user"].team.name if row["user"].team else "", row["won"], row["won_amount"],
          row["target"], row["target_count"], row["percent"], row["open"], row["open_weighted"]]
         for row in figures["leaderboard"]])
    stale, pay = figures["stale"], figures["payments"]
    _sheet(workbook, _("Stale deals"), [_("Deals"), _("Amount")], [[stale["count"], stale["amount"]]])
    _sheet(workbook, _("Payments"), [_("Instalments"), _("Count"), _("Outstanding amount")], [
        [_("Due in the period"), pay["due"], pay["due_amount"]],
        [_("Overdue"), pay["overdue"], pay["overdue_amount"]]])
    file = io.BytesIO()
    workbook.save(file)
    file.seek(0)
    return file


def _filter_rows(scope):
    return [
        [_("Period"), f"{scope.period.start:%Y-%m-%d} – {scope.period.end:%Y-%m-%d}"],
        [_("team"), scope.team.name if scope.team else (_("My deals") if scope.owner else _("All teams in my scope"))],
        [_("pipeline"), scope.pipeline.name if scope.pipeline else ""],
        [_("Viewer"), scope.user.name],
        [_("Generated"), timezone.localtime(scope.now).strftime("%Y-%m-%d %H:%M")],
    ]


def _sheet(workbook, title, headers, rows):
    sheet = workbook.create_sheet(title[:31])  # Excel's limit on a sheet name
    sheet.column_dimensions["A"].width = 24
    sheet.append([header_cell(sheet, text) for text in headers])
    for row in rows:
        sheet.append([safe_cell(sheet, value) for value in row])
