"""The audit trail: every insert, change and deletion of a business record leaves an event saying who
and why (bulk writes too), deleted records stay readable to those who may read them, the history
shows only real changes, and every name it shows passes the access layer."""
import datetime

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone, translation

from accounts.history import audit_log, history, of_record, tracked_models
from accounts.models import Team
from accounts.services import team_create
from accounts.tests.factories import RoleFactory, UserFactory
from crm import services
from crm.lib.audit import audited, event_model, triggers_skipped
from crm.models import Contact, Customer, FollowUp, Pool
from crm.services import customer_merge_undo, customers_merge, pool_assign, pool_claim, pool_release, pool_rules_apply
from crm.tests.factories import ContactFactory, CustomerFactory, choice

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

# Models of crm, accounts and sales that need no history of their own, and why.
NOT_BUSINESS_RECORDS = {
    "crm.customersearch": "a copy of the customer's search text",
    "crm.poolevent": "itself the record of customers moving in and out of pools",
    "crm.customermerge": "itself the record of a merge, whose customers' events tell it too",
    "crm.savedview": "a person's own saved filter",
    "crm.export": "a file being written", "crm.importbatch": "an import's progress",
    "crm.importrow": "a staged row of an import file", "crm.importrecord": "what undo needs of an import",
    "crm.importrawvalue": "a cell of an import file as it was, beside its customer",
    "crm.notification": "a reminder raised by a rule", "crm.notificationpreference": "a person's own setting",
    "crm.emaildelivery": "an e-mail on its way", "crm.queuedtask": "a task waiting for the broker (the outbox)",
    "sales.stagevisit": "itself the stage history of a deal", "sales.numbercounter": "a document number counter",
}
# Django's own permission tables, which the product does not use (roles hold the capabilities).
NOT_BUSINESS_LINKS = {"accounts.user.groups", "accounts.user.user_permissions"}


def events_of(model, pk):
    """[(label, context metadata)] of one record, oldest first."""
    rows = event_model(model).objects.filter(pgh_obj_id=pk).select_related("pgh_context").order_by("pgh_id")
    return [(e.pgh_label, e.pgh_context.metadata if e.pgh_context_id else {}) for e in rows]


def said(model, pk, label):
    """(user, action) of the record's last event of that label."""
    found = [meta for event_label, meta in events_of(model, pk) if event_label == label]
    assert found, f"no {label} event of {model.__name__} #{pk}"
    return found[-1].get("user"), found[-1].get("action")


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def customer(rep_east, picklists):
    return services.customer_create(by=rep_east, name="上海华信科技有限公司",
                                    contact={"name": "王芳", "mobile": "+8613900001111"})


# 1. Every business record, every write ------------------------------------------------------------

def test_it_tracks_inserts_changes_and_deletions_of_every_business_model():
    tracked = {m._meta.label_lower: {t.label for t in event_model(m).pgh_trackers} for m in tracked_models()}
    for app in ("crm", "accounts", "sales"):
        for model in apps.get_app_config(app).get_models():
            label = model._meta.label_lower
            if model._meta.proxy or label in NOT_BUSINESS_RECORDS or hasattr(model, "pgh_tracked_model"):
                continue
            assert {"insert", "update", "delete"} <= tracked.get(label, set()), label
            for field in model._meta.local_many_to_many:
                if f"{label}.{field.name}" in NOT_BUSINESS_LINKS:
                    continue
                links = [m for m in tracked_models() if m._meta.concrete_model is field.remote_field.through]
                assert links and {"insert", "delete"} <= {t.label for t in event_model(links[0]).pgh_trackers}, \
                    f"{label}.{field.name}"


def test_it_records_a_purge_with_the_customer_its_contacts_and_follow_ups(customer, rep_east, admin):
    contact = customer.contacts.get()
    followup = services.followup_log(customer=customer, by=rep_east, kind=choice("followup_kind", "call"),
                                     summary="电话", contact=contact)
    services.customer_archive(customer=customer, by=rep_east)

    services.customer_purge(customer=Customer.objects.get(pk=customer.pk), by=admin)

    for model, pk in ((Customer, customer.pk), (Contact, contact.pk), (FollowUp, followup.pk)):
        assert said(model, pk, "delete") == (admin.pk, "customer_purge"), model
    assert said(FollowUp, followup.pk, "insert") == (rep_east.pk, "followup_log")


def test_an_admin_reads_what_was_deleted_in_the_audit_log(customer, rep_east, admin, english):
    services.customer_archive(customer=customer, by=rep_east)
    services.customer_purge(customer=Customer.objects.get(pk=customer.pk), by=admin)

    deleted = audit_log(admin, kind="delete")

    purge = next(e for e in deleted if e["model"] is Customer)
    assert purge["title"] == "deleted customer 上海华信科技有限公司"
    assert purge["who"] == str(admin) and purge["action"] == "customer_purge"
    assert ("name", "上海华信科技有限公司", None) in purge["changes"]
    assert any(e["title"] == "deleted contact 王芳" for e in deleted)


def test_the_audit_log_leaves_out_what_its_reader_may_not_open(customer, rep_east, rep_west, admin, teams, roles,
                                                               english):
    """A reader of the audit log who sees only the own team's customers reads neither another team's
    customers nor deleted ones (no rule can tell whose they were)."""
    CustomerFactory(owner=rep_west, name="北京客户")
    gone = CustomerFactory(owner=rep_east, name="已删除客户", archived_at=timezone.now())
    services.customer_purge(customer=gone, by=admin)
    auditor = UserFactory(username="auditor", team=teams["shanghai"], roles=[RoleFactory(
        name="审计员", capabilities=["accounts.audit:view"], customers_scope=30, sales_scope=30)])

    names = {e["record"] for e in audit_log(auditor, model=Customer)}

    assert "上海华信科技有限公司" in names
    assert not {"北京客户", "已删除客户"} & names
    assert {"北京客户", "已删除客户"} <= {e["record"] for e in audit_log(admin, model=Customer)}


def test_the_audit_log_page_is_for_its_readers_with_a_fixed_number_of_queries(
        client_for, customer, rep_east, admin, django_assert_max_num_queries):
    from django.contrib.contenttypes.models import ContentType

    def changes(first, last):
        for i in range(first, last):
            contact = ContactFactory(customer=customer, name=f"联系人{i}")
            services.contact_delete(contact=contact, by=rep_east)
            services.customer_update(customer=customer, by=rep_east, name=f"改名{i}", industry=choice("industry", "it"))

    client = client_for(admin)
    changes(0, 1)  # one of each kind of event first, so both counts read the same kinds of records
    ContentType.objects.clear_cache()
    with django_assert_max_num_queries(12) as few:
        assert client.get("/settings/accounts/audit/?kind=delete").status_code == 200
    changes(1, 5)
    ContentType.objects.clear_cache()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/settings/accounts/audit/?kind=delete").content.decode()
    assert "联系人4" in page
    assert client_for(rep_east).get("/settings/accounts/audit/").status_code == 403


def test_a_deleted_contact_shows_on_the_customers_timeline_with_who_deleted_it(english_client_for, customer,
                                                                             rep_east, rep_east2):
    contact = ContactFactory(customer=customer, name="张三")
    pk = contact.pk

    services.contact_delete(contact=contact, by=rep_east)

    assert said(Contact, pk, "delete") == (rep_east.pk, "contact_delete")
    timeline = english_client_for(rep_east2).get(customer.get_absolute_url()).context["timeline"]
    deleted = [item for item in timeline if item.get("title") == "deleted contact 张三"]
    assert len(deleted) == 1 and deleted[0]["who"] == str(rep_east)


def test_a_block_inside_another_keeps_its_own_who_and_why(rep_east, admin):
    """A seed creating users, then customers, in one outer block: each event says its own action
    (they all said the last inner one's)."""
    with audited(None, "seed_demo"):
        with audited(admin, "team_create"):
            team = Team.objects.create(name="深圳分公司")
        customer = CustomerFactory(owner=rep_east)

    assert said(Team, team.pk, "insert") == (admin.pk, "team_create")
    assert said(Customer, customer.pk, "insert") == (None, "seed_demo")


def test_a_bulk_write_inside_another_block_keeps_both_blocks_events_apart(rep_east, teams, admin):
    """The pool's nightly return writes its customers' events in one statement, under its own context,
    and leaves the events of the block around it as they were."""
    now = timezone.now()
    pool = Pool.objects.create(name="华东公海", idle_days_b=10)
    pool.teams.set([teams["east"]])
    idle = CustomerFactory(owner=rep_east, tier="B")
    Customer.objects.filter(pk=idle.pk).update(last_followup_at=now - datetime.timedelta(days=20))

    with audited(admin, "maintenance"):
        team = team_create(name="深圳分公司", by=admin)
        pool_rules_apply(now=now)
        late = Team.objects.create(name="广州分公司")

    assert said(Customer, idle.pk, "update") == (None, "pool_return")
    assert events_of(Customer, idle.pk)[-1][1]["reason"].startswith("Returned to the pool")
    assert said(Team, team.pk, "insert") == (admin.pk, "team_create")
    assert said(Team, late.pk, "insert") == (admin.pk, "maintenance")


def test_an_import_undo_records_the_customers_and_contacts_it_removes(tmp_path, settings, it_importer):
    from crm.services.imports.undo import import_undo
    from crm.tests.test_imports import run

    settings.MEDIA_ROOT = tmp_path / "media"
    batch = run(tmp_path, it_importer, [["新客户有限公司", "", "13812345678", "", "", "", "", "张三", ""]])
    made = Customer.objects.get(name="新客户有限公司")
    contact = made.contacts.get()

    import_undo(batch.pk, by_id=it_importer.pk)

    assert not Customer.objects.filter(pk=made.pk).exists()
    for model, pk in ((Customer, made.pk), (Contact, contact.pk)):
        events = events_of(model, pk)
        assert [label for label, _meta in events] == ["insert", "delete"], model
        assert events[-1][1]["action"] == "customer_import_undo"
        assert events[-1][1]["import_batch"] == batch.pk and events[-1][1]["user"] == it_importer.pk


# 2. Only real changes ------------------------------------------------------------------------------

@pytest.fixture
def east_pool(teams):
    pool = Pool.objects.create(name="华东公海", idle_days_b=10)
    pool.teams.set([teams["east"]])
    return pool


def backdated(customer, days=365):
    """Set the customer's creation time back as a seed does: in one statement, without an event."""
    with transaction.atomic(), triggers_skipped("crm.Customer:update_update"):
        Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))
    return customer


def timeline_html(response):
    return response.content.decode().split('data-testid="timeline"')[1].split("</ol>")[0]


def changed_fields(customer, user):
    with translation.override("en"):
        latest = history(user, [of_record(customer)], limit=1)[0]
    return latest["action"], {label for label, _old, _new in latest["changes"]}


def test_a_claim_shows_only_what_the_claim_changed(rep_east, east_pool):
    customer = backdated(CustomerFactory(pool=east_pool))

    pool_claim(ids=[customer.pk], by=rep_east)

    assert changed_fields(customer, rep_east) == ("pool_claim", {"owner", "team", "pool", "owned since"})


def test_a_release_shows_only_what_the_release_changed(rep_east, east_pool):
    customer = backdated(CustomerFactory(owner=rep_east))

    pool_release(ids=[customer.pk], by=rep_east)

    assert changed_fields(customer, rep_east) == ("pool_release", {"owner", "pool", "owned since"})


def test_an_assignment_shows_only_what_it_changed(rep_east, manager_east, east_pool):
    customer = backdated(CustomerFactory(pool=east_pool))

    pool_assign(ids=[customer.pk], owner=rep_east, by=manager_east)

    assert changed_fields(customer, manager_east) == ("pool_assign", {"owner", "team", "pool", "owned since"})


def test_the_nightly_return_shows_only_what_it_changed(rep_east, east_pool):
    now = timezone.now()
    customer = backdated(CustomerFactory(owner=rep_east, tier="B"))
    Customer.objects.filter(pk=customer.pk).update(last_followup_at=now - datetime.timedelta(days=20))

    assert pool_rules_apply(now=now)["total"] == 1

    assert changed_fields(customer, rep_east) == ("pool_return", {"owner", "pool", "owned since"})


def test_the_customer_page_shows_no_made_up_event(client_for, rep_east):
    """A customer made by a seed (no "create" action of the customer's own) shows one entry, its
    creation, said in words; nothing about its creation time."""
    with audited(None, "seed_demo"):
        with audited(None, "user_create"):
            UserFactory(username="新同事")
        customer = backdated(CustomerFactory(owner=rep_east))

    response = client_for(rep_east).get(customer.get_absolute_url())

    changes = [item for item in response.context["timeline"] if item["type"] == "change"]
    assert [str(item["title"]) for item in changes] == ["创建了客户"]
    assert "创建时间" not in timeline_html(response)


# 3. Names through the access layer -----------------------------------------------------------------

@pytest.fixture
def merged(rep_east, rep_west, director):
    """上海华信 (rep_east's) merged by the director into 北京华信 (rep_west's, which rep_east may not open)."""
    away = CustomerFactory(owner=rep_east, name="上海华信")
    survivor = CustomerFactory(owner=rep_west, name="北京华信")
    return away, survivor, customers_merge(survivor=survivor, others=[away], by=director)


def test_a_merged_away_customers_timeline_names_the_survivor_only_to_who_may_open_it(client_for, merged, rep_east,
                                                                                      director):
    away, survivor, merge = merged
    page = client_for(rep_east).get(away.get_absolute_url())

    assert page.status_code == 200
    assert "北京华信" not in page.content.decode()
    assert "无法打开的记录" in timeline_html(page)
    assert "北京华信" in client_for(director).get(away.get_absolute_url()).content.decode()

    customer_merge_undo(merge=merge, by=director)

    assert "北京华信" not in client_for(rep_east).get(away.get_absolute_url()).content.decode()


def test_names_in_the_history_pass_the_access_layer(merged, rep_east, director, english):
    away, _survivor, _merge = merged

    def merged_into(user):
        return [str(new) for e in history(user, [of_record(away)]) for label, _old, new in e["changes"]
                if label == "merged into"]

    assert merged_into(rep_east) == ["a record you cannot open"]
    assert merged_into(director) == ["北京华信"]


def test_the_customer_page_names_many_records_with_a_fixed_number_of_queries(client_for, customer, rep_east,
                                                                              rep_west, director,
                                                                              django_assert_max_num_queries):
    client = client_for(rep_east)
    # One query per model named (users, picklist entries), whatever the number of names.
    services.customer_update(customer=customer, by=rep_east, industry=choice("industry", "it"))
    with django_assert_max_num_queries(20) as few:
        client.get(customer.get_absolute_url())
    for i, by in enumerate((rep_east, director, rep_east, director, rep_east)):
        contact = ContactFactory(customer=customer, name=f"联系人{i}")
        services.contact_save(customer=customer, by=by, contact=contact, title=f"经理{i}")
        services.contact_delete(contact=contact, by=by)
        services.customer_update(customer=customer, by=by, industry=choice("industry", "it" if i % 2 else "retail"),
                                 source=choice("source", "referral" if i % 2 else "website"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(customer.get_absolute_url()).content.decode()
    assert "联系人4" in page
