"""Writes to customers, contacts and follow-ups."""
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Func, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_edit, editable, user_access
from accounts.capabilities import Capability, Module
from accounts.grants import lockable, teams_within_scope
from accounts.services import audited

from ..lib.text import name_key, search_text
from ..models import Contact, Customer, CustomerSearch, CustomerStatus, FollowUp, SavedView

__all__ = [
    "EditConflict", "contact_delete", "contact_save", "customer_archive", "customer_create",
    "customer_purge", "customer_restore", "customer_update", "customers_refresh_search", "customers_search_copy",
    "customers_search_repair", "customers_tag",
    "followup_log", "require_editable", "saved_view_delete", "saved_view_save",
]

# The fields of a customer a person sets (the form, an import) or a merge chooses among its customers.
EDITABLE_FIELDS = (
    "kind", "name", "industry", "tier", "source", "status", "tags", "phone", "mobile", "email", "website",
    "province", "city", "district", "address", "notes", "owner", "team", "next_followup_at",
    "deal_status", "deal_date", "deal_amount", "locked",
)
# Of those, the ones that move a customer across the access rules or the pool's rules, which edit
# access alone does not change: owner and team only by assignment (the assign capability, to an
# assignable user; the team follows the owner), the lock by holders of the lock capability, and the
# deal status, date and amount by the deals (sales calls customer_deal_won), never by hand.
ASSIGNMENT_FIELDS = ("owner", "team")
DEAL_FIELDS = ("deal_status", "deal_date", "deal_amount")


class EditConflict(ValidationError):
    """Someone else saved the customer after this form was opened."""


def customers_refresh_search(ids):
    """Recompute the search text and name key of the given customers (with their contacts), in one
    UPDATE that touches only the customers whose text changed."""
    ids = list(ids)
    if not ids:
        return
    contacts = {}
    for c in Contact.objects.filter(customer_id__in=ids).values("customer_id", "name", "mobile", "phone", "email"):
        contacts.setdefault(c["customer_id"], []).append(c)
    pks, texts, keys = [], [], []
    for row in Customer.objects.filter(pk__in=ids).values("pk", "name", "phone", "mobile", "email"):
        people = contacts.get(row["pk"], [])
        pks.append(row["pk"])
        texts.append(search_text(
            row["name"],
            phones=[row["phone"], row["mobile"], *(p["mobile"] for p in people), *(p["phone"] for p in people)],
            emails=[row["email"], *(p["email"] for p in people)],
            contact_names=[p["name"] for p in people],
        ))
        keys.append(name_key(row["name"]))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {Customer._meta.db_table} c SET search_text = v.search_text, name_key = v.name_key
            FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, search_text, name_key)
            WHERE c.id = v.id AND (c.search_text <> v.search_text OR c.name_key <> v.name_key)""",
            [pks, texts, keys])


def customers_search_copy(cursor, where_sql, params=()):
    """Write the search rows (CustomerSearch) of the customers `c` that `where_sql` selects, from their
    search text, in one statement; a customer that has one keeps it (its own save wrote it). For
    customers written with the copy trigger off (an import, the scale seed). Returns how many."""
    cursor.execute(f"""
        INSERT INTO {CustomerSearch._meta.db_table} (customer_id, text)
        SELECT c.id, c.search_text FROM {Customer._meta.db_table} c WHERE {where_sql}
        ON CONFLICT (customer_id) DO NOTHING""", list(params))
    return cursor.rowcount


def customers_search_repair():
    """A search row for every customer without one: what an import's search-row task would have
    written had it been lost. Returns how many were added."""
    with transaction.atomic(), connection.cursor() as cursor:
        added = customers_search_copy(cursor, f"NOT EXISTS (SELECT 1 FROM {CustomerSearch._meta.db_table} s "
                                              "WHERE s.customer_id = c.id)")
    if added:
        customers_search_index_merge()
    return added


def customers_search_index_merge():
    """Merge the customer search index's pending entries (the search texts a large import or a bulk
    change left there) into the index in one pass. Safe to run any time; cheap when nothing waits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('customer_search_trgm'::regclass)")
        (merged,) = cursor.fetchone()
    return merged


def _normalised(fields):
    """Emails are stored in lower case, so one btree index answers the duplicate check."""
    if fields.get("email"):
        fields["email"] = fields["email"].strip().lower()
    return fields


def _tags(value):
    return sorted({t.strip() for t in (value or []) if t and t.strip()})


def customer_create(*, by, name, owner=None, team=None, pool=None, contact=None, **fields):
    """A new customer, owned by `by` in their team. With the assign capability `by` may give it to
    one of their assignable users instead (in that user's team), or put it in a pool they may open
    (with a team within their scope); without it, another owner, team or pool is refused
    (PermissionDenied). Locked only by holders of the lock capability; the deal fields follow the
    deals and are never set here. `contact` (a dict of Contact fields) adds the primary contact in
    the same transaction."""
    if not user_access(by).can_open(Module.CUSTOMERS):
        raise PermissionDenied
    unknown = set(fields) - (set(EDITABLE_FIELDS) - set(ASSIGNMENT_FIELDS))
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    owner, team, pool = _creation_owner(by, owner, team, pool)
    _check_guarded(by, None, fields)
    fields = _normalised(fields)
    now = timezone.now()
    with audited(by, "customer_create"):
        customer = Customer(
            name=name, owner=owner, team=team, pool=pool,
            created_by=by, claimed_at=now if owner else None, **fields,
        )
        customer.tags = _tags(customer.tags)
        customer.full_clean(exclude=["search_text", "name_key"])
        customer.save()
        if contact:
            Contact.objects.create(customer=customer, is_primary=True, **contact)
        customers_refresh_search([customer.pk])
    customer.refresh_from_db()
    return customer


def _creation_owner(by, owner, team, pool):
    """(owner, team, pool) of a customer `by` creates, as the assignment rules allow."""
    from ..selectors.pool import assignable_users, pools_for

    may_assign = user_access(by).has(Capability.ASSIGN_FROM_POOL)
    if pool is not None and owner is None:
        if not may_assign or not pools_for(by).filter(pk=pool.pk).exists():
            raise PermissionDenied(_("You may not put customers in this pool."))
        if team is not None and not teams_within_scope(by, Module.CUSTOMERS).filter(pk=team.pk).exists():
            raise PermissionDenied(_("You may not give customers to this team."))
        return None, team, pool
    owner = owner or by
    if owner.pk != by.pk and not (may_assign and assignable_users(by).filter(pk=owner.pk).exists()):
        raise PermissionDenied(_("You cannot assign customers to this person."))
    if team is not None and team.pk != owner.team_id:
        raise PermissionDenied(_("A customer belongs to its owner's team."))
    return owner, owner.team, None


def _check_guarded(by, customer, fields):
    """Refuse (PermissionDenied) a change of the lock or of the deal fields that `by` may not make.
    `customer` is None for a new one (whose lock starts off and deal fields empty)."""
    for name in DEAL_FIELDS:
        if name in fields and fields[name] != _current(customer, name):
            raise PermissionDenied(_("The deal status follows the customer's deals; it cannot be set by hand."))
    if "locked" in fields and bool(fields["locked"]) != bool(_current(customer, "locked")):
        in_scope = lockable(by, Customer.objects.filter(pk=customer.pk)).exists() if customer else \
            user_access(by).has(Capability.LOCK_CUSTOMERS)
        if not in_scope:
            raise PermissionDenied(_("Only a manager may lock or unlock a customer."))


def _current(customer, name):
    if customer is None:
        return Customer._meta.get_field(name).get_default()
    return getattr(customer, name)


def customer_update(*, customer, by, version=None, **fields):
    """Change a customer `by` may edit. With `version` (the one the form was opened with) a save
    made after someone else's is refused with EditConflict, and nothing is written.
    A new owner goes through the assignment (`pool_assign`: the assign capability, the customer
    within `by`'s scope, an assignable owner), and the team follows the owner; the lock needs the
    lock capability; the deal fields follow the deals. A value sent unchanged is no change; a change
    `by` may not make is refused (PermissionDenied) and nothing is written."""
    if not can_edit(by, customer):
        raise PermissionDenied
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown customer fields: {sorted(unknown)}")
    fields = _normalised(fields)
    with audited(by, "customer_update"):
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        if version is not None and current.version != int(version):
            raise EditConflict(
                _("Someone else saved this customer while you were editing it. "
                  "Your changes were not saved; reload to see theirs."), code="conflict")
        new_owner = _new_owner(current, fields.pop("owner", _UNCHANGED), fields.pop("team", _UNCHANGED))
        _check_guarded(by, current, fields)
        for key, value in fields.items():
            setattr(current, key, value)
        if "tags" in fields:
            current.tags = _tags(current.tags)
        current.version = F("version") + 1
        current.full_clean(exclude=["search_text", "name_key", "version"])
        current.save()
        if new_owner is not None:
            from .pool import pool_assign

            pool_assign(ids=[current.pk], owner=new_owner, by=by)
        if {"name", "phone", "mobile", "email"} & set(fields):
            customers_refresh_search([current.pk])
    current.refresh_from_db()
    return current


_UNCHANGED = object()


def _new_owner(current, owner, team):
    """The owner to assign `current` to (None: no change). Giving it up and a team apart from the
    owner's are refused: those go through the pool's release and the assignment."""
    if owner is None and current.owner_id is not None:
        raise PermissionDenied(_("Release the customer to the pool to give it up."))
    changed = owner not in (None, _UNCHANGED) and owner.pk != current.owner_id
    expected_team = owner.team_id if changed else current.team_id
    if team is not _UNCHANGED and getattr(team, "pk", None) != expected_team:
        raise PermissionDenied(_("A customer belongs to its owner's team."))
    return owner if changed else None


def customer_archive(*, customer, by):
    """Hide a customer from lists and searches without deleting anything."""
    if not can_edit(by, customer):
        raise PermissionDenied
    with audited(by, "customer_archive"):
        Customer.objects.filter(pk=customer.pk, archived_at__isnull=True).update(
            archived_at=timezone.now(), version=F("version") + 1)


def customer_restore(*, customer, by):
    if not can_edit(by, customer):
        raise PermissionDenied
    with audited(by, "customer_restore"):
        Customer.objects.filter(pk=customer.pk).update(archived_at=None, version=F("version") + 1)


def customer_purge(*, customer, by):
    """Delete an archived customer and everything hanging off it, for good (admins only)."""
    if not user_access(by).has(Capability.PURGE_CUSTOMERS) or not can_edit(by, customer):
        raise PermissionDenied
    if customer.archived_at is None:
        raise ValidationError(_("Archive the customer before deleting it for good."))
    with audited(by, "customer_purge"):
        customer.delete()


def require_editable(by, ids):
    """The set of `ids` if `by` may change every one of those live customers; PermissionDenied
    (nothing is changed) if even one is not theirs to change, archived, or does not exist."""
    wanted = {int(i) for i in ids}
    if not wanted:
        raise ValidationError(_("Tick at least one customer."))
    allowed = set(editable(by, Customer.objects.live().filter(pk__in=wanted)).values_list("pk", flat=True))
    if allowed != wanted:
        raise PermissionDenied(_("Some of the ticked customers are not yours to change. Nothing was changed."))
    return wanted


def customers_tag(*, ids, tag, by):
    """Add one tag to many customers in one UPDATE; all or nothing."""
    ids = require_editable(by, ids)
    tag = tag.strip()[:30]
    with audited(by, "customers_tag"):
        return Customer.objects.filter(pk__in=ids).exclude(tags__contains=[tag]).update(
            tags=Func(F("tags"), Value(tag), function="array_append", output_field=Customer._meta.get_field("tags")),
            version=F("version") + 1, updated_at=timezone.now())


def _primary_first(contact):
    if contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(pk=contact.pk).update(
            is_primary=False)


def contact_save(*, customer, by, contact=None, **fields):
    """Add a contact to a customer, or change one of its contacts. The first contact is primary."""
    if not can_edit(by, customer):
        raise PermissionDenied
    with audited(by, "contact_save"):
        if contact is None:
            contact = Contact(customer=customer)
            if not customer.contacts.exists():
                fields.setdefault("is_primary", True)
        elif contact.customer_id != customer.pk:
            raise PermissionDenied
        for key, value in fields.items():
            setattr(contact, key, value)
        contact.full_clean(exclude=["customer"])
        if contact.is_primary:
            _primary_first(contact)
        contact.save()
        customers_refresh_search([customer.pk])
    return contact


def contact_delete(*, contact, by):
    customer = contact.customer
    if not can_edit(by, customer):
        raise PermissionDenied
    with audited(by, "contact_delete"):
        contact.delete()
        customers_refresh_search([customer.pk])


def followup_log(*, customer, by, kind, summary, at=None, contact=None, outcome="", next_step="",
                 next_followup_at=None):
    """Record a call, visit or message. The newest follow-up sets the customer's last follow-up time
    and replaces its next follow-up time (empty clears it); a prospect becomes "following up"."""
    if not can_edit(by, customer):
        raise PermissionDenied
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError(_("That contact belongs to another customer."))
    at = at or timezone.now()
    if next_followup_at is not None and next_followup_at <= at:
        raise ValidationError({"next_followup_at": _("The next follow-up must be later than this one.")})
    with transaction.atomic(), audited(by, "followup_log"):
        followup = FollowUp.objects.create(
            customer=customer, contact=contact, kind=kind, at=at, summary=summary, outcome=outcome,
            next_step=next_step, next_followup_at=next_followup_at, created_by=by,
        )
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = ["version", "updated_at"]
        if current.last_followup_at is None or at >= current.last_followup_at:
            current.last_followup_at = at
            current.next_followup_at = next_followup_at
            changed += ["last_followup_at", "next_followup_at"]
        if current.status == CustomerStatus.PROSPECT:
            current.status = CustomerStatus.FOLLOWING
            changed.append("status")
        current.version = F("version") + 1
        current.save(update_fields=changed)
    return followup


def saved_view_save(*, user, name, query):
    """Save (or overwrite) a named filter of the customer list for one user."""
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False) if k not in ("after", "before")]
    view, _created = SavedView.objects.update_or_create(user=user, name=name.strip()[:60],
                                                        defaults={"query": urlencode(pairs)[:1000]})
    return view


def saved_view_delete(*, view, user):
    if view.user_id != user.pk:
        raise PermissionDenied
    view.delete()


def customer_deal_won(*, customer_id, on, amount=None):
    """(sales) A deal with the customer was won on `on`: its deal status and date (and its deal amount,
    where it had none). Called inside the deal's audited transaction, so the change is on the
    customer's timeline with who moved the deal."""
    from ..models import DealStatus

    changes = {"deal_status": DealStatus.WON, "deal_date": on, "version": F("version") + 1,
               "updated_at": timezone.now()}
    if amount is not None:
        changes["deal_amount"] = Coalesce(F("deal_amount"), Value(amount))
    Customer.objects.filter(pk=customer_id).update(**changes)
