"""Service requests sent through the public web form (/support/): which customer a request belongs to,
and opening its ticket as the system. Nothing here ever tells the sender which customer, if any, was
found: the form's pages show only the new ticket's reference and what was typed.

The form never creates a real customer. A request no customer matches is put on one placeholder
customer (PLACEHOLDER_NAME, no owner and no team), whose tickets land in the unassigned queue that a
service manager (scope over all tickets) works and reassigns."""
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from crm.lib.audit import audited
from crm.lib.text import display_phone, fold_text, name_key, phone_digits
from crm.models import Contact, Customer, CustomerKind
from crm.selectors import search_match
from crm.services import customers_refresh_search

from .models import Channel
from .services import ticket_create

__all__ = ["PLACEHOLDER_NAME", "web_request_match", "web_request_submit"]

# Stored data, not interface text: one name whatever the sender's language, so it is found again.
PLACEHOLDER_NAME = "网页服务请求（未匹配客户）"
# Taken while the placeholder is looked for and created: two requests at once create it once.
_PLACEHOLDER_LOCK = "service.web_request_placeholder"
# More matches than this are not read: a handful already decides (one customer, or ambiguous).
_MATCHES_READ = 20


# Matching ----------------------------------------------------------------------------------------

def web_request_match(*, mobile="", email="", company=""):
    """(customer, contact) a web request belongs to, either or both None. `mobile` is E.164
    ("+8613812345678") and `email` lower case, as the form cleans them; only live customers (neither
    archived nor merged away) count.

    A contact whose mobile or e-mail is the one given wins: when those contacts all belong to one
    customer, that customer (and the contact, if one stands out: the only one, or the only one with
    both). With no such contact, a customer whose own mobile or e-mail is the one given, if there is
    exactly one. Otherwise (nothing found, or several customers) a customer whose name is the company
    typed (width, case and spaces aside), if exactly one has it. Else (None, None)."""
    if mobile or email:
        contacts = _contacts_matching(mobile, email)
        if contacts:
            if len({c.customer_id for c in contacts}) == 1:
                return contacts[0].customer, _standing_out(contacts, mobile, email)
        else:
            customers = _customers_matching(mobile, email)
            if len(customers) == 1:
                return customers[0], None
    customers = _customers_named(company) if company else []
    return (customers[0], None) if len(customers) == 1 else (None, None)


def _search_candidates(mobile, email):
    """Live customers whose search text holds the mobile (as national digits) or the e-mail: every
    contact's are in it, so the trigram index narrows the contacts to read (contacts have no index of
    their own on either)."""
    q = Q()
    if mobile:
        q |= search_match(f" {phone_digits(mobile)} ", lookup="contains", within_or=True)
    if email:
        q |= search_match(f" {email} ", lookup="contains", within_or=True)
    return Customer.objects.live().filter(q).values("pk")


def _contacts_matching(mobile, email):
    q = Q()
    if mobile:
        q |= Q(mobile=mobile)
    if email:
        q |= Q(email__iexact=email)
    return list(Contact.objects.filter(q, customer__in=_search_candidates(mobile, email))
                .select_related("customer").order_by("customer_id", "id")[:_MATCHES_READ])


def _standing_out(contacts, mobile, email):
    """The one contact of one customer's matches that matches best (mobile and e-mail over either), or
    None when two match as well."""
    def score(contact):
        return (bool(mobile) and contact.mobile == mobile) + (bool(email) and contact.email.lower() == email)

    best = max(score(c) for c in contacts)
    top = [c for c in contacts if score(c) == best]
    return top[0] if len(top) == 1 else None


def _customers_matching(mobile, email):
    """Live customers whose own mobile or e-mail (stored in lower case) is the one given: at most two,
    enough to tell one from several (the customer_mobile and customer_email indexes)."""
    q = Q()
    if mobile:
        q |= Q(mobile=mobile)
    if email:
        q |= Q(email=email)
    return list(Customer.objects.live().filter(q).order_by("pk")[:2])


def _customers_named(company):
    """Live customers named `company`, width, case and runs of spaces aside (the customer_name_key index
    finds the few that share its key; the legal form and punctuation must be the same)."""
    key = name_key(company)
    if not key:
        return []
    typed = fold_text(company).lower()
    return [c for c in Customer.objects.live().filter(name_key=key).order_by("pk")[:_MATCHES_READ]
            if fold_text(c.name).lower() == typed]


# Opening the ticket ------------------------------------------------------------------------------

def web_request_submit(*, name, type, subject, description, company="", mobile="", email=""):
    """Open the ticket of a request sent through the public form, in one transaction, as the system
    (unassigned, in the customer's team, SLA deadlines from now; channel "web"). The customer and
    contact are `web_request_match`'s; with neither, the placeholder customer's (created once). The
    description keeps what the sender gave about themselves, since they may be no contact of the
    customer. Returns the ticket."""
    with audited(None, "web_request_submit"):
        customer, contact = web_request_match(mobile=mobile, email=email, company=company)
        if customer is None:
            customer = _placeholder_customer()
        return ticket_create(
            by=None, customer=customer, contact=contact, subject=subject, type=type, channel=Channel.WEB,
            description=_described(description, name=name, company=company, mobile=mobile, email=email),
            author_name=name)


def _described(description, *, name, company, mobile, email):
    """The description followed by the sender's details, labelled in the site's language (agents read
    it, whatever language the sender wrote in)."""
    with translation.override(settings.LANGUAGE_CODE):
        lines = [(_("Contact name"), name), (_("Company"), company), (_("Mobile"), display_phone(mobile)),
                 (_("Email"), email)]
        sender = "\n".join(f"{label}: {value}" for label, value in lines if value)
        heading = _("Sent through the web form")
    return f"{description.strip()}\n\n— {heading} —\n{sender}"


def _placeholder_customer():
    """The placeholder customer of unmatched requests, created the first time (by the system: a
    company, no owner, no team, no pool). An admin who archives it makes the next request create a
    new one."""
    found = _placeholder()
    if found is not None:
        return found
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_PLACEHOLDER_LOCK])
    found = _placeholder()
    if found is not None:
        return found
    with audited(None, "web_request_placeholder_create"):
        customer = Customer.objects.create(name=PLACEHOLDER_NAME, kind=CustomerKind.COMPANY)
        customers_refresh_search([customer.pk])
    customer.refresh_from_db()
    return customer


def _placeholder():
    return (Customer.objects.live().filter(name_key=name_key(PLACEHOLDER_NAME), name=PLACEHOLDER_NAME)
            .order_by("pk").first())
