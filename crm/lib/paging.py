"""Keyset pagination ("seek method") for big lists: a page is found from the last row of the one
before it, so page 10,000 costs what page 1 costs, and no page runs a full COUNT. The total is a
capped count ("1,000+") that stops reading after the cap."""
import base64
import datetime
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from . import inputs

COUNT_CAP = 1_000


@dataclass
class Ordering:
    """Sort by one field (may be NULL; NULLs always come last), ties broken by id in the same direction."""

    field: str
    descending: bool = False
    nullable: bool = True

    def order_by(self, reverse=False):
        desc = self.descending != reverse
        # NULLS LAST on a NOT NULL column would stop PostgreSQL from walking its index.
        nulls = {} if not self.nullable else {"nulls_first": True} if reverse else {"nulls_last": True}
        first = F(self.field).desc(**nulls) if desc else F(self.field).asc(**nulls)
        return [first, "-id" if desc else "id"]

    def after(self, value, pk, reverse=False):
        """Rows after (value, pk) in this order (before it, with reverse=True)."""
        desc = self.descending != reverse
        beyond = "lt" if desc else "gt"
        id_beyond = Q(**{f"id__{beyond}": pk})
        if value is None:
            # NULLs sort last: after a NULL come only NULLs with a later id; going back, every non-NULL row.
            nulls_tail = Q(**{f"{self.field}__isnull": True}) & id_beyond
            return nulls_tail | Q(**{f"{self.field}__isnull": False}) if reverse else nulls_tail
        condition = Q(**{f"{self.field}__{beyond}": value}) | (Q(**{self.field: value}) & id_beyond)
        if not reverse and self.nullable:
            condition |= Q(**{f"{self.field}__isnull": True})
        return condition


def _encode(value, pk):
    if isinstance(value, datetime.datetime):
        value = {"dt": value.isoformat()}
    return base64.urlsafe_b64encode(json.dumps([value, pk], ensure_ascii=False).encode()).decode().rstrip("=")


_LONGEST_CURSOR = 2000


def _decode(cursor):
    """(value, pk) from a cursor this module wrote; None for anything else (see `_cursor`)."""
    if not isinstance(cursor, str) or len(cursor) > _LONGEST_CURSOR or not cursor.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if isinstance(value, dict):
            value = parse_datetime(value["dt"])
            if value is None or not inputs.in_date_range(value.date()):
                return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if isinstance(pk, bool) or not isinstance(pk, int) or not 1 <= pk <= inputs.BIGINT_MAX:
        return None
    if isinstance(value, bool) or (isinstance(value, int) and not -inputs.BIGINT_MAX - 1 <= value <= inputs.BIGINT_MAX):
        return None
    if isinstance(value, str) and not inputs.storable(value):
        return None
    if value is not None and not isinstance(value, (int, str, datetime.datetime)):
        return None
    return value, pk


def _cursor(text):
    """The decoded cursor of ?after= or ?before=, None without one; BadInput when it is not one of
    ours (hand-made, cut short): never a silent first page."""
    if not text:
        return None
    cursor = _decode(text)
    if cursor is None:
        raise inputs.BadInput(gettext("The page link is not valid (it may have been cut short). Go back to the "
                                      "first page."))
    return cursor


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None
    count: int
    capped: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    @property
    def has_other_pages(self):
        return bool(self.next_cursor or self.prev_cursor)


def capped_count(qs, cap=None):
    """(count, capped): counts at most cap + 1 rows."""
    cap = COUNT_CAP if cap is None else cap
    n = qs.order_by().values("pk")[: cap + 1].count()
    return min(n, cap), n > cap


def planner_rows(qs):
    """How many rows PostgreSQL's planner expects `qs` to return (EXPLAIN, nothing is read): a
    millisecond's guess at the size of a scope, to choose which way round to run a search."""
    sql, params = qs.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg returns json as text when no loader is registered
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def capped_ids(qs, cap=None):
    """The ids of at most cap + 1 rows of `qs`, in no order: what `capped_count` reads, kept."""
    cap = COUNT_CAP if cap is None else cap
    return list(qs.order_by().values_list("pk", flat=True)[: cap + 1])


def keyset_page(qs, ordering, *, after=None, before=None, size=50, cap=None, when_capped=None):
    """One page of `qs` in `ordering`, after or before a cursor from a previous page, and the capped
    count of `qs`. The count reads the matching ids (at most cap + 1); when they are all there, the
    page is looked for among them by id, so a costly condition (a search within a scope) is worked
    out once, not once for the count and again for the page. Two queries either way.

    `when_capped`: a function giving the same rows as `qs` by a query that is cheaper when more than
    `cap` of them match (a search walked in the list's order); the page is read from it then."""
    cap = COUNT_CAP if cap is None else cap
    ids = capped_ids(qs, cap)
    count, capped = min(len(ids), cap), len(ids) > cap
    if not ids:
        return Page(rows=[], next_cursor=None, prev_cursor=None, count=0, capped=False)
    if not capped:
        qs = qs.filter(pk__in=ids)
    elif when_capped is not None:
        qs = when_capped()
    return _page(qs, ordering, after, before, size, count, capped)


def _page(qs, ordering, after, before, size, count, capped):
    reverse = False
    cursor = _cursor(after)
    if cursor is None and before:
        cursor = _cursor(before)
        reverse = True
    page_qs = qs
    if cursor is not None:
        try:  # a value of another type than the column's (a text where a moment goes)
            page_qs = page_qs.filter(ordering.after(*cursor, reverse=reverse))
        except (ValueError, TypeError, ValidationError):
            raise inputs.BadInput(gettext("The page link is not valid (it may have been cut short). Go back to "
                                          "the first page.")) from None
    rows = list(page_qs.order_by(*ordering.order_by(reverse=reverse))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse:
        rows.reverse()

    def cursor_of(row):
        return _encode(getattr(row, ordering.field), row.pk)

    if reverse:
        next_cursor = cursor_of(rows[-1]) if rows else None
        prev_cursor = cursor_of(rows[0]) if rows and more else None
    else:
        next_cursor = cursor_of(rows[-1]) if rows and more else None
        prev_cursor = cursor_of(rows[0]) if rows and cursor is not None else None
    return Page(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor, count=count, capped=capped)


def older_page(qs, params, *, size=50):
    """One page of a list shown newest first (`qs` ordered by descending id) and paged by "older"
    links: the rows older than ?before=<id>, whether there are more, the id the next link starts
    before, and the query string without `before` (for that link)."""
    before = inputs.query_id(params, "before")  # BadInput (400) for anything but an id
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    query = params.copy()
    query.pop("before", None)
    return {"rows": rows, "more": more, "next_before": rows[-1].pk if more else None, "query": query.urlencode()}
