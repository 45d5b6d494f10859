"""Every URL of the customer core that names a record, each filled with a real record of its own kind
(a customer, a contact, a share, a saved view, a pool, a merge, an export, an import, a picklist entry),
walked on GET and POST:

- as another team's rep who holds every capability but configuring: 404 everywhere, nothing changed,
  nothing of the record in the answer (the settings pages, which configuring guards, answer 403);
- as the record's own side: never 404 or 403 on the same URL, so no case above passes by accident;
- as a reader who sees a customer read-only (a read-only share, or its pool): 403 on every change;

and nothing of the customer in any list, search, count or export another team's rep can reach."""
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from accounts.capabilities import Capability, Scope
from accounts.models import Role, Share
from accounts.services import share_create
from conftest import named_routes
from crm.models import (
    Choice,
    Contact,
    Customer,
    CustomerMerge,
    Export,
    FollowUp,
    ImportBatch,
    Pool,
    SavedView,
)
from crm.services import customers_merge
from crm.tests.factories import ContactFactory, CustomerFactory, FollowUpFactory

pytestmark = pytest.mark.django_db

SECRET_NAME = "绝密华东客户有限公司"
SECRET_PHONE = "+8613912398765"


def crm_routes():
    """(name, route) of every crm URL that takes an id, the customer core's settings pages (served by the
    settings area under /settings/customers/) included."""
    return sorted((name, route) for name, route in named_routes()
                  if name.startswith(("crm:", "settings:customers:")) and "<int:" in route)


ROUTES = crm_routes()

# What each URL argument names, by route: the key in the `world` fixture of the record it takes.
CUSTOMER_ARGS = {"pk": "customer", "contact_pk": "contact", "share_pk": "share"}
ARGS = {
    "crm:saved_view_delete": {"pk": "saved_view"},
    "crm:customer_merge_undo": {"pk": "merge"},
    "crm:export_status": {"export_pk": "export"},
    "crm:export_download": {"export_pk": "export"},
    **{name: {"pk": "batch"} for name, route in ROUTES if name.startswith("crm:import_")},
    **{name: {"pool_pk": "pool"} for name, route in ROUTES if "<int:pool_pk>" in route},
    **{name: {"choice_pk": "choice"} for name, route in ROUTES if "<int:choice_pk>" in route},
}
# Configuring (picklists, pools) is a capability, not a data scope: without it, 403.
SETTINGS = {name for name, route in ROUTES if name.startswith("settings:customers:")}
# Reading a customer; every other customer URL changes it.
CUSTOMER_READS = {"crm:customer_detail", "crm:customer_timeline"}
# Claiming is what a pool's reader may do (and a shared owned customer's reader is told it has an owner).
CUSTOMER_WRITES = sorted(name for name, route in ROUTES if name not in ARGS and name not in CUSTOMER_READS
                         and name != "crm:customer_claim")


def args_of(name, route):
    return ARGS.get(name) or {arg: CUSTOMER_ARGS[arg] for arg in re.findall(r"<int:(\w+)>", route)}


def fill(route, values):
    path = route
    for arg, value in values.items():
        path = path.replace(f"<int:{arg}>", str(value))
    path = "/" + path
    assert not re.search(r"<\w+:\w+>", path), path
    return path


def url_for(name, route, world):
    return fill(route, {arg: world[kind].pk for arg, kind in args_of(name, route).items()})


@pytest.fixture
def every_capability(db):
    """Every capability but configuring, with the scope of one's own team: what stops another team's
    rep below is the data scope, not a missing capability."""
    return Role.objects.create(name="全能销售", customers_scope=Scope.TEAM, capabilities=[
        c for c in Capability.values if c != Capability.CONFIGURE_CUSTOMERS])


@pytest.fixture
def insider(rep_east, every_capability):
    rep_east.roles.add(every_capability)
    return rep_east


@pytest.fixture
def outsider(rep_west, every_capability):
    rep_west.roles.add(every_capability)
    return rep_west


@pytest.fixture
def world(request, insider, director, teams, picklists, settings, tmp_path):
    """Rep_east's customer (with a contact, a follow-up and a share), and the one record of another kind
    the test's route takes, on rep_east's side of the company: a saved view, a pool of 华东区 (with a
    customer waiting in it), a merge, an import checked (with its error report), a finished export
    with its file, a picklist entry. Only what the route needs is built: the grid stays fast."""
    name = getattr(getattr(request.node, "callspec", None), "params", {}).get("name")
    kinds = set(args_of(name, dict(ROUTES)[name]).values()) if name else set()
    settings.MEDIA_ROOT = tmp_path / "media"
    customer = CustomerFactory(name=SECRET_NAME, owner=insider, mobile=SECRET_PHONE, tags=["机密"])
    contact = ContactFactory(customer=customer, name="秘密联系人", mobile="+8613700000001")
    FollowUpFactory(customer=customer, contact=contact, created_by=insider, summary="秘密跟进内容")
    found = {"customer": customer, "contact": contact,
             "share": share_create(obj=customer, by=director, user=insider, can_edit_record=True)}
    for kind in kinds - set(found):
        found[kind] = BUILD[kind](insider, teams, tmp_path)
    return found


def _saved_view(insider, teams, tmp_path):
    return SavedView.objects.create(user=insider, name="我的重点客户", query="tag=机密")


def _pool(insider, teams, tmp_path):
    pool = Pool.objects.create(name="华东公海")
    pool.teams.add(teams["east"])
    CustomerFactory(name="华东公海里的客户", pool=pool)
    return pool


def _merge(insider, teams, tmp_path):
    twin = CustomerFactory(name="绝密华东客户（重复）", owner=insider)
    survivor = CustomerFactory(name="已合并的华东客户", owner=insider)
    return customers_merge(survivor=survivor, others=[twin], by=insider)


def _batch(insider, teams, tmp_path):
    from crm.services import imports
    from crm.tests.test_imports import sheet_file

    batch = imports.import_upload(by=insider, file_name="华东客户.xlsx", path=sheet_file(tmp_path, [
        ["华东新客户", "", "13812345678", "", "", "", "", "", ""], ["坏电话公司", "", "12345", "", "", "", "", "", ""]]))
    batch = imports.import_preview(batch.pk)
    assert batch.error_report
    return batch


def _export(insider, teams, tmp_path):
    from django.core.files.base import ContentFile

    export = Export.objects.create(user=insider, status=Export.Status.DONE, total=1, done=1)
    export.file.save("customers.xlsx", ContentFile(b"PK\x03\x04"))
    return export


def _choice(insider, teams, tmp_path):
    return Choice.objects.filter(kind="industry").first()


BUILD = {"saved_view": _saved_view, "pool": _pool, "merge": _merge, "batch": _batch, "export": _export,
         "choice": _choice}


def snapshot():
    """Every table a customer-core URL could change."""
    tables = (Customer, Contact, FollowUp, Share, SavedView, Pool, Pool.teams.through, Choice, CustomerMerge, Export,
              ImportBatch)
    return [list(model.objects.order_by("pk").values()) for model in tables]


POSTED = {"name": "改名", "summary": "x", "label": "x", "code": "x", "direction": "up", "reason": "x",
          "can_edit": "on", "ids": [], "policy": "overwrite"}


def posted(world, user):
    """What the grid posts: a change of everything a form could take, the columns of the import included."""
    batch = world.get("batch")
    columns = {} if batch is None else {
        "sheet": batch.sheet, "header_row": batch.header_row + 1, "tier_words": "", "save_as": "",
        **{f"col_{index}": key for index, key in batch.mapping.items()}}
    return {**POSTED, **columns, "user": user.pk}


def test_every_route_is_filled_with_a_record_of_its_kind():
    names = {name for name, _route in ROUTES}
    assert {"crm:customer_detail", "crm:customer_share", "crm:import_detail", "crm:saved_view_delete",
            "crm:customer_merge_undo", "crm:pool_detail", "crm:export_status", "settings:customers:choice_edit"} <= names
    for name, route in ROUTES:
        kinds = args_of(name, route)
        assert set(kinds) == set(re.findall(r"<int:(\w+)>", route)), name
        assert set(kinds.values()) <= {*CUSTOMER_ARGS.values(), *BUILD}, name


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_another_teams_rep_gets_404_on_get_and_post_and_changes_nothing(client_for, outsider, world, name, route):
    url = url_for(name, route, world)
    refused = 403 if name in SETTINGS else 404
    before = snapshot()
    client = client_for(outsider)
    for method in ("get", "post"):
        response = getattr(client, method)(url, posted(world, outsider))
        expected = {refused, 405} if method == "get" else {refused}
        assert response.status_code in expected, (name, method, response.status_code)
        assert SECRET_NAME not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("name, route", ROUTES, ids=[r[0] for r in ROUTES])
def test_the_records_own_side_reaches_the_same_url(client_for, insider, admin, world, name, route):
    """The control of the grid above: the same URL, with the same record, is neither 404 nor 403 for
    its own side (an admin for the settings), so the outsider's 404 is the access rule's."""
    client = client_for(admin if name in SETTINGS else insider)
    url = url_for(name, route, world)
    for method in ("get", "post"):
        response = getattr(client, method)(url, posted(world, insider))
        assert response.status_code not in (403, 404), (name, method, response.status_code)


@pytest.fixture
def read_only(request, rep_west, director, teams):
    """A customer rep_west sees but may not change: shared with him read-only, or waiting in a pool
    open to his region; with a contact and a share of its own."""
    if request.param == "shared":
        customer = CustomerFactory(name=SECRET_NAME, owner=director)
        share_create(obj=customer, by=director, user=rep_west)
    else:
        pool = Pool.objects.create(name="华北公海")
        pool.teams.add(teams["north"])
        customer = CustomerFactory(name=SECRET_NAME, pool=pool)
    return {"customer": customer, "contact": ContactFactory(customer=customer, name="只读联系人"),
            "share": share_create(obj=customer, by=director, user=director)}


@pytest.mark.parametrize("read_only", ["shared", "pool"], indirect=True)
@pytest.mark.parametrize("name", CUSTOMER_WRITES)
def test_a_read_only_reader_gets_403_on_every_change_and_changes_nothing(client_for, rep_west, read_only, name):
    client = client_for(rep_west)
    assert client.get(reverse("crm:customer_detail", args=[read_only["customer"].pk])).status_code == 200
    url = url_for(name, dict(ROUTES)[name], read_only)
    before = snapshot()
    for method in ("get", "post"):
        response = getattr(client, method)(url, posted(read_only, rep_west))
        expected = {403, 405} if method == "get" else {403}
        assert response.status_code in expected, (name, method, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("read_only", ["shared", "pool"], indirect=True)
@pytest.mark.parametrize("name", sorted(CUSTOMER_READS))
def test_a_read_only_reader_opens_the_customers_pages(client_for, rep_west, read_only, name):
    response = client_for(rep_west).get(url_for(name, dict(ROUTES)[name], read_only))
    assert response.status_code == 200


@pytest.mark.parametrize("url_name, params, shown_to_its_side", [
    ("crm:customer_list", {}, True),
    ("crm:customer_list", {"q": "绝密"}, True),
    ("crm:customer_list", {"q": "juemi"}, True),
    ("crm:customer_list", {"q": "3912398"}, True),
    ("crm:customer_list", {"tag": "机密"}, True),
    ("crm:customer_list", {"view": "overdue"}, False),
    ("crm:global_search", {"q": "绝密"}, True),
    ("crm:global_search", {"q": "秘密联系人"}, True),
    ("crm:my_day", {}, False),
    ("crm:pool_list", {}, False),
])
def test_it_leaks_nothing_into_lists_searches_and_counts(client_for, outsider, insider, world, url_name, params,
                                                         shown_to_its_side):
    if shown_to_its_side:  # the control: the same list shows it to rep_east
        assert SECRET_NAME in client_for(insider).get(reverse(url_name), params).content.decode()
    body = client_for(outsider).get(reverse(url_name), params).content.decode()
    body = body.replace(f'value="{params.get("q", "")}"', "")  # the search box shows the typed term back
    assert SECRET_NAME not in body and "秘密联系人" not in body and "3912398765" not in body
    assert f"/customers/{world['customer'].pk}/" not in body


def test_it_leaks_nothing_into_an_export(client_for, outsider, world):
    """A rep of another team who may export (team scope) exports their list: the secret is not in it."""
    CustomerFactory(name="北京自己的客户", owner=outsider)
    response = client_for(outsider).get(reverse("crm:customer_export"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    book = openpyxl.load_workbook(io.BytesIO(content))
    values = {str(cell.value) for row in book.active.iter_rows() for cell in row}
    assert "北京自己的客户" in values
    assert SECRET_NAME not in values
