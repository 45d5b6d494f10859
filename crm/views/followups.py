"""The rep's daily surfaces: logging a follow-up (a form in the shared modal, over htmx), contacts on
the customer page, archive / restore / purge, My day and the global search."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.capabilities import Module
from accounts.permissions import capability_required

from .. import selectors, services
from ..forms_followups import ContactForm, FollowUpForm
from ..lib.text import display_phone
from ..models import Contact

customers_only = capability_required(module=Module.CUSTOMERS)


def _form_data(request):
    return request.POST if request.method == "POST" else None


def _done(request, url, message):
    """After a write: an htmx request is sent to `url` by the browser, a plain one redirected."""
    messages.success(request, message)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _close_modal(response, **events):
    trigger_client_event(response, "crmModalClose", {})
    for name, params in events.items():
        trigger_client_event(response, name, params)
    return response


# Follow-ups

def _followup_event(customer):
    """What the page learns with `followupLogged`: the customer's new last and next follow-up, also as
    shown in lists (static/js/crm.js writes them into `[data-followup-next-for]` / `-last-for` cells)."""
    customer.refresh_from_db(fields=["last_followup_at", "next_followup_at"])
    last, following = customer.last_followup_at, customer.next_followup_at
    return {
        "customer": customer.pk,
        "last_followup_at": last.isoformat() if last else None,
        "next_followup_at": following.isoformat() if following else None,
        "last_display": date_format(timezone.localtime(last), "Y-m-d") if last else "—",
        "next_display": date_format(timezone.localtime(following), "m-d H:i") if following else "—",
    }


@customers_only
def followup_create(request, pk):
    """The follow-up form for the shared modal; saving closes it and tells the page (the
    `followupLogged` event) so the row, My day or the timeline update without a reload."""
    customer = selectors.customer_for(request.user, pk, write=True)
    contacts = list(selectors.contacts_of(customer))
    form = FollowUpForm(_form_data(request), customer=customer, contacts=contacts)
    if request.method == "POST" and form.is_valid():
        try:
            services.followup_log(customer=customer, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Follow-up logged."))
                return redirect(customer)
            response = render(request, "crm/partials/followup_saved.html",
                              {"customer": customer, "can_edit": True, "logged": True})
            return _close_modal(response, followupLogged=_followup_event(customer))
    context = {"customer": customer, "form": form}
    return render(request, "crm/partials/followup_form.html", context, status=422 if form.errors else 200)


@customers_only
def customer_timeline(request, pk):
    """The timeline and the next follow-up of the customer page, re-read after a follow-up."""
    context = selectors.customer_page(request.user, pk)
    return render(request, "crm/partials/timeline.html", {**context, "refresh_next": True})


# Contacts

def _contacts_card(request, customer, *, status=200, oob=False):
    contacts = list(selectors.contacts_of(customer))
    for contact in contacts:
        contact.phones = [(p, display_phone(p)) for p in (contact.mobile, contact.phone) if p]
    context = {"customer": customer, "contacts": contacts, "can_edit": True, "oob": oob}
    return render(request, "crm/partials/contacts.html", context, status=status)


def _contact_form(request, customer, contact=None):
    form = ContactForm(_form_data(request), instance=contact)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        if contact is None and not fields["is_primary"]:
            del fields["is_primary"]  # the service makes a customer's first contact primary
        try:
            services.contact_save(customer=customer, by=request.user, contact=contact, **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Contact saved."))
                return redirect(customer)
            return _close_modal(_contacts_card(request, customer, oob=True), contactsChanged={"customer": customer.pk})
    context = {"customer": customer, "contact": contact, "form": form}
    return render(request, "crm/partials/contact_form.html", context, status=422 if form.errors else 200)


@customers_only
def contact_create(request, pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    return _contact_form(request, customer)


@customers_only
def contact_edit(request, pk, contact_pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    contact = get_object_or_404(Contact.objects.filter(customer=customer), pk=contact_pk)
    return _contact_form(request, customer, contact)


@require_POST
@customers_only
def contact_delete(request, pk, contact_pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    contact = get_object_or_404(Contact.objects.filter(customer=customer), pk=contact_pk)
    services.contact_delete(contact=contact, by=request.user)
    if request.htmx:
        return _contacts_card(request, customer)
    messages.success(request, _("Contact deleted."))
    return redirect(customer)


# Archive, restore, purge

@require_POST
@customers_only
def customer_archive(request, pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    services.customer_archive(customer=customer, by=request.user)
    return _done(request, customer.get_absolute_url(),
                 _("Customer archived: it no longer shows in lists, searches or My day."))


@require_POST
@customers_only
def customer_restore(request, pk):
    customer = selectors.customer_for(request.user, pk, write=True)
    services.customer_restore(customer=customer, by=request.user)
    return _done(request, customer.get_absolute_url(), _("Customer restored."))


@require_POST
@customers_only
def customer_purge(request, pk):
    """Delete an archived customer for good (the service checks PURGE_CUSTOMERS: 403 without it)."""
    customer = selectors.customer_for(request.user, pk, write=True)
    try:
        services.customer_purge(customer=customer, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        url = customer.get_absolute_url()
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return _done(request, reverse("crm:customer_list"), _("Customer deleted for good."))


# My day and search

@customers_only
def my_day(request):
    """Today's and overdue follow-ups of the signed-in user's customers: the reps' home page."""
    context = selectors.my_day(request.user)
    template = "crm/my_day.html#body" if request.htmx and not request.htmx.history_restore_request else (
        "crm/my_day.html")
    return render(request, template, context)


@customers_only
def global_search(request):
    """Customers and contacts in the user's reach by name, pinyin, phone or email fragment;
    as-you-type requests get the results only."""
    result = selectors.global_search(request.user, request.GET.get("q", "")[:100])
    partial = request.htmx and not request.htmx.history_restore_request and not request.htmx.boosted
    return render(request, "crm/search.html#results" if partial else "crm/search.html", result)


urlpatterns = [
    path("my-day/", my_day, name="my_day"),
    path("search/", global_search, name="global_search"),
    path("<int:pk>/followups/new/", followup_create, name="followup_create"),
    path("<int:pk>/timeline/", customer_timeline, name="customer_timeline"),
    path("<int:pk>/contacts/new/", contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/delete/", contact_delete, name="contact_delete"),
    path("<int:pk>/archive/", customer_archive, name="customer_archive"),
    path("<int:pk>/restore/", customer_restore, name="customer_restore"),
    path("<int:pk>/purge/", customer_purge, name="customer_purge"),
]
