"""Bad input found by the suite, not by a user: every named URL of the resolver, its path filled with
real records the user may see, is sent generated values (unicode digits, NUL bytes, numbers beyond
PostgreSQL's columns, NaN, far dates, malformed paging cursors, long strings) in every GET parameter
its pages' forms declare (and the usual paging and filter names), and in every field of the POST forms
it shows, as a superuser and as a rep. Nothing may answer 5xx (the test client raises what a view
raises, so a crash fails with its traceback).

Bounded and reproducible: a few derandomized examples per URL and form (hypothesis, deadline=None);
each example runs in a savepoint rolled back afterwards, so the records stay for the next one."""
import base64
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from conftest import named_routes

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = 4  # per URL for its query string, and per POST form it shows
ADMIN_EXAMPLES = 2  # Django's own admin: its query strings only, briefly


def fuzz_settings(examples):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


# Names views read from query strings besides their pages' forms: paging, drill-downs, links.
QUERY_NAMES = ["before", "after", "page", "q", "status", "period", "start", "end", "month", "metric", "stage",
               "owner", "customer", "user", "quote", "verdict", "next"]


def _cursor(value):
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


NASTY = [
    "²", "١٢", "１２", "\x00", "a\x00b", "32768", "2147483648", "-2147483649", "9223372036854775808", "-1", "0", "1.5",
    "NaN", "Infinity", "-Infinity", "1e309", "sNaN", "9999-12-31", "0001-01-01", "2026-02-30", "9999-12",
    "0001-01", "0001-01-01T00:00", "9999-12-31T23:59", "", " ", "x" * 3000, "'", '"', "%", "<b>", "true",
    "custom", "on", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    _cursor(["x", 99999999999999999999]), _cursor([{"dt": "9999-99-99"}, 1]), _cursor([1e308, 1]),
    _cursor([None, -5]), _cursor(["\x00", 1]), _cursor([[1], 1]), _cursor({"a": 1}), "!!!notbase64",
]
VALUES = st.one_of(
    st.sampled_from(NASTY), st.sampled_from(NASTY), st.sampled_from(NASTY),  # mostly what broke before
    st.text(max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda day: day.isoformat()),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)


# The records --------------------------------------------------------------------------------------

@pytest.fixture
def world(rep_east, director, teams, picklists, settings, tmp_path, book):
    """rep_east holds every capability but configuring, within their team (as in the access grids), so
    the walk reaches the import, export and merge pages too. A customer of rep_east's with a contact, a share, a follow-up; a deal in a gated pipeline with a
    quote (awaiting approval), a contract with instalments and a payment; a target, a notification,
    a saved view, a pool, a merge, an import batch, an export."""
    from accounts.capabilities import Capability, Scope
    from accounts.models import Role
    from accounts.services import share_create
    from crm.models import Choice, Notification
    from crm.tests.factories import ContactFactory, FollowUpFactory
    from crm.tests.test_access_grid import BUILD
    from sales import services
    from sales.models import DiscountRule, DocumentNumbering, StageKind, Target, TargetPeriod
    from sales.tests.contract_factories import contract, days, win

    rep_east.roles.add(Role.objects.create(name="全能销售", customers_scope=Scope.TEAM, capabilities=[
        c for c in Capability.values if c != Capability.CONFIGURE_CUSTOMERS]))
    settings.MEDIA_ROOT = tmp_path / "media"
    customer = book["c_sh"]
    contact = ContactFactory(customer=customer, name="联系人")
    FollowUpFactory(customer=customer, contact=contact, created_by=rep_east, summary="跟进")
    found = {"customer": customer, "contact": contact,
             "share": share_create(obj=customer, by=director, user=rep_east, can_edit_record=True)}
    for kind, build in BUILD.items():
        found[kind] = build(rep_east, teams, tmp_path)
    pipeline = services.pipeline_save(by=director, name="模糊测试流程")
    stage = pipeline.stages.get(kind=StageKind.OPEN)
    found["gate_item"] = services.gate_item_save(by=director, stage=stage, label="评审")
    product = services.product_save(by=director, code="FZ-1", name="模糊产品", list_price=Decimal(100))
    found.update(pipeline=pipeline, stage=stage, product=product)
    deal = services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="模糊商机",
                                       amount=Decimal(1000))
    found["deal"] = deal
    found["quote"] = services.quote_create(by=rep_east, opportunity=deal, title="报价")
    won = services.opportunity_create(by=rep_east, customer=customer, pipeline=pipeline, name="赢单商机",
                                      amount=Decimal(1000))
    win(won, rep_east)
    found["won"] = won
    found["contract"] = contract(won, rep_east, [(days(30), "600"), (days(60), "400")])
    found["instalment"] = found["contract"].instalments.order_by("pk").first()
    found["target"] = Target.objects.create(user=rep_east, period=TargetPeriod.MONTH,
                                            starts_on=days(0).replace(day=1), amount=Decimal(100), count=1)
    found["notification"] = Notification.objects.filter(recipient=rep_east).first()
    found["rule"] = DiscountRule.objects.first()
    found["numbering"] = DocumentNumbering.objects.first()
    found["choice"] = Choice.objects.filter(kind="industry").first()
    found["ticket"] = _ticket(customer)
    return found


def _ticket(customer):
    """A ticket on the customer, opened by the system (the web form's way): in the customer's team."""
    from service import services
    from service.models import CalendarDay, SlaPolicy, TicketType, WorkCalendar, WorkWindow
    from service.seed import seed_default_calendar, seed_service_desk

    seed_default_calendar(WorkCalendar, WorkWindow, CalendarDay)
    seed_service_desk(TicketType, SlaPolicy)
    return services.ticket_create(by=None, customer=customer, subject="模糊工单", type=TicketType.objects.first())


# Which record each path argument names, by route ----------------------------------------------------

def _pk_kind(name):
    """What `pk` names on the route `name`."""
    for prefix, kind in (("crm:saved_view", "saved_view"), ("crm:customer_merge_undo", "merge"),
                         ("crm:import_", "batch"), ("sales:opportunity_", "deal"), ("sales:quote_create", "deal"),
                         ("sales:contract_create", "won"), ("sales:quote", "quote"), ("sales:approval", "approval"),
                         ("sales:contract", "contract"), ("sales:payment", "contract"), ("sales:target", "target"),
                         ("notifications:settings_email_retry", "email"), ("notifications:", "notification"),
                         ("accounts:settings_user", "user"), ("accounts:settings_team", "team"),
                         ("accounts:settings_role", "role"), ("service:ticket_", "ticket"), ("crm:", "customer")):
        if name.startswith(prefix):
            return kind
    return None


ARG_KINDS = {"contact_pk": "contact", "share_pk": "share", "pool_pk": "pool", "choice_pk": "choice",
             "export_pk": "export", "pipeline_pk": "pipeline", "stage_pk": "stage", "item_pk": "gate_item",
             "product_pk": "product", "rule_pk": "rule", "instalment_pk": "instalment", "payment_pk": "payment"}


def _pk_of(world, kind, user):
    from accounts.models import Role, Team
    from sales.models import Payment, QuoteApproval

    if kind == "user":
        return user.pk
    if kind == "team":
        return Team.objects.order_by("pk").values_list("pk", flat=True).first()
    if kind == "role":
        return Role.objects.order_by("pk").values_list("pk", flat=True).first()
    if kind == "approval":
        return QuoteApproval.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    if kind == "payment":
        return Payment.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    record = world.get(kind)
    return getattr(record, "pk", None) or 1


def _admin_pk(name):
    from django.apps import apps

    match = re.fullmatch(r"admin:(\w+?)_(\w+)_(change|delete|history)", name)
    if not match:
        return 1
    for model in apps.get_models():
        if f"{model._meta.app_label}_{model._meta.model_name}" == f"{match[1]}_{match[2]}":
            return model._default_manager.order_by("pk").values_list("pk", flat=True).first() or 1
    return 1


def path_of(name, route, world, user):
    def value(match):
        converter, arg = match[1], match[2]
        if arg == "content_type_id":  # the admin's "view on site": a customer's
            from django.contrib.contenttypes.models import ContentType

            return str(ContentType.objects.get_by_natural_key("crm", "customer").pk)
        if name == "admin:view_on_site":
            return str(world["customer"].pk)
        if converter == "path" or arg == "id":
            return str(_admin_pk(name) if arg == "object_id" else user.pk if arg == "id" else 1)
        if converter == "str":
            return "quote"
        if converter == "slug":
            return "industry" if arg == "kind" else _rule_key()
        kind = _pk_kind(name) if arg == "pk" else ARG_KINDS.get(arg)
        return str(_pk_of(world, kind, user))

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def _rule_key():
    from crm.notifications.rules import RULES

    return next(iter(RULES), "x")


# The forms a page shows -------------------------------------------------------------------------------

class FormReader(HTMLParser):
    """Every <form> of a page: its method, action and fields (name -> the value it would send)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                          "fields": {}}
            self.forms.append(self._form)
        elif self._form is None or not attrs.get("name"):
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                self._form["fields"].setdefault(attrs["name"], None)
            elif kind not in ("file", "submit", "button", "image"):
                self._form["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "button" and attrs.get("value") is not None:
            self._form["fields"].setdefault(attrs["name"], None)  # sent only when fuzzed (which button)
        elif tag == "textarea":
            self._form["fields"][attrs["name"]] = ""
        elif tag == "select":
            self._select = attrs["name"]
            self._form["fields"].setdefault(self._select, None)
        if tag == "option" and self._select and self._form is not None:
            fields = self._form["fields"]
            if fields.get(self._select) is None or "selected" in attrs:
                fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def forms_of(response):
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    reader = FormReader()
    reader.feed(response.content.decode(errors="replace"))
    return reader.forms


# The walk ----------------------------------------------------------------------------------------

def assert_answers(response, what):
    assert response.status_code < 500, f"{what} answered {response.status_code}"


def _rolled_back(send):
    with transaction.atomic():
        response = send()
        transaction.set_rollback(True)
    return response


def every_or_some(names):
    """One generated value in every name at once (a view reads its parameters in turn: the first that
    breaks it shows), or different values in some of them."""
    return st.one_of(VALUES.map(lambda value: dict.fromkeys(names, value)),
                     st.fixed_dictionaries({}, optional={n: VALUES for n in names}))


def query_names(url, forms, page):
    """The names the page's GET forms declare, the keys of its links back to itself, and the usual ones."""
    names = {*QUERY_NAMES, *(n for f in forms if f["method"] == "get" for n in f["fields"])}
    if page.status_code == 200 and "html" in page.get("Content-Type", ""):
        for href in re.findall(r'href="([^"]*\?[^"]*)"', page.content.decode(errors="replace")):
            parts = urlsplit(href.replace("&amp;", "&"))
            if parts.path in ("", url):
                names.update(key for key, _value in parse_qsl(parts.query, keep_blank_values=True))
    return sorted(names)


def fuzz_route(client, url, name, seen):
    page = _rolled_back(lambda: client.get(url))
    assert_answers(page, f"GET {url}")
    forms = forms_of(page)
    admin = name.startswith("admin:")

    @fuzz_settings(ADMIN_EXAMPLES if admin else EXAMPLES)
    @given(every_or_some(query_names(url, forms, page)))
    def query(params):
        response = _rolled_back(lambda: client.get(url, params))
        assert_answers(response, f"GET {url} {params!r}")

    query()
    if admin:
        return  # Django's admin: superusers only, its own forms; its query strings are walked above
    posts = [f for f in forms if f["method"] == "post"]
    if not posts:  # a POST-only URL (a button elsewhere): what the usual names carry
        posts = [{"action": url, "fields": dict.fromkeys(["name", "amount", "count", "note", "reason", "next"])}]
    for form in posts:
        key = (urlsplit(form["action"]).path or url, tuple(sorted(form["fields"])))
        if key not in seen:  # the layout's forms (the bell, the language) are on every page: once is enough
            seen.add(key)
            fuzz_form(client, form, url)


def fuzz_form(client, form, url):
    action = urlsplit(form["action"]).path or url
    if action.startswith("/accounts/logout") or action.startswith("/i18n/"):
        return  # signing out or switching the language would end the walk as this user
    baseline = {k: v for k, v in form["fields"].items() if v is not None and k != "csrfmiddlewaretoken"}
    fields = sorted(k for k in form["fields"] if k != "csrfmiddlewaretoken") or ["name"]

    @fuzz_settings(EXAMPLES)
    @given(every_or_some(fields))
    def post(changes):
        response = _rolled_back(lambda: client.post(action, {**baseline, **changes}))
        assert_answers(response, f"POST {action} {changes!r}")

    post()


def routes(prefixes):
    return [(name, route) for name, route in named_routes()
            if name.split(":")[0] in prefixes and "(?P" not in route and name not in SKIP
            and not name.startswith("admin:pghistory_")]


# Signing out ends the walk; the health check answers about services, not input. pghistory's own admin
# of its events reads a view ("pghistory_events") this project does not create: it fails on any input.
SKIP = {"accounts:logout", "admin:logout", "healthz", "set_language"}
AREAS = {"crm": ("crm",), "sales": ("sales",), "other": ("", "home", "accounts", "service", "support", "marketing",
                                                        "reports", "notifications"), "admin": ("admin",)}


@pytest.fixture
def superuser(teams):
    return UserFactory(username="root", team=teams["hq"], is_superuser=True, is_staff=True)


@pytest.mark.parametrize("who", ["superuser", "rep_east"])
@pytest.mark.parametrize("area", list(AREAS))
def test_no_input_gives_a_5xx(client, request, world, who, area):
    if area == "admin" and who != "superuser":
        pytest.skip("the admin is for superusers only")
    user = request.getfixturevalue(who)
    client.force_login(user)
    walked = routes(AREAS[area])
    assert walked, area
    seen = set()
    for name, route in walked:
        fuzz_route(client, path_of(name, route, world, user), name, seen)
