"""Likely duplicates of a customer being typed in, and the merges a customer took part in.

A duplicate the user may not see is reported as existing, in their team or another (or in a pool),
and nothing more: never its owner, id, name, phone or a link (outside your scope is as good as not
there, except that it is taken). Each check counts against the user's rate limit (DUPLICATE_CHECKS
a minute), so what is typed cannot be used to walk the customer base."""
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.access import editable, user_access, visible
from accounts.capabilities import Capability

from ..lib.inputs import parse_id
from ..lib.ratelimit import rate_allowed
from ..lib.text import PhoneError, clean_text, fold_text, name_key, normalise_phone, phone_digits
from ..models import Contact, Customer, CustomerMerge, FollowUp
from .search import search_match

__all__ = ["DUPLICATE_CHECKS", "customers_for_merge", "duplicate_check_allowed", "duplicate_warning", "duplicates_for",
           "merges_of"]

# Duplicate checks one user may run in a minute: the live check while typing and each save of the
# customer form count. Typing a customer in takes a handful; more is someone walking the data.
DUPLICATE_CHECKS = 30


def duplicate_check_allowed(user):
    """Count one duplicate check of `user`; False once they are past DUPLICATE_CHECKS this minute
    (then the caller answers without checking, so nothing is revealed)."""
    return rate_allowed(f"duplicate_check:{user.pk}", limit=DUPLICATE_CHECKS, window=60)


def _lookup_terms(name, mobile, email):
    """(name key, E.164 mobile, lower-case email) of what was typed; "" for what is empty or invalid."""
    key = name_key(name) if name else ""
    try:
        phone = normalise_phone(mobile) if mobile else ""
    except PhoneError:
        phone = ""
    email = fold_text(email).lower() if email else ""
    if "@" not in email:
        email = ""
    return key, phone, email


def _candidates_q(key, phone, email, typed_email):
    """One OR of indexed conditions: customer_name_key, customer_mobile and customer_email for the
    customer's own fields; the trigram index on the search text (which holds every contact's mobile as
    national digits and every email in lower case) for contacts and for emails stored in another case."""
    q = Q()
    if key:
        q |= Q(name_key=key)
    if phone:
        q |= Q(mobile=phone) | search_match(f" {phone_digits(phone)} ", lookup="contains", within_or=True)
    if email:
        q |= Q(email__in=sorted({email, typed_email})) | search_match(f" {email} ", lookup="contains", within_or=True)
    return q


def _reasons(customer, key, phone, email):
    reasons = []
    if key and customer.name_key == key:
        reasons.append(_("same name"))
    if phone and (customer.mobile == phone or customer.contact_mobile):
        reasons.append(_("same mobile"))
    if email and (customer.email.lower() == email or customer.contact_email):
        reasons.append(_("same email"))
    return reasons


def duplicates_for(user, *, name="", mobile="", email="", exclude_pk=None, limit=10):
    """Live customers (neither archived nor merged away) that look like the one described: the same
    name key (width, spaces, punctuation, 有限公司/有限责任公司 …), the same mobile (customer or contact)
    or the same email (case-insensitive, customer or contact). A list of dicts
    {visible, customer, owner_name, team_name, reasons}, the most reasons first; `customer` is None
    and `team_name` says only "another team" for one the user may not see. A fixed number of queries
    whatever the number of matches: the candidates, which of them are visible, and the access layer's."""
    key, phone, email_lower = _lookup_terms(name, mobile, email)
    if not (key or phone or email_lower):
        return []
    no = Value(False, output_field=BooleanField())
    contacts = Contact.objects.filter(customer=OuterRef("pk"))  # contact_customer index, per candidate
    qs = (Customer.objects.live().filter(_candidates_q(key, phone, email_lower, clean_text(email)))
          .select_related("owner", "team")
          .annotate(contact_mobile=Exists(contacts.filter(mobile=phone)) if phone else no,
                    contact_email=Exists(contacts.filter(email__iexact=email_lower)) if email_lower else no)
          .order_by("-id"))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    # A little more than asked: the trigram conditions may match a landline field, which is no reason.
    found = [(c, _reasons(c, key, phone, email_lower)) for c in qs[: limit * 2]]
    found = [(c, reasons) for c, reasons in found if reasons][:limit]
    if not found:
        return []
    seen = set(visible(user, Customer.objects.filter(pk__in=[c.pk for c, _r in found])).values_list("pk", flat=True))
    found.sort(key=lambda item: -len(item[1]))
    return [_describe(user, customer, reasons, customer.pk in seen) for customer, reasons in found]


def _describe(user, customer, reasons, is_visible):
    if is_visible:
        return {"visible": True, "customer": customer, "owner_name": customer.owner.name if customer.owner_id else "",
                "team_name": customer.team.name if customer.team_id else "", "reasons": reasons}
    # Not even the owner's name: who owns a customer is part of the customer.
    same_team = customer.team_id is not None and customer.team_id == getattr(user, "team_id", None)
    return {"visible": False, "customer": None, "owner_name": "", "in_pool": customer.owner_id is None,
            "team_name": _("your team") if same_team else _("another team"), "reasons": reasons}


def _int_or_none(value):
    return parse_id(value) if isinstance(value, str) else value if isinstance(value, int) else None


def duplicate_warning(user, form_data, exclude_pk=None):
    """What the duplicates alert shows for a customer form's data (a QueryDict or dict with name,
    mobile, email): {"duplicates": [...], "exclude": pk}. Each visible duplicate says whether the user
    may merge it with the customer being edited (`can_merge`: MERGE_CUSTOMERS and edit access on both)."""
    exclude_pk = _int_or_none(exclude_pk)
    if exclude_pk and not visible(user, Customer.objects.filter(pk=exclude_pk)).exists():
        exclude_pk = None  # excluding a customer one may not see would tell whether it is a duplicate
    duplicates = duplicates_for(
        user, name=form_data.get("name") or "", mobile=form_data.get("mobile") or "",
        email=form_data.get("email") or "", exclude_pk=exclude_pk,
    )
    mergeable = set()
    shown = [d["customer"].pk for d in duplicates if d["visible"]]
    if exclude_pk and shown and user_access(user).has(Capability.MERGE_CUSTOMERS):
        ids = set(editable(user, Customer.objects.live().filter(pk__in=[exclude_pk, *shown]))
                  .values_list("pk", flat=True))
        if exclude_pk in ids:
            mergeable = ids - {exclude_pk}
    for duplicate in duplicates:
        duplicate["can_merge"] = duplicate["visible"] and duplicate["customer"].pk in mergeable
    return {"duplicates": duplicates, "exclude": exclude_pk}


def merges_of(customer, *, user=None):
    """The merges a customer took part in, newest first: as the survivor, or as one merged into
    another. Each merge carries `merged` (the merged customers the user may see; all without a user),
    `hidden_count` (those they may not), `survivor_visible` and `can_undo` (not undone yet, the survivor
    not merged again since, and the user may merge and edit every customer involved).
    A fixed number of queries."""
    merges = list(CustomerMerge.objects.filter(Q(survivor=customer) | Q(merged_ids__contains=[customer.pk]))
                  .select_related("survivor", "by", "undone_by").order_by("-at", "-id"))
    if not merges:
        return []
    ids = {i for m in merges for i in m.merged_ids} | {m.survivor_id for m in merges}
    customers = Customer.objects.filter(pk__in=ids).only("pk", "name", "merged_into")
    seen = {c.pk: c for c in (visible(user, customers) if user is not None else customers)}
    can_merge = user is not None and user_access(user).has(Capability.MERGE_CUSTOMERS)
    changeable = set(editable(user, customers).values_list("pk", flat=True)) if can_merge else set()
    for merge in merges:
        merge.merged = [seen[i] for i in merge.merged_ids if i in seen]
        merge.hidden_count = len(merge.merged_ids) - len(merge.merged)
        merge.survivor_visible = merge.survivor_id in seen
        merge.can_undo = (
            can_merge and merge.undone_at is None and merge.survivor.merged_into_id is None
            and {merge.survivor_id, *merge.merged_ids} <= changeable
        )
    return merges


def _count_of(model):
    rows = (model.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def customers_for_merge(user, ids):
    """The live customers `ids` names, in that order, with what the merge chooser shows (owner, team,
    picklist entries, numbers of contacts and follow-ups). Http404 if any is not visible to `user`
    (or archived, or merged away), checked first so that nothing reveals which ids exist; then
    PermissionDenied (403) without MERGE_CUSTOMERS or edit access to every one of them."""
    wanted = list(dict.fromkeys(parse_id(str(i)) for i in ids))
    if None in wanted:  # not an id (ASCII digits within bigint): nothing can be named by it
        raise Http404
    qs = (visible(user, Customer.objects.live()).filter(pk__in=wanted)
          .select_related("owner", "team", "industry", "source", "pool")
          .annotate(contact_count=_count_of(Contact), followup_count=_count_of(FollowUp)))
    found = {c.pk: c for c in qs}
    if not wanted or len(found) != len(wanted):
        raise Http404
    if not user_access(user).has(Capability.MERGE_CUSTOMERS):
        raise PermissionDenied
    if editable(user, Customer.objects.filter(pk__in=wanted)).count() != len(wanted):
        raise PermissionDenied
    return [found[pk] for pk in wanted]
