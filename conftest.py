"""The people of the tests: a small company with the same shape as the demo.

总部 ─┬─ 华东区 ─┬─ 上海分公司   (rep_east, rep_east2; manager_east leads 华东区)
      │          └─ 杭州分公司   (rep_hz)
      └─ 华北区 ─── 北京分公司   (rep_west; manager_west leads 华北区)
director (销售总监, all), admin (系统管理员), it_importer (数据管理员/IT).
"""
import pytest

from accounts.models import Role
from accounts.tests.factories import PASSWORD, TeamFactory, UserFactory


@pytest.fixture
def roles(db):
    """The seed roles, by name (created by the data migration)."""
    return {role.name: role for role in Role.objects.all()}


@pytest.fixture
def teams(db):
    hq = TeamFactory(name="总部")
    east = TeamFactory(name="华东区", parent=hq)
    north = TeamFactory(name="华北区", parent=hq)
    return {
        "hq": hq, "east": east, "north": north,
        "shanghai": TeamFactory(name="上海分公司", parent=east),
        "hangzhou": TeamFactory(name="杭州分公司", parent=east),
        "beijing": TeamFactory(name="北京分公司", parent=north),
    }


def _person(username, team, role, manager=None):
    return UserFactory(username=username, team=team, manager=manager, roles=[role])


@pytest.fixture
def director(teams, roles):
    return _person("director", teams["hq"], roles["销售总监"])


@pytest.fixture
def admin(teams, roles):
    return _person("admin", teams["hq"], roles["系统管理员"])


@pytest.fixture
def it_importer(teams, roles):
    return _person("it_importer", teams["hq"], roles["数据管理员/IT"])


@pytest.fixture
def manager_east(teams, roles, director):
    return _person("manager_east", teams["east"], roles["区域经理"], manager=director)


@pytest.fixture
def manager_west(teams, roles, director):
    return _person("manager_west", teams["north"], roles["区域经理"], manager=director)


@pytest.fixture
def rep_east(teams, roles, manager_east):
    return _person("rep_east", teams["shanghai"], roles["销售代表"], manager=manager_east)


@pytest.fixture
def rep_east2(teams, roles, manager_east):
    return _person("rep_east2", teams["shanghai"], roles["销售代表"], manager=manager_east)


@pytest.fixture
def rep_hz(teams, roles, manager_east):
    return _person("rep_hz", teams["hangzhou"], roles["销售代表"], manager=manager_east)


@pytest.fixture
def rep_west(teams, roles, manager_west):
    return _person("rep_west", teams["beijing"], roles["销售代表"], manager=manager_west)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
