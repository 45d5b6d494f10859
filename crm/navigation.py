"""The top navigation: each section shows only when the user's roles open it."""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import settings_area
from accounts.access import user_access
from accounts.capabilities import Capability, LandingPage, Module

SECTIONS = [
    # key, label, url name, icon, test on UserAccess
    (LandingPage.MY_DAY, _("My day"), "crm:my_day", "sun", lambda a: a.can_open(Module.CUSTOMERS)),
    (LandingPage.CUSTOMERS, _("Customers"), "crm:customer_list", "people", lambda a: a.can_open(Module.CUSTOMERS)),
    (LandingPage.SALES, _("Sales"), "sales:index", "graph-up-arrow", lambda a: a.can_open(Module.SALES)),
    (LandingPage.SERVICE, _("Service"), "service:index", "headset", lambda a: a.can_open(Module.SERVICE)),
    (LandingPage.MARKETING, _("Marketing"), "marketing:index", "megaphone", lambda a: a.can_open(Module.MARKETING)),
    (LandingPage.REPORTS, _("Reports"), "reports:index", "bar-chart", lambda a: a.has(Capability.VIEW_DASHBOARDS)),
    # one entry for the whole settings area, shown to whoever may open one of its registered pages
    (LandingPage.SETTINGS, _("Settings"), "settings:index", "gear", settings_area.may_open),
]


def sections_for(user):
    """The sections `user` may open, in order, as dicts for the template."""
    access = user_access(user)
    return [
        {"key": key, "label": label, "url": reverse(url_name), "icon": icon}
        for key, label, url_name, icon, allowed in SECTIONS
        if allowed(access)
    ]


def home_url_for(user):
    """The user's home: the landing page of their first role if they may open it,
    else the first section they may open, else their profile."""
    sections = sections_for(user)
    wanted = user_access(user).landing_page
    for section in sections:
        if section["key"] == wanted:
            return section["url"]
    if sections:
        return sections[0]["url"]
    return reverse("accounts:profile")
