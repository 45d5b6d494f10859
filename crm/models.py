"""The customer core: customers, contacts, follow-ups, admin-configured picklists, the customer pool
(公海), merges and exports. Every customer row is read through the access layer (`accounts.access`);
contacts and follow-ups follow their customer."""

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.access import AccessRule
from accounts.capabilities import Module

from .lib import lookups  # noqa: F401 - registers the `like` and `any_of` lookups
from .lib.audit import tracked, tracked_links, unless_skipped
from .lib.models import QueuedTask  # noqa: F401 - the platform's table, registered with this app


@tracked("crm.Choice")
class Choice(models.Model):
    """One entry of an admin-edited picklist. `code` is stable (code and imports refer to it);
    the labels are what people read, in Chinese and English."""

    class Kind(models.TextChoices):
        INDUSTRY = "industry", _("Industry")
        SOURCE = "source", _("Source")
        FOLLOWUP_KIND = "followup_kind", _("Follow-up kind")
        TIER = "tier", _("Tier")
        LOST_REASON = "lost_reason", _("Lost reason")

    kind = models.CharField(_("list"), max_length=20, choices=Kind.choices)
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("label (Chinese)"), max_length=60)
    label_en = models.CharField(_("label (English)"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("picklist entry")
        verbose_name_plural = _("picklist entries")
        ordering = ["kind", "order", "id"]
        constraints = [models.UniqueConstraint(
            fields=["kind", "code"], name="choice_unique_code",
            violation_error_message=_("This list already has an entry with this code."))]

    def __str__(self):
        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label


# PoolEvent (and Pool.events) are the customers moving in and out.
@tracked("crm.Pool", model_name="PoolHistoryEvent", related_name="history_events")
class Pool(models.Model):
    """A customer pool (公海): customers without an owner wait here for a member team's reps.
    The rules are applied by the nightly `pool_apply_rules` job; an empty number switches a rule off."""

    name = models.CharField(_("name"), max_length=60, unique=True, error_messages={
        "unique": _("There is already a pool with this name.")})
    teams = models.ManyToManyField(
        "accounts.Team", verbose_name=_("member teams"), blank=True, related_name="pools",
        help_text=_("Reps of these teams and their sub-teams see the pool and may claim from it."),
    )
    is_default = models.BooleanField(
        _("default pool"), default=False,
        help_text=_("Released customers of teams that belong to no pool go here."))
    idle_days_a = models.PositiveSmallIntegerField(_("tier A: days without follow-up"), null=True, blank=True)
    idle_days_b = models.PositiveSmallIntegerField(_("tier B: days without follow-up"), null=True, blank=True)
    idle_days_c = models.PositiveSmallIntegerField(_("tier C: days without follow-up"), null=True, blank=True)
    no_deal_days_a = models.PositiveSmallIntegerField(_("tier A: days after claim without a deal"), null=True, blank=True)
    no_deal_days_b = models.PositiveSmallIntegerField(_("tier B: days after claim without a deal"), null=True, blank=True)
    no_deal_days_c = models.PositiveSmallIntegerField(_("tier C: days after claim without a deal"), null=True, blank=True)
    exempt_deal = models.BooleanField(_("customers with a deal never return"), default=True)
    exempt_locked = models.BooleanField(_("locked customers never return"), default=True)
    reclaim_block_days = models.PositiveSmallIntegerField(
        _("days before a previous owner may claim again"), default=0)
    daily_claim_limit = models.PositiveSmallIntegerField(
        _("claims per rep per day"), null=True, blank=True)
    owner_cap = models.PositiveIntegerField(_("most customers a rep may own"), null=True, blank=True)
    cap_counts_deal = models.BooleanField(_("customers with a deal count towards the cap"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer pool")
        verbose_name_plural = _("customer pools")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(
            fields=["is_default"], condition=models.Q(is_default=True), name="pool_one_default")]

    def __str__(self):
        return self.name

    def idle_days(self, tier):
        return getattr(self, f"idle_days_{tier.lower()}", None)

    def no_deal_days(self, tier):
        return getattr(self, f"no_deal_days_{tier.lower()}", None)

    def get_absolute_url(self):
        return reverse("crm:pool_detail", args=[self.pk])


@tracked_links()
class PoolTeam(Pool.teams.through):
    """A team's membership of a pool, as the history records it: added or removed."""

    history_name = "team"

    class Meta:
        proxy = True
        verbose_name = _("member team of a pool")
        verbose_name_plural = _("member teams of pools")


class Tier(models.TextChoices):
    A = "A", _("A (key)")
    B = "B", _("B (regular)")
    C = "C", _("C (low priority)")


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("Company")
    PERSON = "person", _("Individual")
    GOVERNMENT = "government", _("Government body")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    FOLLOWING = "following", _("Following up")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class DealStatus(models.TextChoices):
    NONE = "none", _("No deal yet")
    WON = "won", _("Deal won")


class CustomerQuerySet(models.QuerySet):
    def live(self):
        """Neither archived nor merged away."""
        return self.filter(archived_at__isnull=True, merged_into__isnull=True)


_SEARCH_COPY = """
    INSERT INTO crm_customersearch (customer_id, text) VALUES (NEW.id, NEW.search_text)
    ON CONFLICT (customer_id) DO UPDATE SET text = EXCLUDED.text;
    RETURN NULL;"""


# Bulk writes (the import and its undo, the pool's nightly return) write customers in sets, with their
# events in one statement (crm.lib.audit.insert_recorded, record_inserts, delete_recorded): these triggers
# can be skipped for that.
@tracked("crm.Customer", skippable=("insert", "update", "delete"),
         exclude=["search_text", "name_key", "last_followup_at"])
class Customer(models.Model):
    """A customer (客户). Industry, source and created-by are foreign keys without a database
    constraint: the services and the import only ever write ids they have just read, Django applies
    their on_delete (PROTECT, SET_NULL) itself, and the constraint's check of every row cost an
    import of 100,000 customers a second at its commit. Owner, team and pool, which the access
    rules depend on, keep theirs."""

    access_rule = AccessRule(module=Module.CUSTOMERS, pool="pool")

    kind = models.CharField(_("type"), max_length=12, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    industry = models.ForeignKey(
        Choice, verbose_name=_("industry"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind": Choice.Kind.INDUSTRY}, db_index=False, db_constraint=False)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices, default=Tier.B)
    source = models.ForeignKey(
        Choice, verbose_name=_("source"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind": Choice.Kind.SOURCE}, db_index=False, db_constraint=False)
    status = models.CharField(
        _("status"), max_length=12, choices=CustomerStatus.choices, default=CustomerStatus.PROSPECT)
    tags = ArrayField(models.CharField(max_length=30), verbose_name=_("tags"), default=list, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="customers_owned", db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="customers", db_index=False,
    )
    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="customers", db_index=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", db_index=False, db_constraint=False)
    claimed_at = models.DateTimeField(_("owned since"), null=True, blank=True)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    deal_status = models.CharField(
        _("deal status"), max_length=8, choices=DealStatus.choices, default=DealStatus.NONE)
    deal_date = models.DateField(_("deal date"), null=True, blank=True)
    deal_amount = models.DecimalField(_("deal amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    locked = models.BooleanField(
        _("locked"), default=False, help_text=_("A locked customer never returns to the pool by rule."))
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False)
    # Kept by the services: the normalised name for duplicate checks, one lower-case text for search
    # (name, its pinyin and initials, two-character words, phones, email, contacts), and a counter
    # that makes a second, stale save fail instead of overwriting.
    name_key = models.CharField(max_length=200, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "-id"], name="customer_owner_recent"),
            models.Index(fields=["team", "-id"], name="customer_team_recent"),
            models.Index(fields=["owner", "next_followup_at"], name="customer_owner_next"),
            models.Index(fields=["pool", "-id"], name="customer_pool_recent",
                         condition=models.Q(owner__isnull=True)),
            models.Index(fields=["name_key"], name="customer_name_key"),
            models.Index(fields=["mobile"], name="customer_mobile", condition=~models.Q(mobile="")),
            models.Index(fields=["email"], name="customer_email", condition=~models.Q(email="")),
            # Few customers are merged: the foreign key's checks (a deleted customer) need only those.
            models.Index(fields=["merged_into"], name="customer_merged_into",
                         condition=models.Q(merged_into__isnull=False)),
        ]
        # The search text is copied to CustomerSearch, which carries the trigram index, as it is
        # written; a large import skips the copy and fills the search rows after its commit.
        triggers = [
            pgtrigger.Trigger(name="search_copy_insert", when=pgtrigger.After, operation=pgtrigger.Insert,
                              condition=unless_skipped("crm.Customer:search_copy_insert"), func=_SEARCH_COPY),
            pgtrigger.Trigger(name="search_copy_update", when=pgtrigger.After,
                              operation=pgtrigger.UpdateOf("search_text"),
                              condition=pgtrigger.Q(old__search_text__df=pgtrigger.F("new__search_text")),
                              func=_SEARCH_COPY),
            pgtrigger.Trigger(name="search_copy_delete", when=pgtrigger.After, operation=pgtrigger.Delete,
                              condition=unless_skipped("crm.Customer:search_copy_delete"),
                              func="DELETE FROM crm_customersearch WHERE customer_id = OLD.id; RETURN NULL;"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("crm:customer_detail", args=[self.pk])

    @property
    def in_pool(self):
        return self.owner_id is None


class CustomerSearch(models.Model):
    """A customer's search text (crm.lib.text.search_text) under the trigram index that `LIKE` searches
    use, in a narrow table of its own: the customer row is written without touching the index, and
    a large import fills its customers' search rows after its commit (crm.services.imports)."""

    customer = models.OneToOneField(Customer, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False,
                                    related_name="+")
    text = models.TextField()

    class Meta:
        indexes = [GinIndex(OpClass("text", name="gin_trgm_ops"), name="customer_search_trgm")]


@tracked("crm.Contact", skippable=("insert", "delete"), parent="customer")
class Contact(models.Model):
    access_rule = AccessRule(module=Module.CUSTOMERS, parent="customer")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="contacts", db_index=False)  # contact_customer leads with it
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["customer", "id"], name="contact_customer")]
        constraints = [models.UniqueConstraint(
            fields=["customer"], condition=models.Q(is_primary=True), name="contact_one_primary")]

    def __str__(self):
        return self.name


# The scale seed writes millions of follow-ups without events.
@tracked("crm.FollowUp", skippable=("insert",), parent="customer")
class FollowUp(models.Model):
    """One call, visit, message or meeting with a customer (跟进记录)."""

    history_name = "at"

    access_rule = AccessRule(module=Module.CUSTOMERS, parent="customer")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="followups")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="followups")
    kind = models.ForeignKey(Choice, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+",
                             limit_choices_to={"kind": Choice.Kind.FOLLOWUP_KIND})
    at = models.DateTimeField(_("when"))
    summary = models.TextField(_("summary"))
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_followup_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"], name="followup_customer_at")]

    def __str__(self):
        return f"{self.customer_id} {self.at:%Y-%m-%d}"


class PoolEvent(models.Model):
    """Customers moving in and out of pools: the claim limit, the re-claim block and the timeline read it."""

    class Kind(models.TextChoices):
        CLAIM = "claim", _("claimed from the pool")
        ASSIGN = "assign", _("assigned from the pool")
        RELEASE = "release", _("released to the pool")
        RETURN = "return", _("returned to the pool by rule")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="pool_events")
    pool = models.ForeignKey(Pool, null=True, on_delete=models.SET_NULL, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The owner after a claim or assignment; the previous one after a release or return.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["by", "kind", "at"], name="poolevent_by_kind_at"),
            models.Index(fields=["customer", "owner", "at"], name="poolevent_customer_owner"),
        ]


class SavedView(models.Model):
    """A customer-list filter a user saved under a name."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_name")]

    def __str__(self):
        return self.name


class CustomerMerge(models.Model):
    """Several customers merged into one, with what is needed to undo it."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    merged_ids = ArrayField(models.BigIntegerField())
    # {"survivor": {field: old value}, "moved": {"contact": [ids], "followup": [ids], ...}}
    snapshot = models.JSONField(default=dict)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["-at"]


class Export(models.Model):
    """A customer-list export to .xlsx. Small ones are written in the request; large ones by a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    query = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


@tracked("crm.ImportMapping")
class ImportMapping(models.Model):
    """A column mapping saved under a name, reused for the next file of the same layout:
    {heading_key: field key} and extra tier words {word: "A"}."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    columns = models.JSONField(default=dict)
    tier_words = models.JSONField(default=dict, blank=True)
    # What to do with a picklist value the lists do not have: {field key: {value: "add" | "empty" | value}}.
    value_choices = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportPolicy(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    FILL = "fill", _("Fill empty fields only")
    OVERWRITE = "overwrite", _("Overwrite with the file's values")


class ImportBatch(models.Model):
    """One file imported (or being imported): who, when, which file, how it was read and mapped,
    what was decided for duplicates, and what came of every row. Its rows are in ImportRow; what
    it created or changed, for undo, in ImportRecord."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWING = "previewing", _("Checking rows")
        PREVIEWED = "previewed", _("Checked, waiting to import")
        COMMITTING = "committing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        UNDOING = "undoing", _("Undoing")
        UNDONE = "undone", _("Undone")
        # Its undo left some customers as they were (listed in `conflicts`); it can be run again.
        PARTLY_UNDONE = "partly_undone", _("Partly undone")

    class UnknownOwner(models.TextChoices):
        POOL = "pool", _("Put the customer in the pool")
        DEFAULT = "default", _("Give the customer to the chosen owner")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    file = models.FileField(upload_to="imports/", blank=True)
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_size = models.BigIntegerField(default=0)
    file_format = models.CharField(max_length=8, blank=True)
    sheet_names = models.JSONField(default=list)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    header_row = models.IntegerField(null=True, blank=True, help_text="0-based index of the heading row")
    headings = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text="{column index: field key}")
    guesses = models.JSONField(default=dict, blank=True,
                               help_text="{column index: [field key, confidence]} as the columns were guessed")
    mapping_name = models.CharField(max_length=60, blank=True)
    tier_words = models.JSONField(default=dict, blank=True)
    # The importer's choice for each value a picklist field does not know (as ImportMapping's).
    value_choices = models.JSONField(default=dict, blank=True)
    policy = models.CharField(_("duplicates"), max_length=10, choices=ImportPolicy.choices, default=ImportPolicy.SKIP)
    unknown_owner = models.CharField(_("unknown owners"), max_length=10, choices=UnknownOwner.choices,
                                     default=UnknownOwner.POOL)
    default_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    pool = models.ForeignKey(Pool, verbose_name=_("pool"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    counts = models.JSONField(default=dict)
    preview = models.JSONField(default=list)
    error = models.TextField(blank=True)
    error_report = models.FileField(upload_to="imports/reports/", blank=True)
    cancel_requested = models.BooleanField(default=False)
    conflicts = models.JSONField(default=list, blank=True)
    previewed_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"#{self.pk} {self.file_name}"

    def get_absolute_url(self):
        return reverse("crm:import_detail", args=[self.pk])


class ImportRow(models.Model):
    """One data row of an import file, cleaned, with its verdict. Written with COPY, read by the
    set-based commit, the preview and the error report."""

    class Verdict(models.TextChoices):
        NEW = "new", _("New")
        EXISTING = "existing", _("Duplicate of an existing customer")
        IN_FILE = "in_file", _("Duplicate of an earlier row")
        ERROR = "error", _("Error")

    # No database constraint on the batch (nor on ImportRecord's): only the import writes these rows,
    # with the id of the batch it holds, and Django cascades a batch's deletion itself. Checking
    # 100,000 rows against one batch row cost the check and the commit a quarter second each.
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows", db_index=False,
                              db_constraint=False)
    row_number = models.IntegerField()
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    reason = models.TextField(blank=True)
    first_row = models.IntegerField(null=True)
    match = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL, db_constraint=False, related_name="+")
    match_on = models.CharField(max_length=10, blank=True)
    # The id the customer of a new row gets: reserved from the customers' sequence when the rows are
    # checked, so the commit joins customer, contact and undo record without rewriting the rows.
    new_id = models.BigIntegerField(null=True)
    name_key = models.CharField(max_length=200, blank=True)
    mobile = models.CharField(max_length=32, blank=True)
    email = models.CharField(max_length=254, blank=True)
    data = models.JSONField(default=dict)
    original = models.JSONField(default=list)
    # The row (not an error) has a cell left out or a picklist word no list has (data["warnings"] or
    # data["unknown"]): the queries for those read only the flagged rows' data, not every row's.
    flagged = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="importrow_unique")]


class ImportRecord(models.Model):
    """A customer an import created or changed: what undo removes or restores. `before` holds the
    changed fields' earlier values; `version` the customer's version right after the import (a
    later edit makes it differ, and undo then leaves that customer alone). `undone_at` is set once
    this record's undo was applied, and for a restored customer `undone_version` is its version
    right after the restore: a later import undone since then does not count as an edit of an
    earlier one's customer (crm/services/imports/undo.py follows that chain)."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records", db_index=False,
                              db_constraint=False)
    customer = models.ForeignKey(Customer, null=True, on_delete=models.SET_NULL, db_constraint=False,
                                 related_name="+")
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True)
    version = models.PositiveIntegerField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "customer"], name="importrecord_unique")]
        # The undo of an earlier import looks up the undone later records of its customers.
        indexes = [models.Index(fields=["customer"], condition=models.Q(undone_version__isnull=False),
                                name="importrecord_undone_customer")]


class ImportRawValue(models.Model):
    """A cell an import could not store in its field (a value no calendar has, a phone nobody can dial, a
    picklist value left empty), kept as the file had it and shown on the customer's page ("导入原始值").
    Written by the commit in one statement; an undone import takes its own with it."""

    # No database constraints, as ImportRow's: the import and its undo write and delete these in sets, and
    # the raw SQL that removes customers (an undo) does not have to know about them.
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="raw_values", db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="import_raw_values",
                                 db_constraint=False)
    row_number = models.IntegerField()
    field = models.CharField(max_length=40)
    heading = models.CharField(max_length=200)
    raw = models.TextField()
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["customer"], name="importrawvalue_customer")]


# Notifications (reminders) ----------------------------------------------------------------------
# The rules themselves are code (crm/notifications/rules.py); these tables hold what admins set,
# what was raised (keyed so that each rule fires once per record and due period), what people
# chose to receive, and the e-mails on their way.

@tracked("crm.NotificationRule")
class NotificationRule(models.Model):
    """An admin's settings for one rule of the registry: on/off and its parameters (JSON, checked
    by the rule's form). A rule without a row runs with its defaults."""

    history_name = "key"

    key = models.SlugField(_("rule"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        ordering = ["key"]

    def __str__(self):
        return self.key


class Notification(models.Model):
    """One reminder raised for one person about one record. The scan inserts these set-based; the
    unique key (rule, recipient, record, period) makes a second or overlapping scan insert nothing.
    `resolved_at` is set by the scan once the condition no longer holds (the reminder stops)."""

    # Indexed by notification_recipient (recipient first), not by an index of its own; and no database
    # constraint: checking it cost a first scan of a large book (2.3M rows) a third of its time, and
    # users are deactivated, not deleted (Django still cascades a deletion made through the ORM).
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                                  db_index=False, db_constraint=False)
    rule = models.CharField(_("rule"), max_length=40)
    # The record: its model is the rule's (crm.notifications.RULES[rule].model), so no content type.
    object_id = models.BigIntegerField()
    # What makes this occurrence distinct: the due time, the stage stay, the silence stretch...
    period = models.CharField(max_length=60)
    due_at = models.DateTimeField(_("due"), null=True)
    subject = models.CharField(_("record"), max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("raised"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Grouping: when one scan raises more than the rule's `group_over` items of one kind for one
    # person, they arrive as ONE group row (is_group, object_id 0, data["count"] / data["open"]) and
    # each item row points at it (`group`): the items keep the unique key, the resolving and the
    # e-mail rules of single reminders; only the group is shown (bell, centre, digest, My day).
    is_group = models.BooleanField(default=False, db_default=False)
    group = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="members",
                              db_index=False, db_constraint=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        # The unique key also serves the scan's "reminder stops" step (rule first); a separate index of
        # the open reminders per rule cost a fifth of the insert time on 2.3M rows and saved nothing.
        # Every index costs the first scan of a large book dearly (2.3M rows at scale): the ones here
        # are each needed by a query; the record's model follows from the rule.
        constraints = [models.UniqueConstraint(
            fields=["rule", "recipient", "object_id", "period"], name="notification_once")]
        indexes = [
            # A person's notifications, newest first (the centre), and the bell's count of the open ones
            # (rule, read and resolved included: answered from the index once the table is vacuumed).
            # The group's items are left out of both by group_id, so it is in the index too.
            models.Index(fields=["recipient", "-id"], name="notification_recipient",
                         include=["rule", "read_at", "resolved_at", "group"]),
            # A group's items: its count, its link (the list filtered to them), its resolving.
            models.Index(fields=["group"], name="notification_group", condition=models.Q(group__isnull=False)),
        ]

    def __str__(self):
        return f"{self.rule} {self.object_id} → {self.recipient_id}"

    @property
    def is_open(self):
        return self.read_at is None and self.resolved_at is None

    def data_time(self, key):
        """A time the rule kept in `data` (JSON holds it as ISO text)."""
        value = self.data.get(key)
        return parse_datetime(value) if isinstance(value, str) else None


class NotificationPreference(models.Model):
    """How one person wants one rule delivered; no row means in-app only (the digest: by e-mail).
    The key "digest" stands for the morning digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences")
    rule = models.CharField(max_length=40)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by e-mail"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "rule"], name="notificationpreference_unique")]


class EmailDelivery(models.Model):
    """One e-mail to send: a notification's, or a person's morning digest of one day (unique per
    person and day, which makes the digest go once). Retried with growing pauses up to a cap, picked
    up by a periodic task by `next_attempt_at` (no long countdowns on the broker); after the last
    attempt it is `failed` and shown to admins."""

    class Kind(models.TextChoices):
        NOTIFICATION = "notification", _("Reminder")
        DIGEST = "digest", _("Morning digest")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Nothing to send")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notification = models.OneToOneField(Notification, null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="email")
    digest_day = models.DateField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # Set when a batch is queued, so the periodic task does not queue it again meanwhile.
    queued_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["user", "digest_day"], condition=models.Q(kind="digest"),
                                               name="emaildelivery_one_digest")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="emaildelivery_due", condition=models.Q(status="pending")),
            models.Index(fields=["-id"], name="emaildelivery_failed", condition=models.Q(status="failed")),
        ]
