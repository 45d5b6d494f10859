"""Sales: pipelines and their stages (with gates), the product catalogue, opportunities (商机) and
their stage history. Opportunities are read through the access layer (module "sales"); pipelines,
stages, gates and products are configuration, edited by holders of sales.stage:configure."""
import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import AccessRule
from accounts.capabilities import Module


class Pipeline(models.Model):
    """A sales process, e.g. 项目型销售 or 渠道销售. With teams set, only those teams (and their
    sub-teams) open deals in it; without, every team does."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    teams = models.ManyToManyField("accounts.Team", verbose_name=_("teams"), blank=True, related_name="pipelines",
                                   help_text=_("Leave empty for every team."))
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("stage", "Open")
    WON = "won", pgettext_lazy("stage", "Won")
    LOST = "lost", pgettext_lazy("stage", "Lost")
    INVALID = "invalid", pgettext_lazy("stage", "Invalid")


@pghistory.track()
class Stage(models.Model):
    """A step of a pipeline. Entering it may need fields filled (`required_fields`) and checklist
    items ticked (GateItem). A retired stage takes no new deals; the deals in it and the history
    that names it stay as they are."""

    # Opportunity fields a gate may require (the names of Opportunity fields).
    GATE_FIELDS = {
        "contact": _("contact"),
        "amount": _("amount"),
        "expected_close": _("expected close date"),
        "next_step": _("next step"),
        "source": _("source"),
    }

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE,
                                 related_name="stages")
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=10,
                                                   validators=[MaxValueValidator(100)])
    stale_after_days = models.PositiveSmallIntegerField(
        _("stale after (days)"), null=True, blank=True,
        help_text=_("A deal that stays longer in this stage counts as stale. Empty: never."))
    required_fields = models.JSONField(_("fields required to enter"), default=list, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(probability__lte=100), name="stage_probability")]

    def __str__(self):
        return self.name

    @property
    def is_closed(self):
        return self.kind != StageKind.OPEN


class GateItem(models.Model):
    """A checklist item that must be ticked before a deal may enter `stage`, e.g. 技术评审 ticked by a
    holder of the role 技术评审. Without a role, anyone who may edit the deal ticks it."""

    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="gate_items")
    label = models.CharField(_("checklist item"), max_length=100)
    role = models.ForeignKey("accounts.Role", verbose_name=_("ticked by role"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("gate item")
        verbose_name_plural = _("gate items")
        ordering = ["stage", "order", "id"]

    def __str__(self):
        return self.label


class Product(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=20, default="", blank=True)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2, default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


@pghistory.track(exclude=["updated_at", "version"])
class Opportunity(models.Model):
    """A deal (商机) with a customer, moving through its pipeline's stages."""

    access_rule = AccessRule(module=Module.SALES)

    customer = models.ForeignKey("crm.Customer", verbose_name=_("customer"), on_delete=models.PROTECT,
                                 related_name="opportunities")
    contact = models.ForeignKey("crm.Contact", verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="opportunities")
    name = models.CharField(_("name"), max_length=120)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), validators=[MaxValueValidator(100)])
    probability_reason = models.CharField(_("why the probability differs from the stage's"), max_length=200,
                                          blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey("crm.Choice", verbose_name=_("source"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    lost_reason = models.ForeignKey("crm.Choice", verbose_name=_("lost reason"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # The board: a pipeline's open deals, and its recently closed ones.
            models.Index(fields=["pipeline", "stage", "-id"], name="opportunity_board_open",
                         condition=models.Q(closed_at=None)),
            models.Index(fields=["pipeline", "closed_at"], name="opportunity_board_closed",
                         condition=models.Q(closed_at__isnull=False)),
            models.Index(fields=["owner", "-id"], name="opportunity_owner_recent"),
            models.Index(fields=["team", "-id"], name="opportunity_team_recent"),
            models.Index(fields=["customer", "-id"], name="opportunity_customer"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="opportunity_probability"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="opportunity_amount"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:opportunity_detail", args=[self.pk])


class GateTick(models.Model):
    """A gate item ticked for one deal: who and when."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="ticks")
    item = models.ForeignKey(GateItem, on_delete=models.CASCADE, related_name="+")
    ticked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ticked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["opportunity", "item"], name="gatetick_unique")]


class StageVisit(models.Model):
    """A deal's time in one stage: entered, left (empty while it is there), by whom it was moved."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_visits")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["opportunity", "entered_at", "id"]
        indexes = [models.Index(fields=["opportunity", "entered_at"], name="stagevisit_opportunity")]

    @property
    def duration(self):
        return (self.left_at - self.entered_at) if self.left_at else None
