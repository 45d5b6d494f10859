"""Merging duplicate customers into one, and undoing it.

Everything that hangs off a merged customer moves to the survivor: every model with a foreign key
to Customer (found from the model registry, so relations added by later apps move too) and every
generic relation (content type + object id, such as manual shares). The CustomerMerge row keeps
what is needed to put it all back: the survivor's old values and, per relation, which rows came
from which customer."""
import datetime

import pghistory.models
from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Exists, F, Max, OuterRef, Q, UniqueConstraint, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import editable, user_access
from accounts.capabilities import Capability
from accounts.services import audited

from ..models import Contact, Customer, CustomerMerge, FollowUp, ImportRecord, ImportRow
from .customers import EDITABLE_FIELDS, EditConflict, customers_refresh_search

__all__ = ["MERGE_CONCAT", "MERGE_UNION", "customer_merge_undo", "customers_merge", "merge_relations"]

MERGE_UNION = "union"  # tags: every customer's tags
MERGE_CONCAT = "concat"  # notes: every customer's notes, one after the other
# Besides the editable fields, what the survivor takes over with the owner, or from the follow-ups.
_FOLLOWS_OWNER = ("pool", "claimed_at")


# Relations ------------------------------------------------------------------------------------

def merge_relations():
    """[(model, field)] for every foreign key to Customer whose rows belong to the customer:
    not the audit events (they stay with the record they describe), not Customer.merged_into,
    not the merge records themselves, not an import's rows and records (they say what the import did). Hidden reverse relations (related_name="+", the through
    tables of many-to-many fields) are included."""
    found = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model = rel.related_model
        if model in (Customer, CustomerMerge, ImportRow, ImportRecord) or issubclass(model, pghistory.models.Event):
            continue
        if model._meta.proxy or not model._meta.managed:
            continue
        found.append((model, rel.field))
    return found


# Generic relations declared without a GenericForeignKey: (model label, content type field, object id field).
GENERIC_RELATIONS = [("accounts.share", "content_type", "object_id")]


def _generic_relations():
    """[(model, content type field, object id field)]: manual shares, and every GenericForeignKey."""
    found = {}
    for label, ct_name, id_name in GENERIC_RELATIONS:
        model = apps.get_model(label)
        found[(model, ct_name)] = (model, model._meta.get_field(ct_name), model._meta.get_field(id_name))
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed or issubclass(model, pghistory.models.Event):
            continue
        for field in model._meta.private_fields:
            if isinstance(field, GenericForeignKey):
                found.setdefault((model, field.ct_field), (
                    model, model._meta.get_field(field.ct_field), model._meta.get_field(field.fk_field)))
    return list(found.values())


def _unique_sets(model, field):
    """[(other fields, condition)] of the unique rules that include `field`: moving a row whose
    twin already hangs off the survivor would break them."""
    sets = [((), None)] if field.unique else []
    for together in model._meta.unique_together:
        if field.name in together:
            sets.append((tuple(f for f in together if f != field.name), None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and field.name in (constraint.fields or ()):
            sets.append((tuple(f for f in constraint.fields if f != field.name), constraint.condition))
    return sets


def _rows_to_move(model, field, survivor_id, other_ids, extra=None):
    """The rows of one relation that can move to the survivor. A row whose twin (by a unique rule)
    already hangs off the survivor, or off another merged customer with a lower id, stays behind
    with its archived customer instead of failing the whole merge."""
    attname = field.attname
    rows = model._base_manager.filter(**{f"{attname}__in": other_ids}, **(extra or {}))
    for others, condition in _unique_sets(model, field):
        twin = model._base_manager.filter(
            Q(**{attname: survivor_id}) | Q(**{f"{attname}__in": other_ids, "pk__lt": OuterRef("pk")}),
            **{f: OuterRef(f) for f in others}, **(extra or {}))
        if condition is not None:
            rows = rows.exclude(condition & Q(Exists(twin.filter(condition))))
        else:
            rows = rows.exclude(Exists(twin))
    return rows


def _move(model, field, survivor_id, other_ids, extra=None):
    """Move one relation's rows to the survivor with one UPDATE; {from customer id: [row ids]}."""
    rows = list(_rows_to_move(model, field, survivor_id, other_ids, extra)
                .select_for_update().values_list("pk", field.attname))
    if not rows:
        return {}
    model._base_manager.filter(pk__in=[pk for pk, _owner in rows]).update(**{field.attname: survivor_id})
    moved = {}
    for pk, owner in rows:
        moved.setdefault(str(owner), []).append(pk)
    return moved


def _move_children(survivor_id, other_ids):
    moved = []
    for model, field in merge_relations():
        rows = _move(model, field, survivor_id, other_ids)
        if rows:
            moved.append({"model": model._meta.label_lower, "field": field.name, "from": rows})
    customer_type = ContentType.objects.get_for_model(Customer)
    for model, ct_field, id_field in _generic_relations():
        rows = _move(model, id_field, survivor_id, other_ids, extra={ct_field.attname: customer_type.pk})
        if rows:
            moved.append({"model": model._meta.label_lower, "field": id_field.name, "from": rows,
                          "content_type_field": ct_field.name, "content_type": customer_type.pk})
    return moved


def _move_back(entry, survivor_id):
    """Undo one relation's move with one UPDATE; rows deleted since are simply gone."""
    try:
        model = apps.get_model(entry["model"])
    except LookupError:
        return
    field = model._meta.get_field(entry["field"])
    whens = [When(pk__in=ids, then=Value(field.to_python(owner))) for owner, ids in entry["from"].items()]
    all_ids = [pk for ids in entry["from"].values() for pk in ids]
    rows = model._base_manager.filter(pk__in=all_ids, **{field.attname: field.to_python(survivor_id)})
    if entry.get("content_type_field"):
        rows = rows.filter(**{model._meta.get_field(entry["content_type_field"]).attname: entry["content_type"]})
    rows.update(**{field.attname: Case(*whens, output_field=field)})


def _keep_one_primary(survivor_id, ids):
    """Only one contact of the survivor may stay primary: its own, else the first merged one's.
    Returns the ids of the contacts that stopped being primary."""
    primaries = list(Contact.objects.filter(customer_id__in=ids, is_primary=True)
                     .order_by(Case(When(customer_id=survivor_id, then=0), default=1), "customer_id", "id")
                     .values_list("pk", flat=True))
    demoted = primaries[1:]
    if demoted:
        Contact.objects.filter(pk__in=demoted).update(is_primary=False)
    return demoted


# Values ---------------------------------------------------------------------------------------

def _dump(customer, name):
    """A field value as JSON: ids for foreign keys, ISO text for times."""
    value = getattr(customer, Customer._meta.get_field(name).attname)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return list(value) if isinstance(value, list) else value


def _load(name, value):
    field = Customer._meta.get_field(name)
    return value if field.is_relation else field.to_python(value)


def _chosen(name, choice, survivor, by_id):
    """The value of one field after the merge."""
    if name == "tags" and choice == MERGE_UNION:
        return sorted({t for c in by_id.values() for t in c.tags})
    if name == "notes" and choice == MERGE_CONCAT:
        ordered = [survivor, *(c for pk, c in sorted(by_id.items()) if pk != survivor.pk)]
        return "\n\n".join(dict.fromkeys(c.notes.strip() for c in ordered if c.notes.strip()))
    return _dump(by_id[choice], name)


def _new_values(survivor, by_id, values):
    """{field: JSON value} of the survivor after the merge (only what changes)."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be merged: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    new = {}
    for name in EDITABLE_FIELDS:
        choice = values.get(name, MERGE_UNION if name == "tags" else survivor.pk)
        if choice not in (MERGE_UNION, MERGE_CONCAT):
            try:
                choice = int(choice)
            except (TypeError, ValueError):
                choice = None
            if choice not in by_id:
                raise ValidationError(_("Choose one of the merged customers for every field."))
        new[name] = _chosen(name, choice, survivor, by_id)
        if name == "owner":  # the pool and the owned-since time go with the owner
            for extra in _FOLLOWS_OWNER:
                new[extra] = _dump(by_id[choice], extra)
    return {name: value for name, value in new.items() if value != _dump(survivor, name)}


def _latest_followup(survivor, by_id):
    """The survivor's last follow-up time once the follow-ups moved: the latest of every customer's
    (and of the follow-ups themselves, for records whose time was never set, as imported ones)."""
    newest = FollowUp.objects.filter(customer_id=survivor.pk).aggregate(at=Max("at"))["at"]
    times = [t for t in (newest, *(c.last_followup_at for c in by_id.values())) if t]
    return max(times) if times else None


def _apply(customer_id, values, now):
    """Write JSON field values onto one customer (one UPDATE, the version moves on)."""
    columns = {Customer._meta.get_field(name).attname: _load(name, value) for name, value in values.items()}
    Customer.objects.filter(pk=customer_id).update(**columns, version=F("version") + 1, updated_at=now)


# Services -------------------------------------------------------------------------------------

def _require_merge_rights(by, ids):
    """MERGE_CUSTOMERS and edit access to every customer involved; else nothing happens (403)."""
    if not user_access(by).has(Capability.MERGE_CUSTOMERS):
        raise PermissionDenied
    customers = Customer.objects.filter(pk__in=ids)
    if editable(by, customers).count() != customers.count():
        raise PermissionDenied


def _lock(ids, versions):
    customers = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if any(c.archived_at or c.merged_into_id for c in customers.values()):
        raise ValidationError(_("Only customers that are neither archived nor merged can be merged."))
    for pk, version in (versions or {}).items():
        if int(pk) in customers and customers[int(pk)].version != int(version):
            raise EditConflict(
                _("Someone else saved one of these customers while you were merging them. "
                  "Nothing was merged; review the values again."), code="conflict")
    return customers


def customers_merge(*, survivor, others, values=None, by, versions=None):
    """Merge `others` into `survivor`. `values` picks, per field of EDITABLE_FIELDS, the id of the
    customer whose value the survivor keeps (default: the survivor's own; tags default to
    MERGE_UNION; notes may be MERGE_CONCAT). Every row that hangs off the others moves to the
    survivor, which keeps at most one primary contact; the others are archived with merged_into set.
    Needs MERGE_CUSTOMERS and edit access to all of them (else PermissionDenied, nothing changed).
    `versions` {id: version} refuses the merge with EditConflict if any was saved since.
    Returns the CustomerMerge that `customer_merge_undo` reverses."""
    other_ids = sorted({getattr(o, "pk", o) for o in others})
    ids = [survivor.pk, *other_ids]
    if not other_ids or survivor.pk in other_ids:
        raise ValidationError(_("Choose at least two different customers to merge."))
    _require_merge_rights(by, ids)
    now = timezone.now()
    with audited(by, "customer_merge"):
        by_id = _lock(ids, versions)
        if len(by_id) != len(ids):
            raise PermissionDenied
        current = by_id[survivor.pk]
        new = _new_values(current, by_id, values or {})
        old = {name: _dump(current, name) for name in new}
        demoted = _keep_one_primary(survivor.pk, ids)
        moved = _move_children(survivor.pk, other_ids)
        latest = _latest_followup(current, by_id)
        if latest != current.last_followup_at:
            old["last_followup_at"] = _dump(current, "last_followup_at")
            new["last_followup_at"] = latest.isoformat()
        Customer.objects.filter(pk__in=other_ids).update(
            merged_into=survivor.pk, archived_at=now, version=F("version") + 1, updated_at=now)
        _apply(survivor.pk, new, now)
        customers_refresh_search(ids)
        merge = CustomerMerge.objects.create(survivor_id=survivor.pk, merged_ids=other_ids, by=by, snapshot={
            "survivor": old, "applied": new, "moved": moved, "demoted_primary": demoted,
        })
    return merge


def customer_merge_undo(*, merge, by):
    """Reverse a merge: the rows that moved go back to the customer they came from, the demoted
    primary contacts are primary again (where their customer has none now), the merged customers
    are live again and the survivor gets its old values back, except fields someone changed after
    the merge (those are left as they are and listed in `merge.kept_fields`).
    Refused (ValidationError) for a merge already undone, or whose survivor was merged again later."""
    ids = [merge.survivor_id, *merge.merged_ids]
    _require_merge_rights(by, ids)
    now = timezone.now()
    with audited(by, "customer_merge_undo"):
        merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationError(_("This merge has already been undone."), code="undone")
        by_id = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        if len(by_id) != len(ids):
            raise ValidationError(_("A customer of this merge was deleted for good since; "
                                    "the merge can no longer be undone."), code="deleted")
        survivor = by_id[merge.survivor_id]
        if survivor.merged_into_id is not None:
            raise ValidationError(
                _("%(customer)s was merged into another customer after this merge. "
                  "Undo that later merge first.") % {"customer": survivor.name}, code="merged_again")
        snapshot = merge.snapshot
        for entry in snapshot.get("moved", []):
            _move_back(entry, survivor.pk)
        Customer.objects.filter(pk__in=merge.merged_ids, merged_into=survivor.pk).update(
            merged_into=None, archived_at=None, version=F("version") + 1, updated_at=now)
        Contact.objects.filter(pk__in=snapshot.get("demoted_primary", [])).exclude(
            Exists(Contact.objects.filter(customer=OuterRef("customer"), is_primary=True))).update(is_primary=True)
        restore, kept = {}, []
        for name, old in snapshot.get("survivor", {}).items():
            applied = snapshot.get("applied", {}).get(name)
            if _load(name, applied) == getattr(survivor, Customer._meta.get_field(name).attname):
                restore[name] = old
            else:
                kept.append(name)
        _apply(survivor.pk, restore, now)
        customers_refresh_search(ids)
        merge.undone_at, merge.undone_by = now, by
        merge.save(update_fields=["undone_at", "undone_by"])
    merge.kept_fields = kept
    return merge
