"""The accounts section of the settings area (/settings/accounts/, registered in settings_sections.py):
users, teams, roles, the access explainer and the audit log, for admins in the product UI.

Every view needs MANAGE_USERS (the audit log VIEW_AUDIT_LOG). Views parse a form, call a service in accounts/services.py or a
selector in accounts/selectors.py, and render; a ValidationError from a service is shown on the form.
"""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.lib.inputs import BadInput

from . import selectors, services
from .access import may_manage, user_access
from .access_check import checkables, records_matching
from .capabilities import Capability, Module, Scope
from .filters import UserFilter
from .forms import (
    AccessCheckForm,
    AuditLogForm,
    RoleForm,
    TeamForm,
    UserCreateForm,
    UserEditForm,
    UserPasswordResetForm,
)
from .models import Team
from .permissions import capability_required
from .views import show_service_error

USERS_PER_PAGE = 25

manage_users = capability_required(Capability.MANAGE_USERS)


def render_settings(request, template, context, *, section, status=200):
    """Render a settings page; `section` marks the active entry of the sub-navigation."""
    return render(request, template, {**context, "settings_section": section}, status=status)


# Users -----------------------------------------------------------------------------------------

def _manageable_user(request, pk):
    """The user `pk` (404 if none) if the signed-in user may change their account, else 403: their
    roles hold rights the signed-in user does not (accounts.services)."""
    target = get_object_or_404(selectors.users_for_settings(), pk=pk)
    if not may_manage(request.user, target):
        raise PermissionDenied
    return target


@manage_users
def user_list(request):
    filters = UserFilter(request.GET or None, queryset=selectors.users_for_settings())
    page = Paginator(filters.qs, USERS_PER_PAGE).get_page(request.GET.get("page"))
    selectors.mark_manageable(request.user, page.object_list)
    template = "settings/user_list.html#results" if request.htmx else "settings/user_list.html"
    return render_settings(request, template, {"filters": filters, "page": page}, section="users")


@manage_users
def user_create(request):
    form = UserCreateForm(request.POST or None, editor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("User %(name)s created. They must change the password at first sign-in.")
                             % {"name": user.name})
            return redirect("settings:accounts:user_edit", user.pk)
    return render_settings(request, "settings/user_form.html", {"form": form}, section="users")


@manage_users
def user_edit(request, pk):
    target = _manageable_user(request, pk)
    form = UserEditForm(request.POST or None, instance=target, editor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=target, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            # user_update's own rules are about the tree: the manager chain, or the team and manager
            # that would widen the editor's own reach (those name their field).
            show_service_error(form, error, field="manager")
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": target.name})
            return redirect("settings:accounts:user_edit", target.pk)
    if form.is_bound:  # validation wrote the submitted values onto the instance: show the saved ones
        target.refresh_from_db(fields=["display_name", "is_active"])
    return render_settings(request, "settings/user_form.html", {"form": form, "target": target}, section="users")


@manage_users
def user_password(request, pk):
    target = _manageable_user(request, pk)
    form = UserPasswordResetForm(request.POST or None, user=target)
    if request.method == "POST" and form.is_valid():
        services.user_reset_password(user=target, password=form.cleaned_data["password1"], by=request.user)
        messages.success(request, _("Temporary password set for %(name)s. They must change it at next sign-in.")
                         % {"name": target.name})
        return redirect("settings:accounts:user_edit", target.pk)
    return render_settings(request, "settings/user_password.html", {"form": form, "target": target}, section="users")


def _set_active(request, pk, active):
    target = _manageable_user(request, pk)
    try:
        services.user_update(user=target, by=request.user, is_active=active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if active:
            messages.success(request, _("User %(name)s reactivated.") % {"name": target.name})
        else:
            messages.success(request, _("User %(name)s deactivated. They can no longer sign in.") % {"name": target.name})
    return redirect("settings:accounts:user_edit", target.pk)


@manage_users
@require_POST
def user_deactivate(request, pk):
    return _set_active(request, pk, False)


@manage_users
@require_POST
def user_reactivate(request, pk):
    return _set_active(request, pk, True)


# Teams -----------------------------------------------------------------------------------------

@manage_users
def team_list(request):
    return render_settings(request, "settings/team_list.html", {"teams": selectors.teams_tree()}, section="teams")


@manage_users
def team_create(request):
    form = TeamForm(request.POST or None, initial={"parent": request.GET.get("parent")})
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("settings:accounts:teams")
    return render_settings(request, "settings/team_form.html", {"form": form}, section="teams")


@manage_users
def team_edit(request, pk):
    team = get_object_or_404(selectors.teams_tree(), pk=pk)
    form = TeamForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(team=team, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            # team_update's own rule is about where the team may move.
            show_service_error(form, error, field="parent")
        else:
            messages.success(request, _("Team %(name)s saved.") % {"name": team.name})
            return redirect("settings:accounts:teams")
    return render_settings(request, "settings/team_form.html", {"form": form, "team": team}, section="teams")


def confirm_delete(request, obj, delete, *, section, list_url, question, note, done):
    """GET asks `question`; POST calls `delete()` (a service) and goes back to the list, or shows
    the service's refusal on the same page with status 422."""
    error = None
    if request.method == "POST":
        try:
            delete()
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, done)
            return redirect(list_url)
    return render_settings(request, "settings/confirm_delete.html", {
        "object": obj, "error": error, "cancel_url": list_url, "question": question, "note": note,
    }, section=section, status=422 if error else 200)


@manage_users
def team_delete(request, pk):
    team = get_object_or_404(Team, pk=pk)
    return confirm_delete(
        request, team, lambda: services.team_delete(team=team, by=request.user),
        section="teams", list_url="settings:accounts:teams",
        question=_("Delete the team %(name)s?") % {"name": team.name},
        note=_("Only a team without members and sub-teams can be deleted."),
        done=_("Team %(name)s deleted.") % {"name": team.name},
    )


# Roles -----------------------------------------------------------------------------------------

SCOPE_FIELDS = [(module, f"{module}_scope") for module in Module.values]


@manage_users
def role_list(request):
    capability_labels = dict(Capability.choices)
    access = user_access(request.user)
    rows = [{
        "role": role,
        "scopes": [(label, Scope(role.scope_for(module)).label) for module, label in Module.choices],
        "capabilities": [capability_labels.get(c, c) for c in role.capabilities],
        "manageable": access.holds_role(role),
    } for role in selectors.roles_with_counts()]
    return render_settings(request, "settings/role_list.html", {"rows": rows, "modules": Module.choices}, section="roles")


def _held_role(request, pk):
    """The role `pk` (404 if none) if every right it gives is one the signed-in user holds, else 403."""
    role = get_object_or_404(selectors.roles_with_counts(), pk=pk)
    if not user_access(request.user).holds_role(role):
        raise PermissionDenied
    return role


def _role_form_page(request, role=None):
    form = RoleForm(request.POST or None, instance=role, editor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.role_save(role=role, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("Role %(name)s saved.") % {"name": saved.name})
            return redirect("settings:accounts:roles")
    scope_fields = [form[field] for _module, field in SCOPE_FIELDS]
    return render_settings(request, "settings/role_form.html",
                   {"form": form, "role": role, "scope_fields": scope_fields}, section="roles")


@manage_users
def role_create(request):
    return _role_form_page(request)


@manage_users
def role_edit(request, pk):
    return _role_form_page(request, _held_role(request, pk))


@manage_users
def role_delete(request, pk):
    role = _held_role(request, pk)
    return confirm_delete(
        request, role, lambda: services.role_delete(role=role, by=request.user),
        section="roles", list_url="settings:accounts:roles",
        question=_("Delete the role %(name)s?") % {"name": role.name},
        note=_("Only a role that no user holds can be deleted."),
        done=_("Role %(name)s deleted.") % {"name": role.name},
    )


# Access check ----------------------------------------------------------------------------------

def _access_check_query(params):
    """The form's data from the query string, or None when nothing was asked. `?<kind>=<term>` (an old
    link's `?customer=12`) asks for a record of that kind, as `?kind=<kind>&record=<term>` does."""
    if "record" in params:
        kinds = [kind.key for kind in checkables()]
        return {"user": params.get("user"), "kind": params.get("kind") or (kinds[0] if kinds else ""),
                "record": params["record"]}
    for kind in checkables():
        if kind.key in params:
            return {"user": params.get("user"), "kind": kind.key, "record": params[kind.key]}
    return None


@manage_users
def access_check(request):
    """Pick a user and a record; see whether the user can see and change it, and why."""
    # A link may name only the user (from the user's page): preselect them without complaining.
    form = AccessCheckForm(_access_check_query(request.GET), initial={"user": request.GET.get("user")})
    context = {"form": form}
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        matches = records_matching(kind, form.cleaned_data["record"], viewer=request.user)
        context.update(matches=matches, kind=kind)
        if len(matches) == 1:
            context["explanation"] = selectors.access_explain(user=form.cleaned_data["user"], obj=matches[0])
    return render_settings(request, "settings/access_check.html", context, section="access")


# The audit log ----------------------------------------------------------------------------------

AUDIT_LOG_SIZE = 50


@capability_required(Capability.VIEW_AUDIT_LOG)
def audit_log(request):
    """Every recorded insert, change and deletion, newest first, by kind of record and of event; a
    record the reader may not open (or a deleted one of a module they do not see whole) is left out."""
    from urllib.parse import urlencode

    from accounts.history import audit_log as events_of

    form = AuditLogForm(request.GET or None)
    if form.is_bound and not form.is_valid():  # a hand-made filter or page link: never the first page instead
        raise BadInput(_("The page link is not valid (it may have been cut short). Go back to the first page."))
    filters = form.cleaned_data if form.is_bound else {}
    model = form.models.get(filters.get("record") or "")
    events = events_of(request.user, model=model, kind=filters.get("kind") or None,
                       before=filters.get("before"), limit=AUDIT_LOG_SIZE)
    older = None
    if len(events) == AUDIT_LOG_SIZE:
        older = "?" + urlencode({"record": filters.get("record") or "", "kind": filters.get("kind") or "",
                                 "before": events[-1]["when"].isoformat()})
    return render_settings(request, "settings/audit_log.html", {"form": form, "events": events, "older": older},
                           section="audit_log")
