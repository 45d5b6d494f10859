"""The import's owner column is resolved against the importer's assignable users only, as an
assignment by hand would be: an owner outside them is a warning on the row (the check says so and
counts them), and the row is imported as one without a known owner (the pool, or the default owner
the importer chose). The commit checks again for whoever imports, in one statement; the default
owner and the team of owner-less customers must be within the importer's scope too."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.capabilities import Capability, Scope
from accounts.tests.factories import RoleFactory, UserFactory
from crm.models import Customer, ImportBatch, ImportRow, Pool
from crm.services import imports
from crm.tests.test_imports import sheet_file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def east_importer(teams):
    """华东区's data clerk: may import, and sees 华东区 and its branches."""
    role = RoleFactory(name="华东数据员", capabilities=[Capability.IMPORT_DATA],
                       customers_scope=Scope.TEAM_AND_SUBTEAMS)
    return UserFactory(username="east_importer", team=teams["east"], roles=[role])


@pytest.fixture
def pools(teams):
    default = Pool.objects.create(name="总公海", is_default=True)
    east = Pool.objects.create(name="华东公海")
    east.teams.set([teams["east"]])
    return {"default": default, "east": east}


ROWS = [
    ["杭州本区客户", "A", "", "", "rep_hz", "", "", "", ""],
    ["北京外区客户", "A", "", "", "rep_west", "", "", "", ""],
]


def checked(tmp_path, by, rows=ROWS):
    batch = imports.import_upload(by=by, path=sheet_file(tmp_path, rows), file_name="客户.xlsx")
    batch = imports.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    return batch


def commit(batch, by, **choices):
    batch = imports.import_request_commit(batch=batch, by=by, policy="skip", **choices)
    return imports.import_commit(batch.pk, by_id=by.pk)


def test_the_check_warns_of_an_owner_outside_the_importers_reach(tmp_path, east_importer, rep_hz, rep_west, pools):
    batch = checked(tmp_path, east_importer)

    assert batch.counts["owners_refused"] == 1
    outside = ImportRow.objects.get(batch=batch, row_number=4)  # title, headings, then the rows
    inside = ImportRow.objects.get(batch=batch, row_number=3)
    assert outside.verdict == ImportRow.Verdict.NEW and "owner" not in outside.data
    assert outside.data["owner_refused"] == rep_west.name and outside.reason
    assert inside.data["owner"] == rep_hz.pk and inside.reason == ""


def test_an_owner_outside_goes_to_the_pool_or_to_the_chosen_default(tmp_path, east_importer, rep_hz, rep_west,
                                                                    rep_east, pools):
    commit(checked(tmp_path, east_importer), east_importer, unknown_owner="pool")
    outside = Customer.objects.get(name="北京外区客户")
    assert outside.owner is None and outside.pool is not None
    assert Customer.objects.get(name="杭州本区客户").owner == rep_hz

    Customer.objects.all().delete()
    commit(checked(tmp_path, east_importer), east_importer, unknown_owner="default", default_owner=rep_east)
    assert Customer.objects.get(name="北京外区客户").owner == rep_east


def test_the_commit_checks_again_for_whoever_imports(tmp_path, it_importer, east_importer, rep_west, pools):
    batch = checked(tmp_path, it_importer)  # everyone is within the IT persona's reach
    assert batch.counts["owners_refused"] == 0

    commit(batch, east_importer, unknown_owner="pool")
    assert Customer.objects.get(name="北京外区客户").owner is None


def test_the_default_owner_and_the_team_must_be_within_the_importers_scope(tmp_path, east_importer, rep_west,
                                                                           teams, pools):
    batch = checked(tmp_path, east_importer)

    with pytest.raises(ValidationError):
        imports.import_request_commit(batch=batch, by=east_importer, policy="skip", unknown_owner="default",
                                      default_owner=rep_west)
    with pytest.raises(ValidationError):
        imports.import_request_commit(batch=batch, by=east_importer, policy="skip", unknown_owner="pool",
                                      team=teams["beijing"])
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.PREVIEWED


def test_the_page_shows_the_warning_and_offers_only_teams_in_scope(client_for, tmp_path, east_importer, rep_west,
                                                                    teams, pools):
    batch = checked(tmp_path, east_importer)
    response = client_for(east_importer).get(batch.get_absolute_url())
    page = response.content.decode()

    assert 'data-testid="owners-refused"' in page
    assert f"{rep_west.name}（不是您可以分配客户的人）" in page
    assert set(response.context["commit_form"].fields["team"].queryset) == {
        teams["east"], teams["shanghai"], teams["hangzhou"]}
    posted = client_for(east_importer).post(reverse("crm:import_commit", args=[batch.pk]),
                                            {"policy": "skip", "unknown_owner": "pool", "team": teams["beijing"].pk})
    assert posted.status_code == 422
