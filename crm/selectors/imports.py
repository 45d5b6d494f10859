"""Reads of imports: the batches a person may open, a batch's rows by verdict, and the customers its
rows match, shown only as far as the reader may see them."""
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.access import user_access, visible
from accounts.capabilities import Capability, Module, Scope

from ..imports.fields import BY_KEY, FIELDS
from ..lib.text import display_phone
from ..models import Choice, Customer, CustomerSearch, ImportBatch, ImportMapping, ImportRecord, ImportRow, Tier

__all__ = ["WARNINGS", "import_batch_for", "import_batches_for", "import_mappings", "import_rows_page", "import_search_pending",
           "import_undo_left", "import_value_labels"]

ROWS_PAGE = 50


def import_batches_for(user):
    """The imports `user` may open: none without the import capability; every import for one who
    sees all customers; otherwise the user's own."""
    access = user_access(user)
    if not access.has(Capability.IMPORT_DATA):
        return ImportBatch.objects.none()
    qs = ImportBatch.objects.select_related("created_by")
    if access.scope(Module.CUSTOMERS) == Scope.ALL:
        return qs
    return qs.filter(created_by=user)


def import_batch_for(user, pk):
    """One import `user` may open, else 404 (for anyone else, it does not exist)."""
    try:
        return import_batches_for(user).get(pk=pk)
    except (ImportBatch.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def import_mappings():
    return ImportMapping.objects.all()


WARNINGS = "warnings"  # not a verdict: the rows imported with a cell left out


def import_rows_page(user, batch, *, verdict="", after=0, size=ROWS_PAGE):
    """One page of a batch's rows (by row number, after `after`), optionally of one verdict (or WARNINGS), each
    with `shown` [(field label, value shown)] and, for a duplicate of an existing customer,
    `visible_match` (the customer, if `user` may see it) or `match_where` (only "in another team", "in
    your team" or "in a pool" if not).
    A fixed number of queries. Returns (rows, next_after or None)."""
    qs = ImportRow.objects.filter(batch=batch, row_number__gt=after or 0).order_by("row_number")
    if verdict == WARNINGS:
        qs = qs.filter(flagged=True, data__has_key="warnings").exclude(verdict=ImportRow.Verdict.ERROR)
    elif verdict:
        qs = qs.filter(verdict=verdict)
    rows = list(qs[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    match_ids = {r.match_id for r in rows if r.match_id}
    seen = {c.pk: c for c in visible(user, Customer.objects.filter(pk__in=match_ids))} if match_ids else {}
    # A match the reader may not see is said to exist, in their team, another or a pool, and nothing
    # more (as duplicate warnings say it): who owns a customer is part of the customer.
    hidden = {pk: (owner_id is None, team_id is not None and team_id == user.team_id)
              for pk, owner_id, team_id in Customer.objects.filter(pk__in=match_ids - set(seen))
              .values_list("pk", "owner_id", "team_id")}
    labels = import_value_labels(owner_ids={r.data.get("owner") for r in rows if r.data.get("owner")})
    for row in rows:
        row.shown = _shown_values(row.data, labels)
        # Not `row.match`: assigning None to the foreign key would clear `match_id`.
        row.visible_match = seen.get(row.match_id)
        in_pool, same_team = hidden.get(row.match_id, (False, False))
        row.match_where = ("" if row.visible_match is not None or not row.match_id
                           else _("in a pool") if in_pool else _("in your team") if same_team else _("in another team"))
    return rows, (rows[-1].row_number if more and rows else None)


def import_value_labels(owner_ids=()):
    """What stored codes read as: {"industry": {id: label}, "source": {…}, "tier": {…}, "kind": …, "status": …}."""
    from ..models import CustomerKind, CustomerStatus

    labels = {"industry": {}, "source": {}, "tier": dict(Tier.choices), "kind": dict(CustomerKind.choices),
              "status": dict(CustomerStatus.choices), "owner": {}}
    for choice in Choice.objects.filter(kind__in=[Choice.Kind.INDUSTRY, Choice.Kind.SOURCE, Choice.Kind.TIER]):
        if choice.kind == Choice.Kind.TIER:
            labels["tier"][choice.code] = str(choice)
        else:
            labels[choice.kind][choice.pk] = str(choice)
    from accounts.models import User

    if owner_ids:
        labels["owner"] = {pk: name or username for pk, name, username in
                           User.objects.filter(pk__in=owner_ids).values_list("pk", "display_name", "username")}
    return labels


def _shown_values(data, labels):
    shown = []
    unknown = data.get("unknown") or {}
    for field in FIELDS:
        value = data.get(field.key)
        if value in (None, "", []):
            if field.key in unknown:
                shown.append((field.label, _("%(value)s (not in the list yet)") % {"value": unknown[field.key]}))
            elif field.key == "owner" and data.get("owner_unknown"):
                shown.append((field.label, _("%(name)s (no such user)") % {"name": data["owner_unknown"]}))
            elif field.key == "owner" and data.get("owner_refused"):
                shown.append((field.label, _("%(name)s (not one you may give customers to)")
                              % {"name": data["owner_refused"]}))
            continue
        if field.kind == "phone":
            value = display_phone(value)
        elif field.key in labels:
            value = labels[field.key].get(value, value)
        elif isinstance(value, list):
            value = "、".join(value)
        shown.append((BY_KEY[field.key].label, value))
    if data.get("other_phones"):  # the notes line of the numbers a phone cell held more of
        shown.append((_("Notes"), data["other_phones"]))
    return shown


def import_search_pending(batch):
    """Whether a finished batch's new customers still wait for their search rows (the task after
    the commit writes them all in one statement, so its last created customer tells). Two queries."""
    if batch.status != ImportBatch.Status.DONE or not (batch.counts or {}).get("created"):
        return False
    last = (ImportRecord.objects.filter(batch=batch, action=ImportRecord.Action.CREATED)
            .order_by("-customer_id").values_list("customer_id", flat=True).first())
    return last is not None and not CustomerSearch.objects.filter(customer_id=last).exists()


def import_undo_left(user, batch):
    """The customers a batch's last undo left as they were, as the result page lists them: each
    {"id", "name", "why" ("edited", "merged" or "linked"), "by" (who last changed it, if known),
    "at" (when, aware), "relations" (what links to it: names of the kinds of records), "visible"}.
    A customer `user` may not open is named as such, without who edited it (one query)."""
    import datetime

    from django.apps import apps

    conflicts = batch.conflicts or []
    seen = set(visible(user, Customer.objects.filter(pk__in=[c["id"] for c in conflicts]))
               .values_list("pk", flat=True)) if conflicts else set()
    left = []
    for conflict in conflicts:
        at = conflict.get("at")
        relations = []
        for label in conflict.get("relations", []):
            try:
                relations.append(str(apps.get_model(label)._meta.verbose_name_plural))
            except (LookupError, ValueError):
                relations.append(label)
        shown = {**conflict, "at": datetime.datetime.fromisoformat(at) if at else None, "relations": relations,
                 "visible": conflict["id"] in seen}
        if not shown["visible"]:
            shown.update(name=_("a record you cannot open"), by="")
        left.append(shown)
    return left
