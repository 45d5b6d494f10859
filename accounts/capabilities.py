"""What a role can be allowed to do, and the data scopes it can be given per module.

Capabilities are defined in code because each one guards code; which role holds which is data
that admins edit in the settings area.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.TextChoices):
    MANAGE_USERS = "accounts.users:manage", _("Manage users, teams and roles")
    CONFIGURE_PIPELINE = "sales.stage:configure", _("Configure pipelines and stages")
    MANAGE_TARGETS = "sales.target:manage", _("Set sales targets")
    IMPORT_DATA = "crm.data:import", _("Import data")
    EXPORT_DATA = "crm.data:export", _("Export data")
    VIEW_DASHBOARDS = "reports.dashboard:view", _("View dashboards")
    MANAGE_SERVICE = "service.settings:manage", _("Manage service settings")
    MANAGE_CAMPAIGNS = "marketing.campaign:manage", _("Manage campaigns")
    CONFIGURE_CUSTOMERS = "crm.settings:configure", _("Configure picklists and customer pools")
    ASSIGN_FROM_POOL = "crm.pool:assign", _("Assign customers from the pool and in bulk")
    MERGE_CUSTOMERS = "crm.customer:merge", _("Merge duplicate customers")
    PURGE_CUSTOMERS = "crm.customer:purge", _("Delete archived customers for good")
    LOCK_CUSTOMERS = "crm.customer:lock", _("Lock customers, so the pool's rules never take them back")
    VIEW_AUDIT_LOG = "accounts.audit:view", _("Read the audit log of every record")


class Module(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")


class Scope(models.IntegerChoices):
    """Data scopes, narrowest first. The number orders them; a higher one is wider."""

    NONE = 0, _("No access")
    OWN = 10, _("Own records")
    OWN_AND_SUBORDINATES = 20, _("Own and subordinates' records")
    TEAM = 30, _("Own team")
    TEAM_AND_SUBTEAMS = 40, _("Own team and sub-teams")
    ALL = 50, _("All records")


class LandingPage(models.TextChoices):
    MY_DAY = "my_day", _("My day")
    CUSTOMERS = "customers", _("Customers")
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")
    REPORTS = "reports", _("Reports")
    SETTINGS = "settings", _("Settings")
