"""Reading the audit trail (django-pghistory) as people read it: when, who, why, and what changed
(old → new) or what was deleted; for one record, the records that hang off it, or every record (the
audit log). Events written by one action on one record read as one change, and a change of nothing
but the bookkeeping is no change.

Every name shown passes the access layer: a record the reader may not open reads "a record you
cannot open", never its name. One query for the events, then one per model whose names they show,
whatever their number."""
import decimal
import json
from dataclasses import dataclass

import pghistory.models
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.lib.audit import event_model

from .access import user_access, visible
from .capabilities import Scope

KINDS = {
    "insert": pgettext_lazy("history", "created"),
    "update": pgettext_lazy("history", "changed"),
    "delete": pgettext_lazy("history", "deleted"),
}
# What an event of a record hanging off the page's record says, e.g. "deleted contact 张三".
CHILD_TITLES = {
    "insert": _("added %(model)s %(name)s"),
    "update": _("changed %(model)s %(name)s"),
    "delete": _("deleted %(model)s %(name)s"),
}
HIDDEN = _("a record you cannot open")
# A record's name: the field its model names (`history_name`, one or several tried in turn), else
# the first of these it has.
NAME_FIELDS = ("name", "label", "number", "title", "code", "username")


@dataclass(frozen=True)
class Source:
    """The events of `model` whose event rows match `where` (SQL over the event table as `e`).
    `trusted`: the caller vouches that the reader may see these records (the page's own record, or
    records found through it whose access follows it); otherwise each is checked. `parent`: the
    foreign key they were found by: a change of it alone moved the record to another parent (a
    merge), which that parent's own entry tells. `kinds`: the events shown."""

    model: type
    where: str
    params: tuple = ()
    trusted: bool = True
    parent: str | None = None
    kinds: tuple = ("insert", "update", "delete")


def of_record(obj, **options):
    """The events of `obj` itself."""
    return Source(type(obj), "e.pgh_obj_id = %s", (obj.pk,), **options)


def hanging_off(model, field, pk, *, every_event=False, **options):
    """The events of the rows of `model` that hang off `pk` (or any of a list of ids) by the foreign
    key `field`. With `every_event` (its event table indexes every event by that key:
    `tracked(..., parent_index="all")`), every event whose row named that parent, deleted rows'
    included. Otherwise two sources, each read by an index: every event of the rows there now, and
    the deletion of those gone (which holds the row as it was), not indexing every event by parent,
    which an import would pay for."""
    table, column = model._meta.db_table, model._meta.get_field(field).column
    kinds = options.pop("kinds", Source.kinds)
    test = "= ANY(%s)" if isinstance(pk, (list, tuple)) else "= %s"
    value = list(pk) if isinstance(pk, (list, tuple)) else pk
    if every_event:
        return [Source(model, f'e."{column}" {test}', (value,), parent=field, kinds=kinds, **options)]
    current = Source(model, f'e.pgh_obj_id IN (SELECT id FROM "{table}" WHERE "{column}" {test})', (value,),
                     parent=field, kinds=kinds, **options)
    gone = Source(model, f"""e."{column}" {test} AND e.pgh_label = 'delete'""", (value,), parent=field,
                  kinds=tuple(k for k in kinds if k == "delete"), **options)
    return [current, gone]


def every(model, *, kinds=Source.kinds):
    """Every event of `model` of those `kinds` (the audit log); each record is checked against the
    access rule."""
    return Source(model, "e.pgh_label = ANY(%s)", (list(kinds),), trusted=False, kinds=kinds)


def tracked_models():
    """Every model whose history is kept, by name."""
    found = [m.pgh_tracked_model for m in apps.get_models()
             if issubclass(m, pghistory.models.Event) and getattr(m, "pgh_tracked_model", None) is not None]
    return sorted(found, key=lambda m: str(m._meta.verbose_name))


def audit_log(user, *, model=None, kind=None, before=None, limit=50):
    """The newest events of every record (of `model`, of `kind`, older than `before` if given) that
    `user` may read: records under an access rule only when the user may see them, deleted ones only
    when the user sees every record of their module. Each event has a `title` ("deleted contact 张三")."""
    kinds = (kind,) if kind else Source.kinds
    events = history(user, [every(m, kinds=kinds) for m in ([model] if model else tracked_models())],
                     limit=limit, before=before)
    for event in events:
        event["title"] = child_title(event)
    return events


def record_history(obj, *, user=None, limit=50):
    """The events of one record, newest first (see `history`)."""
    return history(user, [of_record(obj)], limit=limit)


def history(user, sources, *, limit=50, before=None):
    """The events of `sources`, newest first, at most `limit` (older than `before`, a time, if given):
    dicts with `when`, `who` (None: the system), `kind` ("insert", "update", "delete") and its
    `label`, `action`, `note` (the reason given), `batch` (an import), `model`, `model_name`,
    `record_id`, `record` (its name), `own` (an event of the first source), `context_id` (the events
    of one action share it), `fields` (the names of the fields in `changes`) and `changes`
    [(field label, old, new)] with values as people read them: names, choice labels, local times.
    With `user`, names pass the access layer; an untrusted source's record the user may not see is
    left out. `user=None` is the system reading (names unchecked)."""
    rows = _fetch(sources, limit, before)
    events = [e for e in (_combined(group, sources) for group in _grouped(rows)) if e is not None]
    for event in events:
        event["raw"] = _changes(event)
    events = [event for event in events if _real(event)]
    names = _Names(user)
    for event in events:
        names.want_record(event)
        for field, old, new in event["raw"]:
            if field.is_relation:
                names.want(field.related_model, old, new)
        if event["user_id"] is not None:
            names.want(get_user_model(), event["user_id"])
    names.resolve()
    shown = []
    for event in events:
        record = names.record(event)
        if record is None:  # an untrusted record the user may not see: not even that it exists
            continue
        shown.append({
            "when": event["when"], "who": names.of(get_user_model(), event["user_id"]) if event["user_id"] else None,
            "kind": event["kind"], "label": KINDS[event["kind"]], "action": event["context"].get("action"),
            "note": event["context"].get("reason", ""), "batch": event["context"].get("import_batch"),
            "model": event["model"], "model_name": event["model"]._meta.verbose_name,
            "record_id": event["record_id"], "record": record, "own": event["source"] == 0,
            "context_id": event["context_id"], "fields": [field.name for field, _old, _new in event["raw"]],
            "changes": [(str(field.verbose_name), _shown(field, old, names), _shown(field, new, names))
                        for field, old, new in event["raw"]],
        })
    return shown


def child_title(event):
    """"deleted contact 张三": what an event of a record hanging off the page's record says."""
    return CHILD_TITLES[event["kind"]] % {"model": event["model_name"], "name": event["record"]}


# Reading the events -----------------------------------------------------------------------------

def _fetch(sources, limit, before):
    """Rows (source, pgh_id, created_at, label, obj id, context id, data, previous data, metadata) of
    every source, newest first: one statement. Each source's newest rows are taken by the event
    table's key, their previous snapshots looked up by record, then the whole is sorted by time."""
    parts, params = [], []
    for index, source in enumerate(sources):
        table = event_model(source.model)._meta.db_table
        where = f"({source.where})"
        params.extend(source.params)
        if before is not None:
            where += " AND e.pgh_created_at < %s"
            params.append(before)
        parts.append(f"""(
            SELECT {index} AS source, x.pgh_id, x.pgh_created_at, x.pgh_label, x.pgh_obj_id, x.pgh_context_id,
                   to_jsonb(x) AS data,
                   (SELECT to_jsonb(p) FROM "{table}" p WHERE p.pgh_obj_id = x.pgh_obj_id AND p.pgh_id < x.pgh_id
                    ORDER BY p.pgh_id DESC LIMIT 1) AS prev
            FROM (SELECT e.* FROM "{table}" e WHERE {where} ORDER BY e.pgh_id DESC LIMIT {int(limit)}) x)""")
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT u.*, c.metadata FROM ({" UNION ALL ".join(parts)}) u
            LEFT JOIN pghistory_context c ON c.id = u.pgh_context_id
            ORDER BY u.pgh_created_at DESC, u.pgh_id DESC LIMIT {int(limit)}""", params)
        columns = [c.name for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:  # Django has psycopg hand JSON over as text
        for key in ("data", "prev", "metadata"):
            if isinstance(row[key], str):
                row[key] = json.loads(row[key])
    return rows


def _grouped(rows):
    """The rows in groups of one record and one context (one action), newest group first: a save
    that writes a row twice (created, then its path set; numbers moved out of the way and back)
    reads as one change."""
    groups, seen = {}, set()
    for row in rows:
        key = (row["source"], row["pgh_id"])
        if key in seen:
            continue
        seen.add(key)
        context = row["pgh_context_id"] or ("alone", row["pgh_id"])
        groups.setdefault((row["source"], row["pgh_obj_id"], context), []).append(row)
    return groups.values()


def _combined(group, sources):
    """One event of a group of rows (newest first), or None when it shows nothing."""
    newest, oldest = group[0], group[-1]
    labels = {row["pgh_label"] for row in group}
    kind = "delete" if "delete" in labels else "insert" if "insert" in labels else "update"
    source = sources[newest["source"]]
    if kind not in source.kinds:
        return None
    context = newest["metadata"] or {}
    return {
        "source": newest["source"], "model": source.model, "parent": source.parent, "trusted": source.trusted,
        "kind": kind, "when": newest["pgh_created_at"], "record_id": newest["pgh_obj_id"],
        "context": context, "context_id": newest["pgh_context_id"], "user_id": context.get("user"),
        "data": newest["data"], "before": oldest["prev"] if kind == "update" else None,
    }


def _tracked_fields(model):
    """The fields of `model` its events copy, but the key."""
    event = event_model(model)
    copied = {f.name for f in event._meta.concrete_fields if not f.name.startswith("pgh_")}
    return [f for f in model._meta.concrete_fields if f.name in copied and not f.primary_key]


def _changes(event):
    """[(field, old, new)] in stored form: for a change, what differs from the record's previous
    event (nothing known without one); for a deletion, what the record held."""
    fields = _tracked_fields(event["model"])
    data = event["data"]
    if event["kind"] == "delete":
        return [(f, data.get(f.column), None) for f in fields
                if f.name != event["parent"] and data.get(f.column) not in (None, "", [], {})]
    if event["kind"] == "insert" or event["before"] is None:
        return []
    return [(f, event["before"].get(f.column), data.get(f.column)) for f in fields
            if event["before"].get(f.column) != data.get(f.column)]


def _real(event):
    """Whether an event shows something: a creation or deletion, a change of a record whose previous
    state is not known, or a change of a field besides the parent it was found by."""
    return event["kind"] != "update" or event["before"] is None or any(
        field.name != event["parent"] for field, _old, _new in event["raw"])


# Names -----------------------------------------------------------------------------------------

class _Names:
    """The names of the records an page of events shows, one query per model, each narrowed by the
    access layer when the reader is a user."""

    def __init__(self, user):
        self.user, self.wanted, self.found, self.records = user, {}, {}, {}

    def want(self, model, *ids):
        self.wanted.setdefault(model, set()).update(str(i) for i in ids if i not in (None, ""))

    def want_record(self, event):
        model = event["model"]
        for field in _name_fields(model):
            value = event["data"].get(field.column)
            if field.is_relation and value not in (None, ""):
                self.want(field.related_model, value)
        if not event["trusted"] and self.user is not None and not _sees_all(self.user, model):
            self.records.setdefault(model, set()).add(str(event["record_id"]))

    def resolve(self):
        for model, ids in self.wanted.items():
            rows = model._default_manager.filter(pk__in=ids).select_related(*getattr(model, "history_select", ()))
            if self.user is not None and getattr(model, "access_rule", None) is not None:
                rows = visible(self.user, rows)
            self.found.update({(model, str(row.pk)): str(row) for row in rows})
        for model, ids in self.records.items():
            seen = {str(pk) for pk in visible(self.user, model._default_manager.filter(pk__in=ids))
                    .values_list("pk", flat=True)}
            self.records[model] = seen

    def of(self, model, pk):
        name = self.found.get((model, str(pk)))
        if name is None:
            return HIDDEN if self.user is not None else str(pk)
        return name

    def record(self, event):
        """The name of the event's own record, from what the event holds; None when the reader may
        not see it."""
        model = event["model"]
        if model in self.records and str(event["record_id"]) not in self.records[model]:
            return None
        for field in _name_fields(model):
            value = event["data"].get(field.column)
            if value not in (None, ""):
                return self.of(field.related_model, value) if field.is_relation else _shown(field, value, self)
        return f"#{event['record_id']}"


def _name_fields(model):
    named = getattr(model, "history_name", None)
    names = (named,) if isinstance(named, str) else named or [n for n in NAME_FIELDS if _has(model, n)][:1]
    return [model._meta.get_field(n) for n in names]


def _has(model, name):
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _sees_all(user, model):
    """Whether `user` sees every record of `model` (its own access rule, or its parent's, up to the
    module): then even deleted ones, which no rule can be checked against any more, are theirs to read."""
    rule = getattr(model, "access_rule", None)
    while rule is not None and rule.parent:
        model = model._meta.get_field(rule.parent).related_model
        rule = getattr(model, "access_rule", None)
    return rule is None or user_access(user).scope(rule.module) == Scope.ALL


# Values ----------------------------------------------------------------------------------------

def _shown(field, value, names):
    """A stored value (JSON) as people read it."""
    if value in (None, "", [], {}):
        return None
    if field.is_relation:
        return names.of(field.related_model, value)
    if isinstance(field, ArrayField):
        return "、".join(str(_shown(field.base_field, v, names)) for v in value)
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        return (timezone.localtime(moment) if timezone.is_aware(moment) else moment) if moment else value
    if isinstance(field, models.DateField) and isinstance(value, str):
        return parse_date(value) or value
    if isinstance(field, models.DecimalField) and isinstance(value, (int, float, str)):
        return decimal.Decimal(str(value)).quantize(decimal.Decimal(1).scaleb(-field.decimal_places))
    if isinstance(value, list):
        return "、".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


__all__ = ["HIDDEN", "KINDS", "Source", "audit_log", "child_title", "every", "hanging_off", "history", "of_record",
           "record_history", "tracked_models"]
