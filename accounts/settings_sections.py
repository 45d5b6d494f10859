"""The accounts app's section of the settings area: users, teams, roles, the access check and the
audit log (see accounts.settings_area)."""
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .capabilities import Capability
from .settings_area import Link, register_section


def _overview(user):
    """The counts on the settings index, in three queries."""
    from .selectors import settings_overview

    counts = settings_overview()
    return {
        "users": (counts["users_active"], ngettext("active, of %(total)s account", "active, of %(total)s accounts",
                                                    counts["users_total"]) % {"total": counts["users_total"]}),
        "teams": (counts["teams"], _("in the department tree")),
        "roles": (counts["roles"], _("capabilities and data scopes")),
    }


MANAGE = Capability.MANAGE_USERS

register_section(
    "accounts", _("Users and access"), order=10, urls="accounts.settings_urls.urlpatterns",
    moved_from="accounts/settings/", overview=_overview, links=[
        Link("users", _("Users"), "settings:accounts:users", MANAGE, icon="person"),
        Link("teams", _("Teams"), "settings:accounts:teams", MANAGE, icon="diagram-3"),
        Link("roles", _("Roles"), "settings:accounts:roles", MANAGE, icon="shield-lock"),
        Link("access", _("Access check"), "settings:accounts:access_check", MANAGE, icon="question-circle",
             description=_("Why can a user see a record?")),
        Link("audit_log", _("Audit log"), "settings:accounts:audit_log", Capability.VIEW_AUDIT_LOG,
             icon="journal-text", description=_("Every change of every record, who and when")),
    ])
