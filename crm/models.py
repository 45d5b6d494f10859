"""The customer core. Issue #3 grows Customer into the full record; the foundation keeps the
fields the access layer needs (owner and team) so scoping is exercised from day one."""
import pghistory
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.access import AccessRule
from accounts.capabilities import Module


@pghistory.track()
class Customer(models.Model):
    access_rule = AccessRule(module=Module.CUSTOMERS)

    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="customers_owned",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="customers",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["owner", "-id"], name="customer_owner_recent"),
            models.Index(fields=["team", "-id"], name="customer_team_recent"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("crm:customer_detail", args=[self.pk])
