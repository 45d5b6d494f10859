"""The customer core's sections of the settings area (see accounts.settings_area): picklists and
customer pools, and the reminder rules with the e-mails that failed."""
from django.utils.translation import gettext_lazy as _

from accounts.access_check import register_checkable
from accounts.capabilities import Capability
from accounts.settings_area import Link, register_section

from .models import Customer
from .selectors import customers_for_access_check

CONFIGURE = Capability.CONFIGURE_CUSTOMERS

register_section(
    "customers", _("Customers"), order=20, urls="crm.views.crm_settings.urlpatterns",
    moved_from="customers/settings/", links=[
        Link("picklists", _("Picklists"), "settings:customers:picklists", CONFIGURE, icon="list-ul",
             description=_("Industries, sources, follow-up kinds and tiers")),
        Link("pools", _("Customer pools"), "settings:customers:pools", CONFIGURE, icon="water",
             description=_("Which teams share a pool, and when customers return to it")),
    ])

# The reminders are the customer core's platform, but their rules are the admins' (MANAGE_USERS).
register_section(
    "reminders", _("Reminders"), order=40, urls="crm.views.notifications.settings_urlpatterns",
    moved_from="notifications/settings/", links=[
        Link("notification_rules", _("Reminder rules"), "settings:reminders:rules", Capability.MANAGE_USERS,
             icon="bell", description=_("What the bell reminds of, and when")),
        Link("notification_failures", _("Failed e-mails"), "settings:reminders:failures", Capability.MANAGE_USERS,
             icon="envelope-exclamation", description=_("Reminder e-mails that could not be sent")),
    ])

# The admin's access check (设置 › 访问说明) looks customers up by id or name, through the access layer.
register_checkable("customer", Customer, customers_for_access_check, order=10,
                   placeholder=_("Customer id or part of the name"))
