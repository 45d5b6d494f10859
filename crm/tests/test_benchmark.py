"""The benchmark command, run on a tiny generated company (a smoke test: figures are not checked)."""
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm import scale
from crm.management.commands.benchmark import Sample, customer_cases, pad

PEOPLE = ("rep", "销售总监")
PAGES = [case.page for case in customer_cases(Sample(1, "", "", "", "", "", ""))]


@pytest.fixture
def tiny_scale(roles):
    scale.seed_scale(customers=120, regions=1, branches=2, reps=2, drop_index=False)


def _run(*args):
    out = StringIO()
    call_command("benchmark", *args, stdout=out)
    return out.getvalue()


def test_it_times_every_customer_page_as_a_rep_and_as_the_director(tiny_scale):
    output = _run("customers", "--repeat", "2", "--warmup", "0")

    lines = output.splitlines()
    for person in PEOPLE:
        for page in PAGES:
            row = [line for line in lines if line.startswith(f"{page:<26}{pad(person, 10)}")]
            assert len(row) == 1, f"no row for {page} as {person}"
            assert row[0].rstrip().endswith(("PASS", "FAIL", "missing")) or "HTTP" in row[0]
    assert "≤100" in output and "≤150" in output and "≤200" in output


def test_it_writes_json_for_the_closing_note(tiny_scale):
    report = json.loads(_run("customers", "--repeat", "2", "--warmup", "0", "--json"))

    rows = report["rows"]
    assert [(r["user"], r["page"]) for r in rows] == [(p, page) for p in PEOPLE for page in PAGES]
    for row in rows:
        if row["result"] == "missing":
            assert row["p95_ms"] is None
        else:
            assert row["p50_ms"] <= row["p95_ms"] and row["queries"] > 0 and row["url"].startswith("/")
    by_page = {(r["user"], r["page"]): r for r in rows}
    assert by_page[("rep", "customer page")]["target_ms"] == 100
    assert by_page[("rep", "my day")]["target_ms"] == 150
    assert by_page[("销售总监", "phone fragment search")]["target_ms"] == 200
    if report["explain"]:
        assert any("Execution Time" in line for line in report["explain"]["plan"])


def test_it_searches_with_what_a_person_would_type_for_a_real_customer(tiny_scale):
    from accounts.models import User
    from crm.management.commands.benchmark import Command

    rep = User.objects.get(username="scale_rep_00_00_00")
    sample = Command().sample_for(rep)

    customer = rep.customers_owned.get(pk=sample.pk)
    assert sample.fragment in customer.name and len(sample.fragment) == 3
    assert f" {sample.trade} " in customer.search_text
    assert sample.pinyin in customer.search_text and sample.initials in customer.search_text
    assert len(sample.phone) == 7 and sample.phone in customer.mobile


def test_it_still_times_the_access_layer(tiny_scale):
    output = _run("access", "--repeat", "1")

    assert "rep, seed role 销售代表 (team)" in output
    assert "user owning nothing" in output


def test_it_asks_for_scale_data_first(db):
    with pytest.raises(CommandError, match="seed_scale"):
        _run("customers")


def test_the_import_benchmark_leaves_the_database_as_it_found_it(tmp_path, settings, it_importer, rep_east):
    """After its undo, the run's batch goes with its staged rows, undo records, audit events and files;
    customers the run did not create are untouched."""
    from pghistory.models import Context

    from crm.lib.audit import event_model
    from crm.management.commands._import_bench import forget_batch
    from crm.models import Contact, Customer, ImportBatch, ImportRecord, ImportRow
    from crm.services.imports.undo import import_undo
    from crm.tests.factories import CustomerFactory
    from crm.tests.test_imports import run

    settings.MEDIA_ROOT = tmp_path / "media"
    kept = CustomerFactory(name="老客户有限公司", owner=rep_east)
    batch = run(tmp_path, it_importer, [["新客户有限公司", "", "13812345678", "", "", "", "", "张三", ""],
                                         ["老客户有限公司", "", "", "a@example.com", "", "", "", "", ""]],
                policy="fill")
    other = run(tmp_path, it_importer, [["别的客户有限公司", "", "", "", "", "", "", "", ""]])
    batch.status = ImportBatch.Status.UNDOING
    batch.save()
    import_undo(batch.pk, by_id=it_importer.pk)
    upload = batch.file.path
    assert ImportRow.objects.filter(batch_id=batch.pk).exists()
    events = {model: list(event_model(model).objects.filter(pgh_context__metadata__import_batch=batch.pk)
                          .values_list("pk", flat=True)) for model in (Customer, Contact)}
    assert events[Customer] and events[Contact]

    forget_batch(batch.pk)

    assert not ImportBatch.objects.filter(pk=batch.pk).exists()
    assert not ImportRow.objects.filter(batch_id=batch.pk).exists()
    assert not ImportRecord.objects.filter(batch_id=batch.pk).exists()
    assert not Context.objects.filter(metadata__import_batch=batch.pk).exists()
    assert not (tmp_path / "media" / upload).exists()
    assert Customer.objects.filter(pk=kept.pk).exists()
    # The other batch keeps everything.
    assert ImportRow.objects.filter(batch_id=other.pk).count() == 1
    assert event_model(Customer).objects.filter(pgh_context__metadata__import_batch=other.pk).count() == 1
    for model, pks in events.items():
        assert not event_model(model).objects.filter(pk__in=pks).exists()
