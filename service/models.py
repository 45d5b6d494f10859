"""The service desk's tables: working calendars (the hours an SLA clock runs: weekly working windows,
several a day, holidays and 调休 make-up working days, as data admins keep), ticket types and SLA
policies, and the tickets (工单) with their timelines. Tickets are read through the access layer (module
"service": the owner is the assignee, the team the ticket's team); their entries hang off them."""
from django.conf import settings
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.access import AccessRule
from accounts.capabilities import Module
from crm.lib.audit import tracked, tracked_links


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


@tracked("service.WorkCalendar")
class WorkCalendar(models.Model):
    """A working calendar: a time zone, working windows per weekday, holidays and make-up working days.
    One calendar is the default, used where nothing names another."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    is_default = models.BooleanField(_("default calendar"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_calendar"),
        ]

    def __str__(self):
        return self.name


@tracked("service.WorkWindow", parent="calendar", parent_index="all")
class WorkWindow(models.Model):
    """A span of working time on a weekday, e.g. Monday 09:00–12:00. A make-up working day (调休) has
    the windows of the calendar's first weekday that has any (Monday, as a rule)."""

    calendar = models.ForeignKey(WorkCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices,
                                               validators=[MaxValueValidator(6)])
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working window")
        verbose_name_plural = _("working windows")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="window_ends_after_it_starts"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="window_weekday_0_to_6"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


@tracked("service.CalendarDay", parent="calendar", parent_index="all")
class CalendarDay(models.Model):
    """A date that differs from the weekly pattern: a holiday (no working time) or a make-up working
    day (调休: a weekend day worked in exchange for a longer holiday)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    calendar = models.ForeignKey(WorkCalendar, verbose_name=_("calendar"), on_delete=models.CASCADE,
                                 related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True, help_text=_("e.g. 国庆节"))
    name_en = models.CharField(_("English name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_entry_per_calendar_date")]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    WEB = "web", _("Web form")
    ONSITE = "onsite", _("On site")
    OTHER = "other", _("Other")


@tracked("service.TicketType")
class TicketType(models.Model):
    """A kind of ticket admins keep as a picklist (咨询, 故障, 售后, 投诉, 需求 …). A complaint type's
    tickets follow the complaint steps."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    name_en = models.CharField(_("English name"), max_length=40, blank=True)
    is_complaint = models.BooleanField(_("complaint"), default=False,
                                       help_text=_("Its tickets follow the complaint steps."))
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ["order", "id"]

    def __str__(self):
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class TargetUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    HOURS = "hours", _("calendar hours")
    WORKING_DAYS = "working_days", _("working days")


@tracked("service.SlaPolicy")
class SlaPolicy(models.Model):
    """Service targets: the first active policy in order whose conditions all hold for a ticket sets
    its first-response and resolution targets. An empty condition holds for every ticket."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    calendar = models.ForeignKey(WorkCalendar, verbose_name=_("calendar"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="policies",
                                 help_text=_("Empty: the default calendar."))
    tiers = ArrayField(models.CharField(max_length=1), verbose_name=_("customer tiers"), default=list, blank=True)
    priorities = ArrayField(models.CharField(max_length=10), verbose_name=_("priorities"), default=list, blank=True)
    channels = ArrayField(models.CharField(max_length=10), verbose_name=_("channels"), default=list, blank=True)
    types = models.ManyToManyField(TicketType, verbose_name=_("ticket types"), blank=True, related_name="policies")
    first_response = models.DecimalField(_("first response within"), max_digits=6, decimal_places=2,
                                         validators=[MinValueValidator(0)])
    first_response_unit = models.CharField(_("unit"), max_length=15, choices=TargetUnit.choices,
                                           default=TargetUnit.WORKING_HOURS)
    resolution = models.DecimalField(_("resolution within"), max_digits=6, decimal_places=2,
                                     validators=[MinValueValidator(0)])
    resolution_unit = models.CharField(_("unit"), max_length=15, choices=TargetUnit.choices,
                                       default=TargetUnit.WORKING_HOURS)
    warn_remaining_percent = models.PositiveSmallIntegerField(
        _("warn when this much of the target remains (%)"), default=25, validators=[MaxValueValidator(99)])

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(first_response__gte=0, resolution__gte=0), name="sla_targets_not_negative"),
            models.CheckConstraint(condition=Q(warn_remaining_percent__lte=99), name="sla_warning_below_100"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        for target in ("first_response", "resolution"):
            amount = getattr(self, target)
            if getattr(self, f"{target}_unit") == TargetUnit.WORKING_DAYS and amount is not None and amount % 1:
                raise ValidationError({target: _("Working days are whole days.")})

    def holds_for(self, *, tier, priority, type_id, channel):
        """Whether every condition of the policy holds for a ticket with these attributes (the type's
        ids read from a prefetch of `types`)."""
        types = {t.pk for t in self.types.all()}
        return ((not self.tiers or tier in self.tiers) and (not self.priorities or priority in self.priorities)
                and (not self.channels or channel in self.channels) and (not types or type_id in types))


@tracked_links()
class SlaPolicyType(SlaPolicy.types.through):
    """A ticket type a policy is limited to, as the history records it: added or removed."""

    history_name = "tickettype"

    class Meta:
        proxy = True
        verbose_name = _("ticket type of an SLA policy")
        verbose_name_plural = _("ticket types of SLA policies")


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", pgettext_lazy("ticket status", "In progress")
    WAITING = "waiting", pgettext_lazy("ticket status", "Waiting on customer")
    RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


# The statuses of a ticket someone still has to work on.
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)


@tracked("service.Ticket", exclude=["due_at", "pauses", "waiting_since", "first_response_warn_at", "resolution_warn_at",
                                    "first_response_work_seconds", "resolution_work_seconds"],
         model_name="TicketHistory",
         related_name="history_events")
class Ticket(models.Model):
    """A service request (工单) of a customer. Its SLA clock starts at `sla_started_at` and stops while
    it waits on the customer and after it is resolved (`pauses`, and `waiting_since` for the stop under
    way). The deadlines the policy gives are stored; `due_at` is the next one of a running clock (empty
    while it is stopped), by which the queues sort."""

    access_rule = AccessRule(module=Module.SERVICE, owner="assignee", team="team")

    customer = models.ForeignKey("crm.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="tickets")
    contact = models.ForeignKey("crm.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="tickets")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    type = models.ForeignKey(TicketType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="tickets")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    opportunity = models.ForeignKey("sales.Opportunity", verbose_name=_("deal"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="tickets")
    contract = models.ForeignKey("sales.Contract", verbose_name=_("contract"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tickets")
    product = models.ForeignKey("sales.Product", verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="tickets")
    follows = models.ForeignKey("self", verbose_name=_("follows ticket"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="followed_by")
    sla_policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    sla_started_at = models.DateTimeField(_("clock started"))
    pauses = ArrayField(DateTimeRangeField(), default=list, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    due_at = models.DateTimeField(_("next deadline"), null=True, blank=True)
    # When the policy's warning is due for each target (that share of its time left), worked out with
    # the deadlines; the reminder scan compares them with the clock.
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    # The highest escalation step taken by the scan (3: handed to the team lead); each step once.
    escalation = models.PositiveSmallIntegerField(default=0)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # The working time (seconds, the clock's stops left out, on the policy's calendar) from the clock's
    # start to the first response and to the resolution, stored when each happens so that reports
    # aggregate a column (medians, p90) instead of walking calendars ticket by ticket.
    first_response_work_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_work_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The queues: open tickets by assignee, by team, unassigned; each in the queue's order (the next
            # due time, then id), so a page is the first rows of an index scan, not a sort of the backlog
            # (10,000 unassigned tickets sorted took 130 ms).
            models.Index(F("assignee"), F("due_at").asc(nulls_last=True), F("id").asc(), name="ticket_queue_assignee",
                         condition=Q(status__in=["new", "open", "waiting"])),
            models.Index(F("team"), F("due_at").asc(nulls_last=True), F("id").asc(), name="ticket_queue_team",
                         condition=Q(status__in=["new", "open", "waiting"])),
            models.Index(F("due_at").asc(nulls_last=True), F("id").asc(), name="ticket_queue_due",
                         condition=Q(status__in=["new", "open", "waiting"])),
            # The unassigned queue has its own: the planner multiplies "no assignee" by "open" as if they were
            # unrelated (428 rows expected, 10,000 found) and sorted the backlog instead of walking an index.
            models.Index(F("due_at").asc(nulls_last=True), F("id").asc(), name="ticket_queue_unassigned",
                         condition=Q(status__in=["new", "open", "waiting"], assignee=None)),
            models.Index(fields=["customer", "-id"], name="ticket_customer"),
            models.Index(fields=["created_at"], name="ticket_created"),
            # The service report reads these two alone, never the table: the open backlog by status, age
            # and deadline, and the tickets resolved in a period (their times, targets and who had them).
            # Scattered over 2,000,000 tickets, a quarter's 160,000 resolved rows fetched from the table
            # cost a read of most of it.
            models.Index(fields=["created_at"], name="ticket_open_age",
                         include=["status", "due_at", "team", "assignee", "id"],
                         condition=Q(status__in=["new", "open", "waiting"])),
            models.Index(fields=["resolved_at"], name="ticket_resolved", condition=Q(resolved_at__isnull=False),
                         include=["first_responded_at", "first_response_due", "resolution_due",
                                  "first_response_work_seconds", "resolution_work_seconds", "team", "assignee",
                                  "type", "id"]),
        ]

    def __str__(self):
        return f"{self.reference} {self.subject}"

    def get_absolute_url(self):
        return reverse("service:ticket_detail", args=[self.pk])

    @property
    def reference(self):
        """How people and e-mail subjects name the ticket: "#1234"."""
        return f"#{self.pk}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def clock_running(self):
        return self.is_open and self.waiting_since is None

    def overdue(self, now=None):
        return self.due_at is not None and self.due_at < (now or timezone.now())


class EntryKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("ticket entry", "Opened")
    REPLY = "reply", pgettext_lazy("ticket entry", "Reply to the customer")
    MESSAGE = "message", pgettext_lazy("ticket entry", "Message from the customer")
    NOTE = "note", pgettext_lazy("ticket entry", "Internal note")
    STATUS = "status", pgettext_lazy("ticket entry", "Status changed")
    ASSIGNED = "assigned", pgettext_lazy("ticket entry", "Assigned")
    ESCALATED = "escalated", pgettext_lazy("ticket entry", "Escalated to the team lead")
    CHECKED = "checked", pgettext_lazy("ticket entry", "Checklist")
    COMPLAINT = "complaint", pgettext_lazy("ticket entry", "Complaint step")
    CHANGED = "changed", pgettext_lazy("ticket entry", "Changed")


class TicketEntry(models.Model):
    """One line of a ticket's timeline: its opening, a reply to the customer, a message from them, an
    internal note, or a change (status, assignee, priority …) with the old and new values as people
    read them. Written once, never edited."""

    access_rule = AccessRule(parent="ticket")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    body = models.TextField(blank=True)
    field = models.CharField(max_length=30, blank=True)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The Message-ID of the e-mail the entry came in as or went out as (service.services.mail): a
    # customer's reply names it in In-Reply-To/References and so finds its ticket. Empty by default in the
    # database too, for the set-based INSERTs of the timeline (escalation, recompute, seed_scale).
    message_id = models.CharField(max_length=255, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("ticket entry")
        verbose_name_plural = _("ticket entries")
        ordering = ["ticket", "created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="ticketentry_ticket"),
            models.Index(fields=["message_id"], name="ticketentry_message_id", condition=~Q(message_id="")),
        ]

    @property
    def is_internal(self):
        return self.kind == EntryKind.NOTE

    @property
    def field_label(self):
        if not self.field:
            return ""
        return (Complaint if self.kind == EntryKind.COMPLAINT else Ticket)._meta.get_field(self.field).verbose_name

    def _shown(self, value):
        """A value as people read it: a status, priority, channel or complaint step by its label in their
        language, a deadline in their time zone."""
        if self.field in ("first_response_due", "resolution_due") and value:  # kept as ISO 8601 in UTC
            moment = parse_datetime(value)
            return date_format(timezone.localtime(moment), "Y-m-d H:i") if moment else value
        choices = {"status": TicketStatus, "priority": Priority, "channel": Channel, "step": ComplaintStep}.get(
            self.field)
        return choices(value).label if choices and value in choices.values else value

    @property
    def old_shown(self):
        return self._shown(self.old_value)

    @property
    def new_shown(self):
        return self._shown(self.new_value)

    @property
    def is_message(self):
        return self.kind in (EntryKind.CREATED, EntryKind.REPLY, EntryKind.MESSAGE, EntryKind.NOTE)


class TicketTask(models.Model):
    """An item of a ticket's checklist (an after-sales ticket brings its rule's template): ticked once
    done, by whom and when."""

    access_rule = AccessRule(parent="ticket")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="checklist")
    label = models.CharField(_("checklist item"), max_length=200)
    order = models.PositiveSmallIntegerField(default=100)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["ticket", "order", "id"]
        indexes = [models.Index(fields=["ticket", "order"], name="tickettask_ticket")]


@tracked("service.AfterSalesRule")
class AfterSalesRule(models.Model):
    """Per pipeline: when one of its deals is won, open an after-sales ticket of `type` for the customer,
    in `team` (empty: the customer's team), with the checklist (one item per line)."""

    pipeline = models.OneToOneField("sales.Pipeline", verbose_name=_("pipeline"), on_delete=models.CASCADE,
                                    related_name="after_sales_rule")
    is_active = models.BooleanField(_("on won, open a ticket"), default=True)
    type = models.ForeignKey(TicketType, verbose_name=_("ticket type"), on_delete=models.PROTECT, related_name="+")
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text=_("Empty: the customer's team."))
    checklist = models.TextField(_("checklist"), blank=True, help_text=_("One item per line, e.g. 安装调试, 培训, 验收."))

    class Meta:
        verbose_name = _("after-sales rule")
        verbose_name_plural = _("after-sales rules")

    def __str__(self):
        return str(self.pipeline)

    def checklist_items(self):
        return [line.strip()[:200] for line in self.checklist.splitlines() if line.strip()]


class TicketAttachment(models.Model):
    """A file that came with a ticket's opening, a reply or a note (`entry`), stored under MEDIA_ROOT and
    served only through the ticket's access-checked view, always as a download."""

    access_rule = AccessRule(parent="ticket")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    entry = models.ForeignKey(TicketEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["ticket", "id"]
        indexes = [models.Index(fields=["ticket"], name="ticketattachment_ticket")]


class InboundMail(models.Model):
    """An e-mail the service mailbox job read (service.services.mail), recorded in the transaction that
    acted on it: a message is processed once, whether it is met again under its UID (a run that died
    before marking it read) or under another one (the same message delivered twice)."""

    class Outcome(models.TextChoices):
        CREATED = "created", pgettext_lazy("mail", "Opened a ticket")
        APPENDED = "appended", pgettext_lazy("mail", "Added to a ticket")
        IGNORED = "ignored", pgettext_lazy("mail", "Ignored")

    mailbox = models.CharField(max_length=200)
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255, unique=True)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=200, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")
        constraints = [models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="inbound_mail_once")]
        indexes = [models.Index(fields=["ticket"], name="inboundmail_ticket", condition=Q(ticket__isnull=False))]


class TicketMail(models.Model):
    """The e-mail a reply to the customer goes out as, one per reply: to whom, and how its sending went.
    Claimed before each attempt (`claimed_until`), so a task run twice sends it once; a failed attempt
    waits until `next_attempt_at`, and after SERVICE_MAIL_SEND_ATTEMPTS it is failed for good."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("mail", "Waiting to be sent")
        SENT = "sent", pgettext_lazy("mail", "Sent")
        FAILED = "failed", pgettext_lazy("mail", "Not sent")

    entry = models.OneToOneField(TicketEntry, on_delete=models.CASCADE, related_name="mail")
    to = models.CharField(max_length=254)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("reply e-mail")
        verbose_name_plural = _("reply e-mails")
        indexes = [models.Index(fields=["next_attempt_at"], name="ticketmail_due", condition=Q(status="pending"))]


class Survey(models.Model):
    """The satisfaction survey of a resolved ticket: CSAT 1–5 with a comment, and NPS 0–10 when it is the
    customer's first survey of the quarter. Its link carries a signed token, of which only the hash is
    kept; it expires `expires_at`; an answer may be changed for SURVEY_CHANGE_HOURS. A low score (CSAT 1–2,
    NPS 0–6) reminds the team lead until someone records the follow-up."""

    access_rule = AccessRule(parent="ticket")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    asks_nps = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    mailed_to = models.CharField(max_length=254, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True,
                                            validators=[MinValueValidator(1), MaxValueValidator(5)])
    nps = models.PositiveSmallIntegerField(_("likelihood to recommend"), null=True, blank=True,
                                           validators=[MaxValueValidator(10)])
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [
            models.Index(fields=["customer", "created_at"], name="survey_customer"),
            models.Index(fields=["answered_at"], name="survey_answered", condition=Q(answered_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(csat__gte=1, csat__lte=5) | Q(csat=None), name="survey_csat_1_5"),
            models.CheckConstraint(condition=Q(nps__lte=10) | Q(nps=None), name="survey_nps_0_10"),
        ]

    @property
    def is_low(self):
        return (self.csat is not None and self.csat <= 2) or (self.nps is not None and self.nps <= 6)


class ComplaintStep(models.TextChoices):
    REGISTERED = "registered", pgettext_lazy("complaint", "Registered")
    ACCEPTED = "accepted", pgettext_lazy("complaint", "Accepted")
    CALLBACK = "callback", pgettext_lazy("complaint", "Call-back")
    CALLED_BACK = "called_back", pgettext_lazy("complaint", "Called back")
    CLOSED = "closed", pgettext_lazy("complaint", "Closed")


class RootCause(models.TextChoices):
    PRODUCT = "product", _("Product quality")
    SERVICE = "service", _("Service attitude")
    RESPONSE = "response", _("Slow response")
    DELIVERY = "delivery", _("Late or wrong delivery")
    BILLING = "billing", _("Billing dispute")
    PROCESS = "process", _("Process or rule")
    OTHER = "other", _("Other")


@tracked("service.Complaint", parent="ticket", parent_index="all")
class Complaint(models.Model):
    """The complaint steps of a ticket whose type is a complaint: 登记 (registered with the ticket) → 受理
    (accepted, the ticket's first response, within its policy's target) → 处理 (handled: the root cause
    and what is changed so it does not happen again, 溯源整改; the ticket is resolved) → 回访 (a call-back
    by someone other than the handler, who records whether the customer accepts the outcome; not
    accepted sends it back to handling) → 结案 (closed, only with a root cause and an accepted call-back)."""

    access_rule = AccessRule(parent="ticket")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="complaint")
    step = models.CharField(_("step"), max_length=12, choices=ComplaintStep.choices, default=ComplaintStep.REGISTERED)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    root_cause_kind = models.CharField(_("root cause"), max_length=10, choices=RootCause.choices, blank=True)
    root_cause = models.TextField(_("what caused it"), blank=True)
    corrective_action = models.TextField(_("what we change so it does not happen again"), blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    called_back_at = models.DateTimeField(_("called back"), null=True, blank=True)
    called_back_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    customer_accepts = models.BooleanField(_("the customer accepts the outcome"), null=True, blank=True)
    callback_note = models.TextField(_("call-back notes"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Fewest open tickets")
    TEAM_QUEUE = "team_queue", _("The team's queue (unassigned)")


@tracked("service.AssignmentRule", exclude=["last_assignee"])
class AssignmentRule(models.Model):
    """Who gets a ticket the system opens (the web form, e-mail): the first active rule in order whose
    conditions all hold sends it to `team`, to one of its agents by `method` or into its queue. An empty
    condition holds for every ticket. `last_assignee` is the round robin's place, not a setting (so not
    in the history)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    tiers = ArrayField(models.CharField(max_length=1), verbose_name=_("customer tiers"), default=list, blank=True)
    channels = ArrayField(models.CharField(max_length=10), verbose_name=_("channels"), default=list, blank=True)
    types = models.ManyToManyField(TicketType, verbose_name=_("ticket types"), blank=True,
                                   related_name="assignment_rules")
    provinces = ArrayField(models.CharField(max_length=30), verbose_name=_("customer provinces"), default=list,
                           blank=True)
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("assign"), max_length=15, choices=AssignmentMethod.choices,
                              default=AssignmentMethod.ROUND_ROBIN)
    last_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name

    def holds_for(self, *, tier, channel, type_id, province):
        """Whether every condition of the rule holds for a ticket with these attributes (the type's ids
        read from a prefetch of `types`; the province matched exactly)."""
        types = {t.pk for t in self.types.all()}
        return ((not self.tiers or tier in self.tiers) and (not self.channels or channel in self.channels)
                and (not types or type_id in types) and (not self.provinces or province in self.provinces))


@tracked_links()
class AssignmentRuleType(AssignmentRule.types.through):
    """A ticket type an assignment rule is limited to, as the history records it: added or removed."""

    history_name = "tickettype"

    class Meta:
        proxy = True
        verbose_name = _("ticket type of an assignment rule")
        verbose_name_plural = _("ticket types of assignment rules")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("article", "Draft")
    PUBLISHED = "published", pgettext_lazy("article", "Published")
    ARCHIVED = "archived", pgettext_lazy("article", "Archived")


@tracked("service.ArticleCategory")
class ArticleCategory(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("knowledge category")
        verbose_name_plural = _("knowledge categories")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


@tracked("service.Article", exclude=["views", "search_text", "terms"])
class Article(models.Model):
    """A knowledge-base article (知识库) agents write in the browser: a draft until published, archived when
    out of date. `search_text` (the folded text, the title's pinyin) finds it by fragments and pinyin;
    `terms` (its two-character Chinese words and Latin words) rank it against a ticket's text."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    category = models.ForeignKey(ArticleCategory, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="articles")
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    views = models.PositiveIntegerField(_("views"), default=0)
    search_text = models.TextField(default="", blank=True, editable=False)
    terms = ArrayField(models.CharField(max_length=40), default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="article_search_trgm"),
            GinIndex(fields=["terms"], name="article_terms"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("service:article_detail", args=[self.pk])


class ArticleVote(models.Model):
    """Whether an article helped one reader ("有帮助吗？"): one vote each, which they may change."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="one_vote_per_article_and_user")]


class TicketArticle(models.Model):
    """An article linked to a ticket (from the suggestions or a search), by whom and when."""

    access_rule = AccessRule(parent="ticket")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="article_links")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "article"], name="article_linked_once")]
