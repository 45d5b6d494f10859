"""The engine's side of a reminder rule: the base class, the registry and small helpers. The rules
themselves live with the app that owns their records (`<app>/reminders.py`), registered with
`@register`; `crm.apps` imports every installed app's `reminders` module at start-up
(like the admin's autodiscovery), so the engine names no business table.

A rule is its key, its label, its parameters with defaults and form fields, and ONE SELECT that
returns the reminders due now, over the whole table:

    recipient_id, object_id, period, due_at, subject, data

`period` tells one occurrence from the next (the follow-up's due time, the stay in a stage, a stretch
without follow-up): the engine inserts (rule, recipient, record, period) once, and a reminder whose
row no longer comes back is resolved ("the reminder stops"). The SELECT is either SQL text
(`due_sql`, placeholders `%(now)s` and the rule's `sql_params`) or a queryset (`due_queryset`), when
the app's ORM already holds the rule's condition: then the same expression serves the pages and the
scan (the rule is written once).

Grouping: when one scan would raise more than the rule's `group_over` (a parameter every rule has;
default NOTIFY_GROUP_OVER) items for one person, they arrive as one notification that says how many
(`group_message`, from `group_data`) and opens the list of exactly those records (`group_url`).
Only active users are reminded; archived and merged customers never.
"""
import re

from django.apps import apps
from django.conf import settings
from django.db.models import Func, TextField
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..lib import inputs

RULES = {}
GROUP_OVER = "group_over"  # the parameter every rule has: more items than this arrive as one group


def register(cls):
    RULES[cls.key] = cls()
    return cls


def rule_for(key):
    return RULES.get(key)


def autodiscover():
    """Import `<app>.reminders` of every installed app (each registers its rules). Called once by
    crm.apps at ready(); the registry keeps the order of INSTALLED_APPS, then of each module."""
    autodiscover_modules("reminders")


# One text form of a timestamp for period keys (UTC, to the second), the same in every session.
def ts_key(column):
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')"""


class TimestampKey(Func):
    """`ts_key` as an ORM expression, for rules whose SELECT is a queryset."""

    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')"""
    output_field = TextField()


_PLACEHOLDER = re.compile(r"%%|%s")


def named_sql(queryset, prefix):
    """(sql, {name: value}) of a queryset, its positional placeholders renamed `%(<prefix>N)s`, so
    that its SQL goes into a statement written with named ones (`%%` stays a literal percent)."""
    sql, params = queryset.query.sql_with_params()
    names = iter(range(len(params)))

    def rename(match):
        return match.group(0) if match.group(0) == "%%" else f"%({prefix}{next(names)})s"

    return _PLACEHOLDER.sub(rename, sql), {f"{prefix}{i}": value for i, value in enumerate(params)}


def days_field(label, minimum=1):
    return inputs.IntegerField(label=label, min_value=minimum, max_value=3650)


def local(value):
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def list_url(name, **query):
    return reverse(name) + "?" + urlencode(query)


class Rule:
    key = ""
    label = ""
    help_text = ""
    model = ""  # "app_label.Model" of the record the reminder is about
    defaults = {}  # the rule's own parameters (group_over is added for every rule)
    # How heavy one scan of the rule is, relative to the others (its table's size, how many rows it
    # may raise): the scan spreads the rules over its processes by it.
    weight = 1
    # An aggregate over a person's grouped due rows (columns as above) giving the group's `data`: what
    # its message says of them all (e.g. the shortest limit they passed).
    group_data = "'{}'::jsonb"

    def record_model(self):
        return apps.get_model(self.model)

    def rule_fields(self):
        """{parameter: form field} of the rule's own parameters."""
        return {}

    def param_fields(self):
        """{parameter: form field}; the settings form is built from these."""
        return {**self.rule_fields(), GROUP_OVER: inputs.IntegerField(
            label=_("Group when more than this many at once"), min_value=1, max_value=10000,
            help_text=_("When one scan finds more items than this for one person, they get one reminder "
                        "that opens the list of them."))}

    def all_defaults(self):
        return {**self.defaults, GROUP_OVER: settings.NOTIFY_GROUP_OVER}

    def params(self, stored):
        """The stored parameters over the defaults (unknown keys dropped)."""
        return {key: stored.get(key, default) for key, default in self.all_defaults().items()}

    def sql_params(self, params, now):
        return dict(params)

    def due_sql(self):
        raise NotImplementedError

    def due_queryset(self, params, now):
        """The due rows as a queryset (its values named as in the module's docstring), or None when
        the rule gives `due_sql`."""
        return None

    def due(self, params, now):
        """(SELECT, named params) of what is due now."""
        params = self.sql_params(params, now)
        queryset = self.due_queryset(params, now)
        if queryset is None:
            return self.due_sql(), params
        sql, own = named_sql(queryset, "due_")
        return sql, {**params, **own}

    def message(self, notification):
        """What the reminder says, in the active language."""
        raise NotImplementedError

    def group_message(self, notification, count):
        """What a group of `count` items says (its data: `group_data` over its items)."""
        return ngettext("%(n)s reminder: %(rule)s", "%(n)s reminders: %(rule)s", count) % {
            "n": count, "rule": self.label}

    def target_url(self, record):
        return record.get_absolute_url()

    def group_url(self, notification):
        """The list of the group's records (the list applies the access layer itself)."""
        raise NotImplementedError
