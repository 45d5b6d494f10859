"""Reads of customers, contacts and follow-ups. Every one goes through the access layer."""
import functools

from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.utils import timezone

from accounts.access import can_edit, get_visible_or_404, visible
from accounts.models import Share

from ..models import Choice, Contact, Customer, FollowUp

__all__ = [
    "choices_of",
    "contacts_of",
    "customer_for",
    "customer_list",
    "customer_list_queryset",
    "customer_page",
    "customers_for_access_check",
    "customers_visible_to",

    "saved_views_of",
    "shares_of",
    "tier_labels",
    "timeline_of",
]


def customers_visible_to(user, *, archived=False):
    """Live customers `user` may see (archived ones instead with archived=True), newest first,
    with owner and team preloaded. Merged-away customers never show."""
    qs = Customer.objects.filter(merged_into__isnull=True, archived_at__isnull=not archived)
    return visible(user, qs).select_related("owner", "team").order_by("-id")


def customers_for_access_check(term, *, viewer, limit=20):
    """The customer whose id is `term`, else those whose name contains it (at most `limit`), for the
    admin's access check (registered in crm/settings_sections.py): only customers `viewer` may see."""
    from accounts.access_check import records_by_id_or_name

    return records_by_id_or_name(visible(viewer, Customer).select_related("owner", "team"), term, limit=limit)


def customer_for(user, pk, *, write=False):
    """One customer, or 404 outside the user's reach (403 with write=True on a read-only one)."""
    qs = Customer.objects.select_related("owner", "team", "pool", "industry", "source", "created_by")
    return get_visible_or_404(user, qs, pk, write=write)


def customer_list_queryset(user, params, *, dense=False):
    """The filtered list a user asked for (request.GET), scoped by the access layer, and its filter
    set. Unknown sorts fall back to newest first; with an invalid filter value (shown on the form) the
    list is empty, never the list unfiltered as if it were the one asked for. `dense`: the search is
    known to match many (customers_matching_text)."""
    from ..filters import CustomerFilter

    filterset = CustomerFilter(params, queryset=customers_visible_to(user), user=user, dense=dense)
    qs = filterset.qs if filterset.is_valid() else customers_visible_to(user).none()
    return filterset, qs


def customer_list(user, params, *, size=50):
    """One keyset page of the customer list, with its filter set and the rows' tier labels."""
    from ..lib.paging import keyset_page

    filterset, qs = customer_list_queryset(user, params)
    from .search import with_edit_flag

    def rows(qs):
        return with_edit_flag(qs.select_related("owner", "team"), user)

    def dense():
        """The same list, for a search that matched more than the count's cap, newest first."""
        return rows(customer_list_queryset(user, params, dense=True)[1])

    by_id = filterset.ordering.field == "id" and params.get("q")
    page = keyset_page(rows(qs), filterset.ordering, after=params.get("after"), before=params.get("before"),
                       size=size, when_capped=dense if by_id else None)
    labels = tier_labels()
    for row in page.rows:
        row.tier_label = labels[row.tier]
    return {"filter": filterset, "page": page}


def tier_labels():
    """{"A": "A 重点", ...} in the active language, as admins named them."""
    labels = {c.code: str(c) for c in Choice.objects.filter(kind=Choice.Kind.TIER)}
    return {code: labels.get(code, label) for code, label in Customer._meta.get_field("tier").choices}


def saved_views_of(user):
    from ..models import SavedView

    return SavedView.objects.filter(user=user)


def contacts_of(customer):
    """The contacts of a customer the caller already got through `customer_for`."""
    return Contact.objects.filter(customer=customer).order_by("-is_primary", "id")


def choices_of(kind, *, include=None):
    """Active entries of one picklist (plus `include`, an entry in use that was retired)."""
    qs = Choice.objects.filter(kind=kind)
    if include is not None:
        return qs.filter(active=True) | qs.filter(pk=include.pk)
    return qs.filter(active=True)


def shares_of(obj):
    """The manual shares on a record, active first."""
    ct = ContentType.objects.get_for_model(obj)
    return (Share.objects.filter(content_type=ct, object_id=obj.pk)
            .select_related("user", "team", "created_by").order_by("-created_at"))


def timeline_of(customer, *, user, limit=50):
    """Follow-ups and recorded changes of one customer `user` may see, newest first, as dicts with
    `when`, `type` ("followup" or "change") and either `followup` or the fields of
    accounts.history.history (who, label, action, note, changes), with `title` saying what happened in
    words. The changes are the customer's own and those of its contacts and follow-ups (a deleted
    contact included: "deleted contact 张三"); every name in them passes the access layer. The change
    a follow-up makes to the customer (its next follow-up time) is shown by the follow-up itself.
    A fixed number of queries."""
    from django.utils.translation import gettext_lazy as _

    from accounts.history import child_title, hanging_off, history, of_record

    actions = {
        "customer_create": _("created the customer"), "customer_update": _("edited the customer"),
        "customer_archive": _("archived the customer"), "customer_restore": _("restored the customer"),
        "customers_tag": _("tagged the customer"), "customer_merge": _("merged duplicates into this customer"),
        "customer_merge_undo": _("undid a merge"), "pool_claim": _("claimed the customer from the pool"),
        "pool_release": _("released the customer to the pool"), "pool_assign": _("assigned the customer from the pool"),
        "pool_return": _("returned the customer to the pool by rule"),
        "customer_import": _("imported the customer"), "customer_import_undo": _("undid an import"),
        "opportunity_move": _("won a deal with the customer"),
    }
    kinds = {"insert": _("created the customer"), "update": _("edited the customer"),
             "delete": _("deleted the customer")}
    followups = (FollowUp.objects.filter(customer=customer)
                 .select_related("kind", "contact", "created_by").order_by("-at", "-id")[:limit])
    items = [{"when": f.at, "type": "followup", "followup": f} for f in followups]
    sources = [of_record(customer), *hanging_off(Contact, "customer", customer.pk),
               # A follow-up's creation is the follow-up itself, above.
               *hanging_off(FollowUp, "customer", customer.pk, kinds=("update", "delete"))]
    events = history(user, sources, limit=limit)
    # Contacts made with the customer (the form's first contact, an import's) are part of its creation.
    created = {e["context_id"] for e in events if e["own"] and e["kind"] == "insert" and e["context_id"]}
    for event in events:
        if not event["own"] and event["kind"] == "insert" and event["context_id"] in created:
            continue
        if event["own"]:
            if event["action"] == "followup_log":
                continue
            if event["action"] == "customer_merge" and "merged_into" in event["fields"]:
                event["title"] = _("merged into another customer")
            else:
                event["title"] = actions.get(event["action"]) or kinds[event["kind"]]
        else:
            event["title"] = child_title(event)
        items.append({"type": "change", **event})
    items.sort(key=lambda item: item["when"], reverse=True)
    return items[:limit]


def customer_page(user, pk):
    """Everything the 360° page shows of one customer `user` may see (404 otherwise): the profile
    with phones ready to show, contacts, shares, the timeline, the next follow-up's state
    ("overdue", "today", "later" or None), what the user may do, and the panels other areas registered.
    A fixed number of queries."""
    from accounts.access import user_access
    from accounts.capabilities import Capability
    from accounts.grants import can, handable

    from ..lib.text import display_phone
    from ..panels import panels_for
    from .myday import today_bounds

    customer = customer_for(user, pk)
    editable_by_user = can_edit(user, customer)
    customer.user_can_edit = editable_by_user  # for the panels of other areas (saves each a query)
    contacts = list(contacts_of(customer))
    for contact in contacts:
        contact.phones = [(p, display_phone(p)) for p in (contact.mobile, contact.phone) if p]
    now = timezone.now()
    start, end = today_bounds(user, now)
    due = customer.next_followup_at
    website = customer.website.strip()
    live = customer.archived_at is None and customer.merged_into_id is None
    from .duplicates import merges_of

    return {
        "customer": customer,
        "merges": merges_of(customer, user=user),
        "tier_label": tier_labels().get(customer.tier, customer.get_tier_display()),
        "can_edit": editable_by_user,
        # An owner may always share their own; anyone else is asked of the database.
        "can_share": customer.owner_id == user.pk or can(handable, user, customer),
        "can_log": editable_by_user and live,
        "can_purge": editable_by_user and customer.archived_at is not None
        and user_access(user).has(Capability.PURGE_CUSTOMERS),
        "can_claim": live and customer.owner_id is None,
        "can_release": live and customer.owner_id == user.pk,
        "phones": [(label, p, display_phone(p)) for label, p in (
            (Customer._meta.get_field("mobile").verbose_name, customer.mobile),
            (Customer._meta.get_field("phone").verbose_name, customer.phone)) if p],
        "website_url": website if website.lower().startswith(("http://", "https://")) else (
            f"https://{website}" if website else ""),
        "next_state": None if due is None else "overdue" if due < start else "today" if due < end else "later",
        "contacts": contacts,
        "shares": shares_of(customer),
        "timeline": timeline_of(customer, user=user),
        "panels": panels_for(user, customer),
        # Read only by the page that shows it (a template calls it), not by the partials that share this.
        "import_raw_values": functools.partial(import_raw_values_of, customer),
        "now": now,
    }


RAW_VALUES_SHOWN = 50


def import_raw_values_of(customer):
    """The cells imports could not store on this customer, as the files had them, newest import first
    (at most RAW_VALUES_SHOWN): [{"heading", "raw", "reason", "row_number", "batch_id", "at"}]. One query;
    the caller has checked that the customer is visible."""
    from ..models import ImportRawValue

    return list(ImportRawValue.objects.filter(customer=customer)
                .order_by("-batch_id", "row_number", "pk")
                .values("heading", "raw", "reason", "row_number", "batch_id", at=F("batch__committed_at"))
                [:RAW_VALUES_SHOWN])
