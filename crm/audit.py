"""Reading the audit trail (django-pghistory) as the product shows it: who, when, what changed."""
import pghistory.models
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

LABELS = {"insert": _("created"), "update": _("changed"), "delete": _("deleted")}


def _field_label_and_model(model, name):
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name, None
    related = field.related_model if field.is_relation else None
    return str(getattr(field, "verbose_name", name)), related


def _resolve_names(pending):
    """{model: {id, ...}} -> {(model, id): str}; one query per related model."""
    names = {}
    for model, ids in pending.items():
        ids = {i for i in ids if i not in (None, "")}
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, str(obj.pk))] = str(obj)
    return names


def history_of(obj, limit=50):
    """The audit events of one record, newest first, as dicts with `when`, `who`, `label` and
    `changes` [(field label, old, new)]. Related ids are shown by name; a constant number of queries."""
    model = type(obj)
    events = list(pghistory.models.Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")[:limit])
    pending = {}
    user_model = get_user_model()
    rows = []
    for event in events:
        context = event.pgh_context or {}
        if context.get("user"):
            pending.setdefault(user_model, set()).add(str(context["user"]))
        changes = []
        diff = event.pgh_diff or {}
        for name, (old, new) in sorted(diff.items()):
            if name in ("updated_at",):
                continue
            label, related = _field_label_and_model(model, name.removesuffix("_id"))
            if related is not None:
                pending.setdefault(related, set()).update({str(v) for v in (old, new) if v is not None})
            changes.append([label, related, old, new])
        rows.append({
            "when": event.pgh_created_at,
            "user_id": str(context["user"]) if context.get("user") else None,
            "label": LABELS.get(event.pgh_label.split(".")[-1], event.pgh_label),
            "action": context.get("action"),
            "note": context.get("reason", ""),
            "batch": context.get("import_batch"),
            "changes": changes,
        })
    names = _resolve_names(pending)
    for row in rows:
        row["who"] = names.get((user_model, row.pop("user_id")))
        row["changes"] = [
            (label,
             names.get((related, str(old)), old) if related else old,
             names.get((related, str(new)), new) if related else new)
            for label, related, old, new in row["changes"]
        ]
    return rows


def record_inserts(model, where_sql, params, cursor, *, label="insert"):
    """Write the audit events of many rows of `model` in one statement, as its pghistory trigger
    would one by one (same columns, the current pghistory context), for rows written with that
    trigger ignored (`trigger_ignored`). `where_sql` selects the rows of `model`'s table; `label` is
    "insert", or "update" for a snapshot after a change."""
    event = _event_model(model)
    columns = [f.column for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
    listed = ", ".join(f'"{c}"' for c in columns)
    cursor.execute("SELECT _pgh_attach_context()")
    (context_id,) = cursor.fetchone()
    cursor.execute(
        f'INSERT INTO "{event._meta.db_table}" ({listed}, pgh_context_id, pgh_created_at, pgh_label, pgh_obj_id) '
        f'SELECT {listed}, %s, now(), %s, id FROM "{model._meta.db_table}" WHERE {where_sql}',
        [context_id, label, *params])
    return cursor.rowcount


def trigger_ignored(*models, operation="insert"):
    """Skip the per-row pghistory trigger ("insert" or "update") of `models`; their events are
    written in one statement by `record_inserts` instead."""
    import pgtrigger

    return pgtrigger.ignore(*(f"{m._meta.label}:{operation}_{operation}" for m in models))


def _event_model(model):
    for candidate in model._meta.apps.get_models():
        if issubclass(candidate, pghistory.models.Event) and getattr(candidate, "pgh_tracked_model", None) is model:
            return candidate
    raise LookupError(f"no pghistory event model tracks {model._meta.label}")


def flush_deferred_checks(cursor):
    """Run the foreign-key checks a large write has queued for its commit now, and defer later
    ones again. Before a statement that fires row triggers: pgtrigger's and pghistory's trigger
    functions enter an exception block per row, and leaving one that caught an error makes
    PostgreSQL walk the whole queue of deferred checks, so a row trigger after 100,000 queued
    checks costs milliseconds per row instead of microseconds (measured: 4.3 s for 3,241 customers).
    The checks themselves cost the same now as at the commit."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
