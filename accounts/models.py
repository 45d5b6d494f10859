"""Users, the team tree, roles with data scopes, and manual shares of single records."""
from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.audit import tracked, tracked_links

from .capabilities import Capability, LandingPage, Scope


@tracked("accounts.Team")
class Team(models.Model):
    """A node in the department tree. `path` holds the ids from the root, e.g. "/1/4/9/",
    so a whole subtree is one indexed prefix match."""

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("team lead"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    path = models.CharField(max_length=255, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["path"]
        indexes = [
            models.Index(OpClass("path", name="varchar_pattern_ops"), name="team_path_prefix"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="team_unique_name_per_parent",
                violation_error_message=_("There is already a team of this name in the same place.")),
        ]

    def __str__(self):
        return self.name

    @property
    def depth(self):
        return max(self.path.count("/") - 2, 0)

    @property
    def ancestor_ids(self):
        """Ids from the root down to and including this team."""
        return [int(part) for part in self.path.strip("/").split("/") if part]


@tracked("accounts.User", exclude=["password", "last_login"])
class User(AbstractUser):

    history_name = ("display_name", "username")
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, null=True, blank=True, unique=True, error_messages={
        "unique": _("This mobile number is already used by another user.")})
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans",
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="members",
    )
    manager = models.ForeignKey(
        "self", verbose_name=_("manager"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="direct_reports",
    )
    roles = models.ManyToManyField("Role", verbose_name=_("roles"), blank=True, related_name="users")
    must_change_password = models.BooleanField(_("must change password"), default=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        indexes = [models.Index(Upper("username"), name="user_username_upper")]

    def __str__(self):
        return self.display_name or self.username

    @property
    def name(self):
        return self.display_name or self.get_full_name() or self.username


@tracked("accounts.Role")
class Role(models.Model):
    """A set of capabilities plus one data scope per module. A user may hold several roles;
    their scopes add up (the union of what each allows)."""

    name = models.CharField(_("name"), max_length=100, unique=True, error_messages={
        "unique": _("There is already a role with this name.")})
    description = models.CharField(_("description"), max_length=255, blank=True)
    capabilities = ArrayField(
        models.CharField(max_length=64, choices=Capability.choices),
        verbose_name=_("capabilities"), default=list, blank=True,
    )
    customers_scope = models.PositiveSmallIntegerField(
        _("customers data scope"), choices=Scope.choices, default=Scope.OWN)
    sales_scope = models.PositiveSmallIntegerField(
        _("sales data scope"), choices=Scope.choices, default=Scope.OWN)
    service_scope = models.PositiveSmallIntegerField(
        _("service data scope"), choices=Scope.choices, default=Scope.NONE)
    marketing_scope = models.PositiveSmallIntegerField(
        _("marketing data scope"), choices=Scope.choices, default=Scope.NONE)
    landing_page = models.CharField(
        _("home page"), max_length=20, choices=LandingPage.choices, default=LandingPage.CUSTOMERS)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100,
        help_text=_("When a user holds several roles, the home page of the role with the lowest number is used."),
    )

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["priority", "name"]

    def __str__(self):
        return self.name

    def scope_for(self, module):
        return getattr(self, f"{module}_scope")


@tracked_links()
class UserRole(User.roles.through):
    """A role held by a user, as the history records it: granted or taken away."""

    history_name = "role"

    class Meta:
        proxy = True
        verbose_name = _("role of a user")
        verbose_name_plural = _("roles of users")


class ShareQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


@tracked("accounts.Share")
class Share(models.Model):
    """One record shared by hand with a user or a whole team (and its sub-teams)."""

    history_name = ("user", "team")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="shares_received",
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="shares_received",
    )
    can_edit = models.BooleanField(_("can edit"), default=False)
    expires_at = models.DateTimeField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="shares_made",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShareQuerySet.as_manager()
    history_select = ("user", "team")  # what its name reads

    class Meta:
        verbose_name = _("share")
        verbose_name_plural = _("shares")
        indexes = [
            models.Index(fields=["content_type", "user", "object_id"], name="share_ct_user_obj"),
            models.Index(fields=["content_type", "team", "object_id"], name="share_ct_team_obj"),
            models.Index(fields=["content_type", "object_id"], name="share_ct_obj"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, team__isnull=True)
                           | models.Q(user__isnull=True, team__isnull=False)),
                name="share_exactly_one_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.content_type_id}:{self.object_id} → {self.user or self.team}"

    @property
    def recipient(self):
        return self.user or self.team

    @property
    def is_active(self):
        return self.expires_at is None or self.expires_at > timezone.now()
