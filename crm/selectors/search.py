"""Finding customers and contacts by what people type: a fragment of a name, pinyin (full or
initials), a phone or an email fragment. Everything goes through the customer's search text
(see `crm.lib.text.search_text`), kept in CustomerSearch and matched with a plain `LIKE` so the trigram
index `customer_search_trgm` answers it (Django's `icontains` would wrap the column in UPPER() and miss it)."""
import re

from django.db.models import BooleanField, Case, ExpressionWrapper, Q, Value, When

from accounts.access import access_q, visible

from ..lib.paging import planner_rows
from ..lib.text import clean_text, display_phone, fold_text, pinyin_forms, search_pattern
from ..models import Contact, Customer, CustomerSearch

__all__ = ["customers_matching_text", "global_search", "search_match", "with_edit_flag"]

# Up to this many rows expected in the queryset, a search reads the scope rather than the trigram index.
SCOPE_FIRST_ROWS = 50_000
CUSTOMER_LIMIT = 20
CONTACT_LIMIT = 20
# Contacts are looked for among the contacts of at most this many matching customers.
CONTACT_CUSTOMER_LIMIT = 200


def customers_matching_text(qs, q, *, dense=False):
    """Narrow a customer queryset to those whose search text matches `q` (a name fragment, pinyin,
    a phone or an email fragment). An empty `q` leaves the queryset as it is.

    A narrow queryset (a rep's scope: the planner expects at most SCOPE_FIRST_ROWS rows) is searched
    row by row from its own indexes: the trigram index finds every customer with a common
    two-character word (9,114 for "华康" of 1M), and checking each against the scope cost more than
    reading the scope. A wide one (a director's) keeps both ways open to the planner. With
    `dense` (the caller has counted more matches than a page needs, e.g. over a count's cap), the row's
    own LIKE alone: a list walked in its indexed order then stops after a page's worth of matches,
    where the trigram index would fetch every match (9,000 for a common two-character word) to sort
    them."""
    pattern = search_pattern(q)
    if pattern is None:
        return qs
    if dense or (qs.query.where and planner_rows(qs) <= SCOPE_FIRST_ROWS):
        return qs.filter(search_text__like=pattern)
    # The customer row carries the same text: its LIKE lets the planner walk a list newest first and
    # stop early for a common term, the search table's trigram index finds a rare one.
    return qs.filter(search_match(pattern), search_text__like=pattern)


def search_match(pattern, *, lookup="like", within_or=False):
    """A condition on customers: their search text matches `pattern` (a LIKE pattern, or with
    lookup="contains" a plain fragment). Alone it is a semi-join the planner may run either way
    round; `within_or` makes it `pk = ANY(ARRAY(...))`, which stays indexed as one branch of an OR."""
    hits = CustomerSearch.objects.filter(**{f"text__{lookup}": pattern}).values("customer_id")
    return Q(pk__any_of=hits) if within_or else Q(pk__in=hits)


def with_edit_flag(qs, user):
    """Annotate `user_can_edit` on a customer queryset (inside the same query), for lists that show
    write buttons such as 跟进 only where the user may use them."""
    condition = access_q(user, qs.model, write=True)
    if condition is None:
        flag = Value(False)
    elif not condition:
        flag = Value(True)
    else:
        flag = Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
    return qs.annotate(user_can_edit=ExpressionWrapper(flag, output_field=BooleanField()))


def _contact_match(term):
    """A condition for a contact that itself matches (name, phone or email), to list those first."""
    typed, term = clean_text(term).lower(), fold_text(term).lower()
    # Names are stored as written (full-width brackets too), emails as read (half-width).
    condition = Q(name__icontains=typed) | Q(email__icontains=term)
    if typed != term:
        condition |= Q(name__icontains=term)
    digits = re.sub(r"[\s\-()+]", "", term)
    if digits.isdigit() and len(digits) >= 3:
        # Stored as E.164: "021 6234 5678" is "+862162345678", so the trunk 0 is not in it.
        digits = digits.removeprefix("86") if len(digits) == 13 else digits.lstrip("0") or digits
        condition |= Q(mobile__contains=digits) | Q(phone__contains=digits)
    return condition


def _pinyin_matches_first(contacts, q):
    """For a term of Latin letters (pinyin such as "wf" or "wangfang"), the contacts whose name's
    pinyin holds it move to the front, in their order; the database cannot rank by pinyin."""
    term = fold_text(q).lower().replace(" ", "")
    if not term.isascii() or not term.isalpha():
        return contacts
    hit = [c for c in contacts if any(term in form for form in pinyin_forms(c.name))]
    return hit + [c for c in contacts if c not in hit]


def global_search(user, q):
    """Up to 20 live customers and 20 contacts `user` may see that match `q`, as
    {"q", "customers", "contacts", "more_customers"}. Contacts are those of matching visible customers
    (a customer's search text holds its contacts' names, phones and emails), the ones that match
    themselves first. Three queries, whatever the number of rows."""
    q = clean_text(q)
    result = {"q": q, "customers": [], "contacts": [], "more_customers": False}
    if search_pattern(q) is None:
        return result
    matching = customers_matching_text(visible(user, Customer.objects.live()), q)
    customers = list(with_edit_flag(matching, user).select_related("owner", "team").defer("search_text", "notes")
                     .order_by("-id")[:CUSTOMER_LIMIT + 1])
    result["more_customers"] = len(customers) > CUSTOMER_LIMIT
    result["customers"] = customers[:CUSTOMER_LIMIT]
    for customer in result["customers"]:
        customer.phones = [(p, display_phone(p)) for p in (customer.mobile, customer.phone) if p]
    ids = matching.order_by("-id").values("pk")[:CONTACT_CUSTOMER_LIMIT]
    direct = ExpressionWrapper(_contact_match(q), output_field=BooleanField())
    contacts = (Contact.objects.filter(customer_id__any_of=ids).select_related("customer")
                .annotate(direct=direct).order_by("-direct", "-customer_id", "-is_primary", "id")[:CONTACT_LIMIT])
    result["contacts"] = _pinyin_matches_first(list(contacts), q)
    for contact in result["contacts"]:
        contact.phones = [(p, display_phone(p)) for p in (contact.mobile, contact.phone) if p]
    return result
