"""Sales: pipelines and their stages (with gates), the product catalogue, opportunities (商机) and
their stage history. Opportunities are read through the access layer (module "sales"); pipelines,
stages, gates and products are configuration, edited by holders of sales.stage:configure."""
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import ExpressionWrapper, F, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import AccessRule
from accounts.capabilities import Module
from crm.lib.audit import tracked, tracked_links


@tracked("sales.Pipeline")
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


@tracked_links()
class PipelineTeam(Pipeline.teams.through):
    """A team limited to a pipeline, as the history records it: added or removed."""

    history_name = "team"

    class Meta:
        proxy = True
        verbose_name = _("team of a pipeline")
        verbose_name_plural = _("teams of pipelines")


class StageKind(models.TextChoices):
    OPEN = "open", pgettext_lazy("stage", "Open")
    WON = "won", pgettext_lazy("stage", "Won")
    LOST = "lost", pgettext_lazy("stage", "Lost")
    INVALID = "invalid", pgettext_lazy("stage", "Invalid")


@tracked("sales.Stage")
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


@tracked("sales.GateItem")
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


@tracked("sales.Product")
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


class OpportunityQuerySet(models.QuerySet):
    def stale(self, now=None):
        """Open deals longer in their stage than the stage allows: more than `stale_after_days` whole
        days, as `Opportunity.stale_days` counts them (the board, the dashboard, the reminders)."""
        now = now or timezone.now()
        limit = ExpressionWrapper(Value(now) - (F("stage__stale_after_days") + 1) * Value(datetime.timedelta(days=1)),
                                  output_field=models.DateTimeField())
        return self.filter(closed_at=None, stage__stale_after_days__isnull=False, stage_entered_at__lte=limit)


@tracked("sales.Opportunity", exclude=["lines_priced_by"])
class Opportunity(models.Model):
    """A deal (商机) with a customer, moving through its pipeline's stages."""

    access_rule = AccessRule(module=Module.SALES)
    objects = OpportunityQuerySet.as_manager()

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
    campaign = models.ForeignKey("marketing.Campaign", verbose_name=_("campaign"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="opportunities")
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    lost_reason = models.ForeignKey("crm.Choice", verbose_name=_("lost reason"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Who set the prices and discounts of the deal's lines (user ids): a quote made from them counts
    # them as having set its discount, so they never approve it. Set-based loaders leave it to the
    # database's default.
    lines_priced_by = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False,
                                 db_default=Value("{}"))
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
            # The dashboard (reports.selectors): deals closed in a period, deals created in a period (the
            # conversion's cohort) and the open deals, each with the columns its figures read, so that
            # PostgreSQL can answer from the index alone once the table is vacuumed.
            models.Index(fields=["closed_at"], name="opportunity_dash_closed",
                         include=["pipeline", "stage", "owner", "team", "amount", "probability", "created_at"],
                         condition=models.Q(closed_at__isnull=False)),
            models.Index(fields=["pipeline", "created_at"], name="opportunity_dash_created", include=["owner", "team"]),
            models.Index(fields=["team", "owner"], name="opportunity_dash_open",
                         # closed_at too: always empty here, but the figures' conditions name it, and
                         # a column only in the index's WHERE does not serve an index-only scan.
                         include=["id", "pipeline", "stage", "amount", "probability", "expected_close",
                                  "stage_entered_at", "closed_at"],
                         condition=models.Q(closed_at=None)),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="opportunity_probability"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="opportunity_amount"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:opportunity_detail", args=[self.pk])

    @cached_property
    def stale_days(self):
        """Days in the current stage when that is longer than the stage allows, else 0 (an open deal
        only; needs `stage` loaded). The same rule as OpportunityQuerySet.stale, in Python."""
        limit = self.stage.stale_after_days
        days = (timezone.now() - self.stage_entered_at).days
        return days if self.closed_at is None and limit is not None and days > limit else 0

    @property
    def is_stale(self):
        return bool(self.stale_days)


@tracked("sales.GateTick", parent="opportunity", parent_index="all")
class GateTick(models.Model):
    """A gate item ticked for one deal: who and when."""

    history_name = "item"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="ticks")
    item = models.ForeignKey(GateItem, on_delete=models.CASCADE, related_name="+")
    ticked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    ticked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ticked gate item")
        verbose_name_plural = _("ticked gate items")
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


def _line_total(quantity, unit_price, discount_percent):
    """A line's amount after its discount, to the fen (cent)."""
    gross = (quantity or 0) * (unit_price or 0)
    return (gross * (100 - (discount_percent or 0)) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class LineItem(models.Model):
    """A product on a deal or a quote: quantity × unit price, less a discount in percent. The list
    price is copied in when the line is made, so changing the catalogue later changes no deal."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2, default=1)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2, default=0)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2, default=0)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=0,
                                           validators=[MinValueValidator(0), MaxValueValidator(100)])
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        abstract = True

    @property
    def list_total(self):
        return _line_total(self.quantity, self.list_price, 0)

    @property
    def total(self):
        return _line_total(self.quantity, self.unit_price, self.discount_percent)


@tracked("sales.OpportunityLine", parent="opportunity", parent_index="all")
class OpportunityLine(LineItem):
    """A product line on a deal. With lines, the deal's amount is their total."""

    history_name = "product"

    access_rule = AccessRule(parent="opportunity")

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        verbose_name = _("line item")
        verbose_name_plural = _("line items")
        ordering = ["opportunity", "order", "id"]
        indexes = [models.Index(fields=["opportunity", "order"], name="opportunityline_opportunity")]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="opportunityline_quantity")]


@tracked("sales.DocumentNumbering")
class DocumentNumbering(models.Model):
    """How quotes and contracts are numbered, e.g. "BJ-Q{yyyy}{mm}-{seq:4}": {yyyy} {yy} {mm} {dd} are
    the date, {seq:N} a counter padded to N digits that starts again when the rest of the number
    changes (each month, in the example)."""

    history_name = "kind"

    class Kind(models.TextChoices):
        QUOTE = "quote", _("Quote")
        CONTRACT = "contract", _("Contract")

    DEFAULTS = {"quote": "Q{yyyy}{mm}{dd}-{seq:3}", "contract": "HT{yyyy}{mm}-{seq:4}"}

    kind = models.CharField(_("document"), max_length=10, choices=Kind.choices, unique=True)
    pattern = models.CharField(_("number pattern"), max_length=60)

    class Meta:
        verbose_name = _("document numbering")
        verbose_name_plural = _("document numbering")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.pattern}"


class NumberCounter(models.Model):
    """The last number handed out for one kind of document and one number prefix (the pattern with
    the date filled in). Locked row by row, so two quotes never get one number."""

    kind = models.CharField(max_length=10, choices=DocumentNumbering.Kind.choices)
    prefix = models.CharField(max_length=80)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "prefix"], name="numbercounter_unique")]


@tracked("sales.DiscountRule")
class DiscountRule(models.Model):
    """A quote whose total discount is over `over_percent` needs an approval: from the rep's manager,
    or from a holder of `role` (e.g. 销售总监). Every active rule a quote passes adds one approval."""

    history_name = "over_percent"

    class Approver(models.TextChoices):
        MANAGER = "manager", _("The rep's manager")
        ROLE = "role", _("A holder of a role")

    over_percent = models.DecimalField(_("discount over (%)"), max_digits=5, decimal_places=2,
                                       validators=[MinValueValidator(0), MaxValueValidator(100)])
    approver = models.CharField(_("approved by"), max_length=10, choices=Approver.choices, default=Approver.MANAGER)
    role = models.ForeignKey("accounts.Role", verbose_name=_("role"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("discount approval rule")
        verbose_name_plural = _("discount approval rules")
        ordering = ["over_percent", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(approver="role") | models.Q(role__isnull=False),
                                   name="discountrule_role_needed"),
        ]

    def __str__(self):
        return f"> {self.over_percent}%"


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("quote", "Draft")
    PENDING = "pending", pgettext_lazy("quote", "Awaiting approval")
    APPROVED = "approved", pgettext_lazy("quote", "Approved")
    REJECTED = "rejected", pgettext_lazy("quote", "Rejected")
    SENT = "sent", pgettext_lazy("quote", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote", "Accepted")


@tracked("sales.Quote", exclude=["priced_by"])
class Quote(models.Model):
    """A quote (报价单) for a deal: numbered lines, an extra discount on the whole, totals, a validity
    date and a status. Totals are kept on the row (set by the services whenever lines change)."""

    access_rule = AccessRule(parent="opportunity")

    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT,
                                    related_name="quotes")
    number = models.CharField(_("number"), max_length=80, unique=True)
    title = models.CharField(_("quote title"), max_length=120)
    status = models.CharField(_("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    extra_discount_percent = models.DecimalField(
        _("discount on the whole (%)"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    list_total = models.DecimalField(_("list total"), max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    terms = models.TextField(_("terms and notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Whoever set the discount (user ids: the quote's creator, the deal lines' authors, and everyone
    # who changed its prices or discounts since) or submitted it never approves it.
    priced_by = ArrayField(models.BigIntegerField(), default=list, blank=True, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-id"]
        indexes = [models.Index(fields=["opportunity", "-id"], name="quote_opportunity")]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("sales:quote_detail", args=[self.pk])

    @property
    def discount_percent(self):
        """The total discount off the list prices, in percent (what the approval rules look at)."""
        if not self.list_total:
            return Decimal(0)
        return ((1 - self.total / self.list_total) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@tracked("sales.QuoteLine", parent="quote", parent_index="all", trigger_names={"update": "update_quote_line"})
class QuoteLine(LineItem):

    history_name = "product"
    access_rule = AccessRule(parent="quote")

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "order", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="quoteline_quantity")]


class ApprovalDecision(models.TextChoices):
    PENDING = "pending", pgettext_lazy("approval", "Pending")
    APPROVED = "approved", pgettext_lazy("approval", "Approved")
    REJECTED = "rejected", pgettext_lazy("approval", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("approval", "Withdrawn")


@tracked("sales.QuoteApproval", parent="quote", parent_index="all")
class QuoteApproval(models.Model):
    """One approval a submitted quote needs, routed by a discount rule: to one person (the rep's
    manager) or to the holders of a role. The quote is approved when all of its approvals are, and
    rejected as soon as one is."""

    history_name = ("approver", "approver_role")

    access_rule = AccessRule(parent="quote")

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    rule = models.ForeignKey(DiscountRule, null=True, on_delete=models.SET_NULL, related_name="+")
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approver"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    approver_role = models.ForeignKey("accounts.Role", verbose_name=_("approver role"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("decision"), max_length=10, choices=ApprovalDecision.choices,
                                default=ApprovalDecision.PENDING)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote approval")
        verbose_name_plural = _("quote approvals")
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(fields=["approver", "requested_at"], name="quoteapproval_inbox_user",
                         condition=models.Q(decision="pending")),
            models.Index(fields=["approver_role", "requested_at"], name="quoteapproval_inbox_role",
                         condition=models.Q(decision="pending")),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(approver__isnull=False) | models.Q(approver_role__isnull=False),
                                   name="quoteapproval_routed"),
        ]


class ContractStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("contract", "In force")
    COMPLETED = "completed", pgettext_lazy("contract", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("contract", "Cancelled")


@tracked("sales.Contract")
class Contract(models.Model):
    """A contract (合同) for a won deal, or from its accepted quote, with a payment plan."""

    access_rule = AccessRule(parent="opportunity")

    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT,
                                    related_name="contracts")
    quote = models.ForeignKey(Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="contracts")
    number = models.CharField(_("number"), max_length=80, unique=True)
    title = models.CharField(_("contract title"), max_length=120)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    signed_on = models.DateField(_("signed on"))
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ContractStatus.choices,
                              default=ContractStatus.ACTIVE)
    terms = models.TextField(_("terms and notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["opportunity", "-id"], name="contract_opportunity")]

    def __str__(self):
        return f"{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("sales:contract_detail", args=[self.pk])


class InstalmentStatus(models.TextChoices):
    DUE = "due", pgettext_lazy("instalment", "Awaiting payment")
    PARTIAL = "partial", pgettext_lazy("instalment", "Partly paid")
    PAID = "paid", pgettext_lazy("instalment", "Paid")
    OVERDUE = "overdue", pgettext_lazy("instalment", "Overdue")


@tracked("sales.Instalment", parent="contract", parent_index="all")
class Instalment(models.Model):
    """One planned payment (回款计划) of a contract: due date and amount; `paid` is the sum of the
    payments recorded against it, kept by the services. Overdue is set by a beat job."""

    history_select = ("contract",)  # what its name reads

    access_rule = AccessRule(parent="contract")

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField(_("instalment"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=0)
    status = models.CharField(_("status"), max_length=10, choices=InstalmentStatus.choices,
                              default=InstalmentStatus.DUE)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["contract", "number"]
        indexes = [models.Index(fields=["due_on"], name="instalment_open_due",
                                condition=~models.Q(status="paid"))]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="instalment_unique_number"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="instalment_amount"),
            models.CheckConstraint(condition=models.Q(paid__gte=0), name="instalment_paid"),
        ]

    def __str__(self):
        return f"{self.contract.number} #{self.number}"

    @property
    def outstanding(self):
        return max(self.amount - self.paid, Decimal(0))


@tracked("sales.Payment", parent="instalment", parent_index="all")
class Payment(models.Model):
    """Money received (回款) against an instalment."""

    history_name = "amount"

    access_rule = AccessRule(parent="instalment")

    instalment = models.ForeignKey(Instalment, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(Decimal("0.01"))])
    received_on = models.DateField(_("received on"))
    method = models.CharField(_("method"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["instalment", "received_on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount")]


class TargetPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


@tracked("sales.Target")
class Target(models.Model):
    """A sales target for one rep or one team for a month or a quarter (starting on `starts_on`, the
    first day of the period): won amount and number of won deals. Set by managers."""

    history_name = ("user", "team")

    period = models.CharField(_("period"), max_length=10, choices=TargetPeriod.choices)
    starts_on = models.DateField(_("period starts"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rep"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="sales_targets")
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="sales_targets")
    amount = models.DecimalField(_("won amount"), max_digits=14, decimal_places=2, default=0,
                                 validators=[MinValueValidator(0)])
    count = models.PositiveIntegerField(_("won deals"), default=0)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True) | models.Q(user__isnull=True,
                                                                                     team__isnull=False),
                name="target_user_or_team"),
            models.UniqueConstraint(fields=["period", "starts_on", "user"], name="target_unique_user",
                                    condition=models.Q(user__isnull=False)),
            models.UniqueConstraint(fields=["period", "starts_on", "team"], name="target_unique_team",
                                    condition=models.Q(team__isnull=False)),
        ]
