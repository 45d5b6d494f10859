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
