"""Picklist words the lists do not have: the check lists each with its row count, the importer adds it,
reads it as an entry there is, or leaves the field empty (the word kept on the customer's page); the
choices go with a saved mapping to the next file. Other bad cells: the row is imported without them."""
import pytest
from django.urls import reverse
from openpyxl import Workbook

from crm.models import Choice, Customer, ImportBatch, ImportMapping, ImportRawValue
from crm.services import imports
from crm.services.imports import values

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


HEADINGS = ["客户名称", "所属行业", "客户来源", "客户等级", "客户状态", "邮箱", "成交金额"]


def checked(tmp_path, by, rows, name="客户.xlsx"):
    book = Workbook()
    book.active.append(HEADINGS)
    for row in rows:
        book.active.append(row)
    path = tmp_path / name
    book.save(path)
    batch = imports.import_upload(by=by, path=path, file_name=name)
    return imports.import_preview(batch.pk)


def commit(batch, by, **choices):
    imports.import_request_commit(batch=batch, by=by, policy="skip", unknown_owner="pool", **choices)
    return imports.import_commit(batch.pk, by_id=by.pk)


ROWS = [
    ["甲有限公司", "医疗器械", "老客户转介绍", "重点", "跟进中", "a@jia.example", "12万"],
    ["乙有限公司", "医疗器械", "展会", "超级VIP", "", "not-an-email", "大约十万"],
    ["丙有限公司", "制造业", "老客户转介绍", "", "观望", "", ""],
    ["", "医疗器械", "", "", "", "", ""],
]


def test_the_check_lists_each_unknown_word_with_its_rows_and_imports_every_named_row(tmp_path, it_importer,
                                                                                     picklists):
    batch = checked(tmp_path, it_importer, ROWS)
    counts = batch.counts
    assert (counts["data"], counts["new"], counts["error"]) == (4, 3, 1)  # only the nameless row is lost
    assert counts["warnings"] == 1  # 乙: a bad e-mail and an amount nobody can read
    unknown = counts["unknown_values"]
    assert unknown["industry"] == [["医疗器械", 2]]  # the nameless row does not count
    assert unknown["source"] == [["老客户转介绍", 2]]
    assert unknown["tier"] == [["超级VIP", 1]] and unknown["status"] == [["观望", 1]]
    assert "制造业" not in str(unknown)  # a seeded industry


def test_by_default_new_industries_and_sources_are_added_and_fixed_lists_left_empty(tmp_path, it_importer,
                                                                                     picklists):
    batch = commit(checked(tmp_path, it_importer, ROWS), it_importer)
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert (batch.counts["created"], batch.counts["errors"], batch.counts["entries_added"]) == (3, 1, 2)
    medical = Choice.objects.get(kind=Choice.Kind.INDUSTRY, label="医疗器械")
    referral = Choice.objects.get(kind=Choice.Kind.SOURCE, label="老客户转介绍")
    assert medical.code == "yi-liao-qi-xie" and medical.active
    jia, yi, bing = (Customer.objects.get(name=n) for n in ("甲有限公司", "乙有限公司", "丙有限公司"))
    assert (jia.industry, jia.source, jia.tier, jia.status) == (medical, referral, "A", "following")
    assert (yi.industry, yi.tier, yi.email, yi.deal_amount) == (medical, "B", "", None)  # tier: the default
    assert bing.source == referral and bing.industry.code == picklists["industry"]["manufacturing"].code
    # What could not be stored is kept beside the customer, as the file had it.
    assert sorted(yi.import_raw_values.values_list("field", "raw")) == [
        ("deal_amount", "大约十万"), ("email", "not-an-email"), ("tier", "超级VIP")]
    assert list(bing.import_raw_values.values_list("field", "heading", "raw")) == [("status", "客户状态", "观望")]
    assert batch.counts["with_warnings"] == 2


def test_a_word_can_be_read_as_an_entry_there_is_or_left_empty(tmp_path, it_importer, picklists):
    batch = checked(tmp_path, it_importer, ROWS)
    manufacturing = picklists["industry"]["manufacturing"]
    batch = commit(batch, it_importer, value_choices={
        "industry": {"医疗器械": str(manufacturing.pk)}, "source": {"老客户转介绍": "empty"},
        "tier": {"超级VIP": "A"}, "status": {"观望": "prospect"}})
    assert batch.counts["entries_added"] == 0
    assert not Choice.objects.filter(label__in=["医疗器械", "老客户转介绍"]).exists()
    jia, yi, bing = (Customer.objects.get(name=n) for n in ("甲有限公司", "乙有限公司", "丙有限公司"))
    assert jia.industry == manufacturing and jia.source is None
    assert yi.tier == "A" and bing.status == "prospect"
    assert list(jia.import_raw_values.values_list("field", "raw")) == [("source", "老客户转介绍")]


def test_a_choice_that_is_no_option_falls_back_to_the_default(tmp_path, it_importer, picklists):
    batch = checked(tmp_path, it_importer, ROWS)
    batch = commit(batch, it_importer, value_choices={"tier": {"超级VIP": "Z"}, "industry": {"医疗器械": "999999"}})
    assert Customer.objects.get(name="乙有限公司").tier == "B"
    assert Customer.objects.get(name="甲有限公司").industry.label == "医疗器械"  # added, the default


def test_the_choices_go_with_the_saved_mapping_to_the_next_file(tmp_path, it_importer, picklists):
    batch = checked(tmp_path, it_importer, ROWS)
    imports.import_mapping_save(batch=batch, by=it_importer, name="展会名单")
    commit(batch, it_importer, value_choices={"source": {"老客户转介绍": "empty"}, "tier": {"超级VIP": "A"}})
    saved = ImportMapping.objects.get(name="展会名单")
    assert saved.value_choices["source"] == {"老客户转介绍": "empty"} and saved.value_choices["tier"] == {"超级VIP": "A"}

    book = Workbook()
    book.active.append(HEADINGS)
    book.active.append(["丁有限公司", "", "老客户转介绍", "超级VIP", "", "", ""])
    book.save(tmp_path / "next.xlsx")
    batch = imports.import_upload(by=it_importer, path=tmp_path / "next.xlsx", file_name="next.xlsx")
    imports.import_configure(batch=batch, by=it_importer, mapping_name="展会名单")
    batch = imports.import_preview(batch.pk)
    batch = commit(batch, it_importer)  # nothing chosen now: the saved choices hold
    ding = Customer.objects.get(name="丁有限公司")
    assert (ding.source, ding.tier) == (None, "A")


def test_the_commit_form_offers_each_word_and_posts_the_choice(client_for, tmp_path, it_importer, picklists):
    batch = checked(tmp_path, it_importer, ROWS)
    client = client_for(it_importer)
    page = client.get(batch.get_absolute_url()).content.decode()
    assert 'data-testid="unknown-values"' in page and 'data-value="医疗器械"' in page
    assert "添加到列表" in page and "该字段留空" in page
    form = imports_form_fields(page)
    industry = next(name for name in form if name.startswith("value_industry_"))
    response = client.post(reverse("crm:import_commit", args=[batch.pk]),
                           {"policy": "skip", "unknown_owner": "pool", industry: "empty"})
    assert response.status_code == 302
    imports.import_commit(batch.pk, by_id=it_importer.pk)
    assert Customer.objects.get(name="甲有限公司").industry is None
    assert ImportRawValue.objects.filter(field="industry", raw="医疗器械").count() == 2


def imports_form_fields(page):
    import re

    return re.findall(r'name="(value_[a-z_]+_[0-9]+)"', page)


def test_options_of_a_fixed_list_cannot_add(picklists):
    assert [v for v, _label in values.options_of("tier")][:2] == ["empty", "A"]
    assert [v for v, _label in values.options_of("industry")][:2] == ["add", "empty"]
