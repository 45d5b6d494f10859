"""Settings › Teams: the tree, creating, renaming and moving, deleting only what is empty."""
import pytest
from django.urls import reverse

from accounts.models import Team
from accounts.tests.factories import TeamFactory, UserFactory
from crm.tests.factories import CustomerFactory

TEAMS = reverse("settings:accounts:teams")


def edit_url(team):
    return reverse("settings:accounts:team_edit", args=[team.pk])


def delete_url(team):
    return reverse("settings:accounts:team_delete", args=[team.pk])


def test_it_shows_the_tree_indented_with_member_counts(english_client_for, admin, rep_east, rep_east2, rep_hz, teams):
    response = english_client_for(admin).get(TEAMS)
    rows = {t.name: t for t in response.context["teams"]}
    assert [t.name for t in response.context["teams"]][:2] == ["总部", "华东区"]
    assert (rows["上海分公司"].depth, rows["上海分公司"].member_count) == (2, 2)
    assert (rows["杭州分公司"].member_count, rows["华东区"].member_count) == (1, 1)  # manager_east
    content = response.content.decode()
    assert 'data-depth="2"' in content and "depth-2" in content
    assert "2 members" in content


def test_it_shows_the_tree_in_few_queries(client_for, admin, teams, django_assert_max_num_queries):
    for n in range(20):
        branch = TeamFactory(name=f"分部{n}", parent=teams["north"], lead=admin)
        UserFactory.create_batch(2, team=branch)
    client = client_for(admin)
    client.get(TEAMS)
    with django_assert_max_num_queries(4):
        response = client.get(TEAMS)
    assert len(response.context["teams"]) == 26


def test_it_creates_a_sub_team(client_for, admin, teams, manager_east):
    response = client_for(admin).post(reverse("settings:accounts:team_create"),
                                      {"name": "苏州分公司", "parent": teams["east"].pk, "lead": manager_east.pk})
    assert response.status_code == 302
    team = Team.objects.get(name="苏州分公司")
    assert (team.parent, team.lead, team.depth) == (teams["east"], manager_east, 2)
    assert team.path == f"{teams['east'].path}{team.pk}/"


def test_it_preselects_the_parent_of_a_new_sub_team(client_for, admin, teams):
    response = client_for(admin).get(reverse("settings:accounts:team_create"), {"parent": teams["east"].pk})
    assert response.context["form"]["parent"].value() == str(teams["east"].pk)


def test_it_refuses_a_duplicate_name_under_the_same_parent(client_for, admin, teams):
    response = client_for(admin).post(reverse("settings:accounts:team_create"),
                                      {"name": "上海分公司", "parent": teams["east"].pk})
    assert response.context["form"].errors["name"]
    assert Team.objects.filter(name="上海分公司").count() == 1


def test_it_moves_a_team_with_its_subtree(client_for, admin, teams):
    east, north = teams["east"], teams["north"]
    response = client_for(admin).post(edit_url(east), {"name": "华东大区", "parent": north.pk, "lead": ""})
    assert response.status_code == 302
    east.refresh_from_db()
    shanghai = Team.objects.get(pk=teams["shanghai"].pk)
    assert (east.name, east.parent) == ("华东大区", north)
    assert shanghai.path == f"{north.path}{east.pk}/{shanghai.pk}/"
    assert shanghai.depth == 3


@pytest.mark.parametrize("target", ["east", "shanghai"])
def test_it_refuses_moving_a_team_under_itself_or_its_child(client_for, admin, teams, target):
    east = teams["east"]
    response = client_for(admin).post(edit_url(east), {"name": "华东区", "parent": teams[target].pk, "lead": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["parent"]
    east.refresh_from_db()
    assert east.parent == teams["hq"]
    assert Team.objects.get(pk=teams["shanghai"].pk).path == f"{east.path}{teams['shanghai'].pk}/"


def test_it_deletes_an_empty_team(client_for, admin, teams):
    client = client_for(admin)
    assert client.get(delete_url(teams["hangzhou"])).status_code == 200
    response = client.post(delete_url(teams["hangzhou"]))
    assert response.status_code == 302
    assert not Team.objects.filter(pk=teams["hangzhou"].pk).exists()


@pytest.mark.parametrize("team", ["shanghai", "east"])  # members; sub-teams
def test_it_refuses_deleting_a_team_with_members_or_sub_teams(english_client_for, admin, rep_east, teams, team):
    response = english_client_for(admin).post(delete_url(teams[team]))
    assert response.status_code == 422
    assert response.context["error"] == "Only a team without members and sub-teams can be deleted."
    assert b'data-testid="delete-error"' in response.content
    assert Team.objects.filter(pk=teams[team].pk).exists()


def test_it_refuses_deleting_a_team_that_still_has_customers(client_for, admin, teams):
    CustomerFactory(name="杭州老客户", team=teams["hangzhou"])
    response = client_for(admin).post(delete_url(teams["hangzhou"]))
    assert response.status_code == 422
    assert response.context["error"]
    assert Team.objects.filter(pk=teams["hangzhou"].pk).exists()
