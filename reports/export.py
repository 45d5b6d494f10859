"""The sales dashboard and the service report as .xlsx: one sheet per block, the same figures the page
shows (computed by reports.selectors for the same scope). Names typed by people (stages, pipelines,
teams, reps, agents, ticket types) go through crm.lib.xlsx.safe_cell, so a name starting with = + - @
is stored as text, never a formula."""
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


def service_filename(scope):
    name = _("service-report")
    return f"{name}-{scope.period.start:%Y%m%d}-{scope.period.end:%Y%m%d}.xlsx"


def service_workbook(scope, figures):
    """The service report's workbook, in memory (a few hundred rows at most), open at its start."""
    workbook = Workbook(write_only=True)
    _sheet(workbook, _("Filter"), [_("Filter"), _("Value")], [
        [_("Period"), f"{scope.period.start:%Y-%m-%d} – {scope.period.end:%Y-%m-%d}"],
        [_("team"), scope.team.name if scope.team else _("All teams in my scope")],
        [_("Viewer"), scope.user.name],
        [_("Generated"), timezone.localtime(scope.now).strftime("%Y-%m-%d %H:%M")]])
    backlog = figures["backlog"]
    _sheet(workbook, _("Backlog"), [_("Open tickets"), _("Tickets")], [
        [_("All open"), backlog["total"]], [_("Past their deadline"), backlog["overdue"]],
        *([str(row["status"].label), row["count"]] for row in backlog["statuses"]),
        *([str(row["label"]), row["count"]] for row in backlog["ages"])])
    times = figures["resolution"]
    _sheet(workbook, _("Response and resolution"), [_("Figure"), _("Value")], [
        [_("Tickets resolved in the period"), times["resolved"]],
        [_("First response, median (working hours)"), times["fr_median"]],
        [_("First response, 90th percentile (working hours)"), times["fr_p90"]],
        [_("Resolution, median (working hours)"), times["res_median"]],
        [_("Resolution, 90th percentile (working hours)"), times["res_p90"]],
        [_("First response on time"), times["fr_met"]], [_("First response late"), times["fr_missed"]],
        [_("First response on time (%)"), times["fr_rate"]],
        [_("Resolved on time"), times["res_met"]], [_("Resolved late"), times["res_missed"]],
        [_("Resolved on time (%)"), times["res_rate"]], [_("Breaches (a target missed)"), times["breached"]]])
    for breakdown, title, column, nameless in (("team", _("Breaches by team"), _("team"), _("No team")),
                                               ("agent", _("Breaches by agent"), _("assignee"), _("Unassigned")),
                                               ("type", _("Breaches by type"), _("ticket type"), "")):
        _sheet(workbook, title, [column, _("Resolved"), _("Breaches"), _("Breached (%)")],
               [[row["name"] or nameless, row["resolved"], row["breached"], row["rate"]]
                for row in figures["breaches"][breakdown]])
    _satisfaction_sheet(workbook, figures["satisfaction"])
    found = figures["complaints"]
    _sheet(workbook, _("Complaints"), [_("ticket type"), _("Root cause"), _("Count")], [
        *([row["name"] or "", "", row["count"]] for row in found["types"]),
        *(["", row["name"] or _("Not found yet"), row["count"]] for row in found["causes"])])
    file = io.BytesIO()
    workbook.save(file)
    file.seek(0)
    return file


def _satisfaction_sheet(workbook, found):
    _sheet(workbook, _("Satisfaction"), [_("Figure"), _("Value")], [
        [_("Surveys answered"), found["answered"]], [_("CSAT average (1–5)"), found["average"]],
        *([_("CSAT %(score)d") % {"score": row["score"]}, row["count"]] for row in found["scores"]),
        [_("NPS answers"), found["nps_answers"]], [_("Promoters (9–10)"), found["promoters"]],
        [_("Passives (7–8)"), found["passives"]], [_("Detractors (0–6)"), found["detractors"]],
        [_("NPS"), found["nps"]]])


def _sheet(workbook, title, headers, rows):
    sheet = workbook.create_sheet(title[:31])  # Excel's limit on a sheet name
    sheet.column_dimensions["A"].width = 24
    sheet.append([header_cell(sheet, text) for text in headers])
    for row in rows:
        sheet.append([safe_cell(sheet, value) for value in row])
