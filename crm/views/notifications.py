"""The reminders: the bell and My day's card (loaded by htmx, so pages pay no query for them), the
notification centre, opening a notification (through the access layer: a record the reader may no
longer see is a 404; a group opens the list of its records), marking read, a person's delivery preferences, and for admins the rules' settings and the e-mails
that failed."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.settings_views import manage_users as manage
from accounts.settings_views import render_settings
from accounts.views import posted_next_url, show_service_error

from .. import selectors, services
from ..forms_notifications import NotificationFilterForm, PreferencesForm, RuleSettingsForm
from ..lib.paging import older_page
from ..models import EmailDelivery, Notification, NotificationRule
from ..notifications import RULES
from ..selectors import notifications as notification_selectors

DAY_LIMIT = 5  # reminders on My day's card


@login_required
def notification_bell(request):
    return render(request, "crm/notifications/bell.html",
                  {"count": selectors.notifications_unread_count(request.user)})


@login_required
def notification_day(request):
    """My day's card of the unread reminders (a group as one), loaded by htmx like the bell."""
    return render(request, "crm/notifications/day.html",
                  {"reminders": selectors.open_reminders(request.user, limit=DAY_LIMIT)})


@login_required
def notification_list(request):
    filters = NotificationFilterForm(request.GET or None)
    values = filters.values() if request.GET else {"unread": True, "rule": None}
    page = older_page(selectors.notifications_for(request.user, **values), request.GET, size=notification_selectors.PAGE_SIZE)
    more_url = "?" + urlencode({**dict(request.GET.items()), "before": page["next_before"]}) if page["more"] else None
    return render(request, "crm/notifications/list.html", {
        "filters": filters, "rows": selectors.with_texts(page["rows"], request.user), "more_url": more_url,
        "unread": values["unread"], "rule": values["rule"]})


@login_required
def notification_open(request, pk):
    """Mark read and go to the record (404 if the record is out of the reader's sight now)."""
    notification, _record, url = selectors.notification_for(request.user, pk)
    services.notification_mark_read(notification=notification, by=request.user)
    return redirect(url)


@require_POST
@login_required
def notification_read(request, pk):
    notification = Notification.objects.filter(recipient=request.user, pk=pk).first()
    if notification is None:
        raise Http404
    services.notification_mark_read(notification=notification, by=request.user)
    return redirect(posted_next_url(request, reverse("notifications:list")))


@require_POST
@login_required
def notifications_read_all(request):
    rule = request.POST.get("rule") or None
    count = services.notifications_mark_all_read(by=request.user, rule=rule if rule in RULES else None)
    messages.success(request, ngettext("%(n)s reminder marked read.", "%(n)s reminders marked read.", count)
                     % {"n": count})
    return redirect(posted_next_url(request, reverse("notifications:list")))


@login_required
def notification_preferences(request):
    form = PreferencesForm(request.POST or None, rows=selectors.notification_preferences_for(request.user))
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_save(user=request.user, choices=form.choices())
        messages.success(request, _("Your reminder preferences have been saved."))
        return redirect("notifications:preferences")
    return render(request, "crm/notifications/preferences.html", {"form": form})


# Settings (admins) -----------------------------------------------------------------------------

@manage
def settings_rules(request):
    rows = []
    for rule, row in selectors.notification_rules_for_settings():
        params = rule.params(row.params if row else {})
        fields = rule.param_fields()
        rows.append({"rule": rule, "active": row.is_active if row else True,
                     "params": [(fields[name].label, value) for name, value in params.items()]})
    return render_settings(request, "crm/notifications/settings_rules.html", {"rows": rows},
                           section="notification_rules")


@manage
def settings_rule_edit(request, key):
    rule = RULES.get(key)
    if rule is None:
        raise Http404
    form = RuleSettingsForm(request.POST or None, rule=rule, row=NotificationRule.objects.filter(key=key).first())
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_rule_save(by=request.user, **form.service_fields())
        except ValidationError as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("%(rule)s saved.") % {"rule": rule.label})
            return redirect("settings:reminders:rules")
    return render_settings(request, "crm/notifications/settings_rule_form.html", {"form": form, "rule": rule},
                           section="notification_rules")


@manage
def settings_email_failures(request):
    return render_settings(request, "crm/notifications/settings_failures.html",
                           {"failures": selectors.email_failures()}, section="notification_failures")


@require_POST
@manage
def settings_email_retry(request, pk):
    delivery = get_object_or_404(EmailDelivery, pk=pk)
    try:
        services.notification_email_retry(delivery=delivery, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The e-mail will be sent again within a minute."))
    return redirect("settings:reminders:failures")


urlpatterns = [
    path("", notification_list, name="list"),
    path("bell/", notification_bell, name="bell"),
    path("day/", notification_day, name="day"),
    path("<int:pk>/", notification_open, name="open"),
    path("<int:pk>/read/", notification_read, name="read"),
    path("read-all/", notifications_read_all, name="read_all"),
    path("preferences/", notification_preferences, name="preferences"),
]

# Served under /settings/reminders/ by the settings area (crm/settings_sections.py).
settings_urlpatterns = [
    path("", settings_rules, name="rules"),
    path("e-mail/failed/", settings_email_failures, name="failures"),
    path("<slug:key>/", settings_rule_edit, name="rule_edit"),
    path("e-mail/<int:pk>/retry/", settings_email_retry, name="email_retry"),
]
