"""The settings area: one place, under /settings/, with a section per app.

Each app describes its own settings section in `<app>/settings_sections.py` (found at start-up, as the
Django admin finds `admin.py`):

    from accounts.settings_area import Link, register_section
    register_section(
        "sales", _("Sales"), order=30, urls="sales.settings_urls.urlpatterns", moved_from="sales/settings/",
        links=[Link("pipelines", _("Sales pipelines"), "settings:sales:pipelines",
                    Capability.CONFIGURE_PIPELINE, icon="kanban"), ...])

The machinery then serves the section's URLs under /settings/<key>/ (names "settings:<key>:<name>"),
lists on the settings index and in the one sidebar exactly the links the user's capabilities allow,
shows the top navigation's 设置 entry to whoever has one, and answers the section's old prefix
(`moved_from`) with a permanent redirect to the same page in its new place, query string kept.
A link's capability only decides what is listed: each view still declares what it needs
(`capability_required`), and a view refuses (403) whoever lacks it, as before.

The machinery names no app's tables: what it knows of an app is what the app registered.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import URLPattern, include, path, re_path, reverse
from django.utils.module_loading import autodiscover_modules, import_string

from .access import user_access

__all__ = ["Link", "Section", "autodiscover", "register_section", "registered_sections", "sections_for"]

MODULE_NAME = "settings_sections"


@dataclass(frozen=True)
class Link:
    """One page of a section: `key` marks it active in the sidebar (unique across the area), `url_name`
    is its full name ("settings:<section>:<name>"), `capability` the one the user needs to see it listed."""

    key: str
    label: str
    url_name: str
    capability: str
    icon: str = "gear"
    description: str = ""

    @property
    def slug(self):
        """The key as the page's test ids spell it ("discount_rules" → "discount-rules")."""
        return self.key.replace("_", "-")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    links: tuple[Link, ...]
    order: int = 100
    urls: str = ""  # dotted path of the section's urlpatterns list
    moved_from: tuple[str, ...] = ()  # the section's old URL prefixes, without the leading slash
    # (user) -> {link key: (figure, caption)}, shown on the settings index; a fixed number of queries
    overview: Callable | None = None

    def links_for(self, access):
        return [link for link in self.links if access.has(link.capability)]

    def url_patterns(self):
        return import_string(self.urls) if self.urls else []

    def has_root(self):
        return any(isinstance(p, URLPattern) and str(p.pattern) == "" for p in self.url_patterns())


_registry: dict[str, Section] = {}


def register_section(key, title, *, links, order=100, urls="", moved_from=(), overview=None):
    """Add (or replace) the settings section `key`: its pages under /settings/<key>/ and its links."""
    if isinstance(moved_from, str):
        moved_from = (moved_from,)
    section = Section(key=key, title=title, links=tuple(links), order=order, urls=urls,
                      moved_from=tuple(moved_from), overview=overview)
    taken = {link.key for other in _registry.values() if other.key != key for link in other.links}
    clash = taken & {link.key for link in section.links}
    if clash:
        raise ImproperlyConfigured(f"Settings link keys used twice: {sorted(clash)}")
    _registry[key] = section
    return section


def unregister_section(key):
    _registry.pop(key, None)


def registered_sections():
    return sorted(_registry.values(), key=lambda s: (s.order, s.key))


def autodiscover():
    """Import every installed app's `settings_sections` module (AccountsConfig.ready calls this)."""
    autodiscover_modules(MODULE_NAME)


def sections_for(user):
    """The sections `user` may open, in order, each with only the links their capabilities allow:
    [{"section": Section, "links": [Link, ...]}]. No query beyond the user's roles (read once)."""
    access = user_access(user)
    found = []
    for section in registered_sections():
        links = section.links_for(access)
        if links:
            found.append({"section": section, "links": links})
    return found


def may_open(access):
    """Whether a UserAccess holds the capability of at least one registered link (the 设置 entry)."""
    return any(section.links_for(access) for section in registered_sections())


# Views -----------------------------------------------------------------------------------------

@login_required
def settings_index(request):
    """Every section the user may open, with its links; 403 for a user who may open none."""
    sections = sections_for(request.user)
    if not sections:
        raise PermissionDenied
    for entry in sections:
        overview = entry["section"].overview
        figures = overview(request.user) if overview else {}
        entry["cards"] = [{"link": link, "figure": figures.get(link.key)} for link in entry["links"]]
    return render(request, "settings/index.html", {"sections": sections, "settings_section": "index"})


def moved(request, *, section_key, rest):
    """An old settings URL: a permanent redirect to the same page under /settings/<section>/, with its
    query string (308 for a non-GET, so a form posted to an old address is posted again, not dropped)."""
    section = _registry[section_key]
    if rest or section.has_root():
        target = f"{reverse('settings:index')}{section.key}/{rest}"
    else:
        target = reverse("settings:index")
    query = request.META.get("QUERY_STRING", "")
    if query:
        target = f"{target}?{query}"
    response = HttpResponsePermanentRedirect(target)
    if request.method not in ("GET", "HEAD"):
        response.status_code = 308
    return response


# URLs ------------------------------------------------------------------------------------------

def urlpatterns():
    """/settings/ itself, then each section's pages under /settings/<key>/ (namespace "settings:<key>")."""
    patterns = [path("", settings_index, name="index")]
    for section in registered_sections():
        patterns.append(path(f"{section.key}/", include((section.url_patterns(), section.key))))
    return patterns


def moved_patterns():
    """The redirects of every section's old prefixes, for the project's root URLconf."""
    return [
        re_path(rf"^{re.escape(old)}(?P<rest>.*)$", moved, {"section_key": section.key})
        for section in registered_sections()
        for old in section.moved_from
    ]
