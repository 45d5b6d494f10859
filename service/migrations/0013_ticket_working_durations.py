"""The working time to a ticket's first response and to its resolution, stored on the ticket (the service
report aggregates them), the two covering indexes that report reads and the statistics its grouping
needs. The tickets answered or resolved before are filled here, a batch at a time, by the same
arithmetic the service code uses (some 3 minutes for 2,000,000 tickets)."""
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

BATCH = 5000


def _clocks(apps):
    """{calendar id: WorkingCalendar} of every calendar, and the default calendar's id."""
    from zoneinfo import ZoneInfo

    from service.working_time import WorkingCalendar

    WorkCalendar = apps.get_model("service", "WorkCalendar")
    clocks, default = {}, None
    for calendar in WorkCalendar.objects.prefetch_related("windows", "days").order_by("-is_default", "pk"):
        default = default or calendar.pk
        windows = {}
        for window in calendar.windows.all():
            windows.setdefault(window.weekday, []).append((window.start, window.end))
        days = [(day.date, day.kind) for day in calendar.days.all()]
        clocks[calendar.pk] = WorkingCalendar(
            zone=ZoneInfo(calendar.time_zone), windows={d: tuple(sorted(s)) for d, s in windows.items()},
            holidays=frozenset(d for d, kind in days if kind == "holiday"),
            workdays=frozenset(d for d, kind in days if kind == "workday"))
    return clocks, default


def _seconds(clock, start, moment, pauses, waiting_since):
    if moment is None:
        return None
    spans = [(span.lower, span.upper) for span in pauses]
    if waiting_since is not None:
        spans.append((waiting_since, moment))
    return int(clock.working_between(start, moment, spans).total_seconds())


def fill_working_durations(apps, schema_editor):
    """Each ticket answered or resolved, on its policy's calendar (else the default one), its clock's
    stops left out: service.services.tickets.work_seconds, with the models of this migration."""
    Ticket = apps.get_model("service", "Ticket")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    clocks, default = _clocks(apps)
    if default is None:
        return
    calendar_of = dict(SlaPolicy.objects.values_list("pk", "calendar_id"))
    todo = Ticket.objects.filter(Q(first_responded_at__isnull=False) | Q(resolved_at__isnull=False)).order_by("pk")
    last = 0
    while True:
        rows = list(todo.filter(pk__gt=last).values_list(
            "pk", "sla_policy_id", "sla_started_at", "pauses", "waiting_since", "first_responded_at",
            "resolved_at")[:BATCH])
        if not rows:
            return
        ids, first, resolution = [], [], []
        for pk, policy, start, pauses, waiting_since, responded, resolved in rows:
            clock = clocks.get(calendar_of.get(policy)) or clocks[default]
            ids.append(pk)
            first.append(_seconds(clock, start, responded, pauses, waiting_since))
            resolution.append(_seconds(clock, start, resolved, pauses, waiting_since))
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE service_ticket t SET first_response_work_seconds = v.first, resolution_work_seconds = v.res "
                "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, first, res) WHERE t.id = v.id",
                [ids, first, resolution])
        last = ids[-1]


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0009_unique_messages_in_plain_words'),
        ('crm', '0027_import_row_flagged'),
        ('sales', '0010_quote_history_keeps_the_submitter'),
        ('service', '0012_knowledge_base'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='ticket',
            name='first_response_work_seconds',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ticket',
            name='resolution_work_seconds',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(fill_working_durations, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('status__in', ['new', 'open', 'waiting'])), fields=['created_at'], include=('status', 'due_at', 'team', 'assignee', 'id'), name='ticket_open_age'),
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('resolved_at__isnull', False)), fields=['resolved_at'], include=('first_responded_at', 'first_response_due', 'resolution_due', 'first_response_work_seconds', 'resolution_work_seconds', 'team', 'assignee', 'type', 'id'), name='ticket_resolved'),
        ),
        # The report counts a period's resolved tickets per (team, assignee, type): a few hundred groups, which
        # the planner, taking the three for unrelated, expected to be 70,000 and sorted 160,000 rows on disk
        # for (150 ms instead of a 40 ms hash). The ORM has no CREATE STATISTICS; ANALYZE fills it.
        migrations.RunSQL(
            "CREATE STATISTICS ticket_team_assignee_type (ndistinct) ON team_id, assignee_id, type_id "
            "FROM service_ticket; ANALYZE service_ticket",
            "DROP STATISTICS IF EXISTS ticket_team_assignee_type"),
    ]
