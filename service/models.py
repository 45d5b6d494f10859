"""The service desk's tables. So far its working calendars: the hours an SLA clock runs (weekly
working windows, several a day), the holidays and the 调休 make-up working days, as data admins keep."""
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

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
