"""Undo of imports that follow one another: an import undone since is no edit of an earlier one's
customers, a person's edit is; an undo that leaves customers says which and why, leaves the batch
partly undone, and can be run again. A `fill` that changes nothing leaves the customer unchanged."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm import services
from crm.models import Customer, FollowUp, ImportBatch, ImportRecord
from crm.services import imports
from crm.tests.factories import FollowUpFactory
from crm.tests.test_imports import run

pytestmark = pytest.mark.django_db

Status = ImportBatch.Status
NAMES = ["甲有限公司", "乙有限公司", "丙有限公司"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def rows(notes, *, mobiles=False):
    return [[name, "", f"1381234567{i}" if mobiles else "", "", "rep_east", "", "", "", notes]
            for i, name in enumerate(NAMES)]


def undo(batch, by, **options):
    """Request the undo of `batch` and run it as the queued task would."""
    imports.import_request_undo(batch=batch, by=by, **options)
    return imports.import_undo(batch.pk, by_id=by.pk, **options)


def edit(name, by, **fields):
    customer = Customer.objects.get(name=name)
    services.customer_update(customer=customer, by=by, version=customer.version, **fields)


@pytest.fixture
def import_a(tmp_path, it_importer, rep_east):
    (tmp_path / "a").mkdir()
    batch = run(tmp_path / "a", it_importer, rows("第一次"), policy="overwrite")
    assert batch.counts["created"] == 3
    return batch


def test_undoing_b_then_a_removes_what_a_created(tmp_path, it_importer, import_a):
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次"), policy="overwrite")
    assert (b.counts["created"], b.counts["updated"], b.counts["unchanged"]) == (0, 3, 0)
    b = undo(b, it_importer)
    assert b.status == Status.UNDONE and b.conflicts == []
    assert set(Customer.objects.values_list("notes", flat=True)) == {"第一次"}
    a = undo(import_a, it_importer)
    assert a.status == Status.UNDONE and a.conflicts == []
    assert not Customer.objects.exists()


def test_a_fill_that_changes_nothing_counts_unchanged_and_undo_of_a_still_removes(tmp_path, it_importer, import_a):
    versions = dict(Customer.objects.values_list("name", "version"))
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次"), policy="fill")  # the notes are not empty: nothing to fill
    assert (b.counts["updated"], b.counts["unchanged"], b.counts["skipped"]) == (0, 3, 0)
    assert sum(b.counts[k] for k in ("created", "updated", "unchanged", "merged_in_file", "skipped", "errors")) == \
        b.counts["data"] == 3
    assert not ImportRecord.objects.filter(batch=b).exists()
    assert dict(Customer.objects.values_list("name", "version")) == versions
    b = undo(b, it_importer)
    assert b.status == Status.UNDONE
    assert undo(import_a, it_importer).status == Status.UNDONE
    assert not Customer.objects.exists()


def test_a_fill_that_fills_something_is_an_update_and_its_undo_no_edit_of_a(tmp_path, it_importer, import_a):
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次", mobiles=True), policy="fill")
    assert (b.counts["updated"], b.counts["unchanged"]) == (3, 0)
    undo(b, it_importer)
    assert set(Customer.objects.values_list("mobile", flat=True)) == {""}
    assert undo(import_a, it_importer).status == Status.UNDONE
    assert not Customer.objects.exists()


def test_an_edit_between_a_and_b_blocks_that_customer_only_until_the_importer_decides(
        tmp_path, it_importer, rep_east, import_a, client_for):
    edit("甲有限公司", rep_east, notes="销售改的")
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次"), policy="overwrite")
    assert undo(b, it_importer).status == Status.UNDONE
    assert Customer.objects.get(name="甲有限公司").notes == "销售改的"

    a = undo(import_a, it_importer)
    assert a.status == Status.PARTLY_UNDONE
    assert list(Customer.objects.values_list("name", flat=True)) == ["甲有限公司"]
    [left] = a.conflicts
    assert (left["name"], left["why"], left["by"]) == ("甲有限公司", "edited", str(rep_east))
    page = client_for(it_importer).get(a.get_absolute_url()).content.decode()
    assert 'data-testid="undo-conflicts"' in page and "甲有限公司" in page and f"{rep_east} 于" in page
    assert 'data-testid="import-undo"' in page and 'data-testid="undo-include-edited"' in page

    # Run again, the edit is still there: the customer is still left, the batch still partly undone.
    again = undo(a, it_importer)
    assert again.status == Status.PARTLY_UNDONE and [c["name"] for c in again.conflicts] == ["甲有限公司"]
    # The importer decides to undo it anyway.
    final = undo(again, it_importer, include_edited=True)
    assert final.status == Status.UNDONE and final.conflicts == []
    assert not Customer.objects.exists()
    with pytest.raises(ValidationError):
        imports.import_request_undo(batch=final, by=it_importer)


def test_an_edit_after_the_undo_of_b_blocks_that_customer(tmp_path, it_importer, rep_east, import_a):
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次"), policy="overwrite")
    undo(b, it_importer)
    edit("乙有限公司", rep_east, notes="撤销之后改的")
    a = undo(import_a, it_importer)
    assert a.status == Status.PARTLY_UNDONE
    assert [(c["name"], c["why"]) for c in a.conflicts] == [("乙有限公司", "edited")]
    assert list(Customer.objects.values_list("name", flat=True)) == ["乙有限公司"]


def test_a_b_not_undone_blocks_the_undo_of_a_and_b_edited_since_is_left_by_its_own_undo(
        tmp_path, it_importer, rep_east, import_a):
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次"), policy="overwrite")
    edit("丙有限公司", rep_east, notes="导入之后改的")
    b = undo(b, it_importer)
    assert b.status == Status.PARTLY_UNDONE and [c["name"] for c in b.conflicts] == ["丙有限公司"]
    a = undo(import_a, it_importer)
    assert a.status == Status.PARTLY_UNDONE and [c["name"] for c in a.conflicts] == ["丙有限公司"]
    assert Customer.objects.get().notes == "导入之后改的"


def test_a_follow_up_on_a_created_customer_blocks_its_removal_and_a_second_undo_applies_once_it_is_gone(
        tmp_path, it_importer, import_a, client_for):
    customer = Customer.objects.get(name="乙有限公司")
    followup = FollowUpFactory(customer=customer)
    a = undo(import_a, it_importer)
    assert a.status == Status.PARTLY_UNDONE
    [left] = a.conflicts
    assert (left["name"], left["why"], left["relations"]) == ("乙有限公司", "linked", ["crm.followup"])
    page = client_for(it_importer).get(a.get_absolute_url()).content.decode()
    assert "乙有限公司" in page and str(FollowUp._meta.verbose_name_plural) in page
    # The records it undid are not undone again; once the follow-up is gone the rest is.
    assert ImportRecord.objects.filter(batch=a, undone_at__isnull=True).count() == 1
    FollowUp.objects.filter(pk=followup.pk).delete()
    a = undo(a, it_importer)
    assert a.status == Status.UNDONE and a.conflicts == []
    assert not Customer.objects.exists()


def test_the_result_page_shows_the_unchanged_count(tmp_path, it_importer, import_a, client_for):
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", it_importer, rows("第二次"), policy="fill")
    page = client_for(it_importer).get(reverse("crm:import_detail", args=[b.pk])).content.decode()
    assert 'data-count="unchanged">3<' in page and 'data-count="updated">0<' in page


def test_undoing_over_edits_leaves_a_customer_the_importer_may_no_longer_change(
        tmp_path, teams, rep_hz, rep_west, director, client_for):
    """Undoing over the edits made since is a write like any other: a customer moved out of the
    importer's scope since is left (and named on the page only as a record they cannot open)."""
    from accounts.capabilities import Capability, Scope
    from accounts.tests.factories import RoleFactory, UserFactory
    from crm.services.pool import pool_assign

    role = RoleFactory(name="华东数据员", capabilities=[Capability.IMPORT_DATA],
                       customers_scope=Scope.TEAM_AND_SUBTEAMS)
    importer = UserFactory(username="east_importer", team=teams["east"], roles=[role])
    batch = run(tmp_path, importer, [[name, "", "", "", "rep_hz", "", "", "", "第一次"] for name in NAMES[:2]],
                policy="overwrite")
    assert batch.counts["created"] == 2
    edit("甲有限公司", director, notes="总监改的")
    pool_assign(ids=[Customer.objects.get(name="甲有限公司").pk], owner=rep_west, by=director)  # to 北京
    edit("乙有限公司", rep_hz, notes="销售改的")

    assert undo(batch, importer).status == Status.PARTLY_UNDONE
    final = undo(ImportBatch.objects.get(pk=batch.pk), importer, include_edited=True)
    assert final.status == Status.PARTLY_UNDONE
    assert list(Customer.objects.values_list("name", flat=True)) == ["甲有限公司"]
    assert [(c["name"], c["why"]) for c in final.conflicts] == [("甲有限公司", "edited")]
    page = client_for(importer).get(final.get_absolute_url()).content.decode()
    assert 'data-testid="undo-conflicts"' in page and "无法打开的记录" in page
    assert "甲有限公司" not in page and str(director) not in page
