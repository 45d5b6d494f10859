"""The duplicate check answers whether a customer exists for anything typed, so it is rate-limited per
user (DUPLICATE_CHECKS a minute, counted in Redis by every web process): past the limit the live
check answers 429 with a message and the form refuses to save, both revealing nothing; the owner of
a customer the user may not see is never named (the rest of the check: test_duplicates.py)."""
import datetime
import time

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from crm.lib.ratelimit import rate_allowed
from crm.models import Customer
from crm.selectors.duplicates import DUPLICATE_CHECKS
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CHECK = reverse("crm:duplicate_check")
MOMENT = datetime.datetime(2026, 12, 7, 10, 0, 5, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _fixed_minute(time_machine):
    """Every check of a test falls in the same window (the clock stands still)."""
    time_machine.move_to(MOMENT, tick=False)


@pytest.fixture
def fresh(rep_east, rep_west):
    """No checks counted yet for the test's people in this window (ids repeat across test databases)."""
    for user in (rep_east, rep_west):
        cache.delete(f"ratelimit:duplicate_check:{user.pk}:{int(time.time() // 60)}")


@pytest.fixture
def huaxin(rep_east):
    return CustomerFactory(name="北京华信科技有限公司", owner=rep_east, mobile="+8613812345678")


def use_up(client):
    for _ in range(DUPLICATE_CHECKS):
        assert client.get(CHECK, {"mobile": "13900000000"}).status_code == 200


def test_past_the_limit_the_live_check_answers_429_and_reveals_nothing(english_client_for, rep_east, fresh,
                                                                       huaxin):
    client = english_client_for(rep_east)
    use_up(client)

    response = client.get(CHECK, {"name": huaxin.name, "mobile": "13812345678"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 429
    assert "Wait a minute" in page and 'data-testid="duplicates-limited"' in page
    for secret in (huaxin.name, rep_east.name, f"/{huaxin.pk}/", "138"):
        assert secret not in page, secret


def test_the_limit_is_per_user_and_per_minute(client_for, rep_east, rep_west, fresh, huaxin, time_machine):
    use_up(client_for(rep_east))

    assert client_for(rep_west).get(CHECK, {"name": huaxin.name}).status_code == 200
    assert client_for(rep_east).get(CHECK, {"name": huaxin.name}).status_code == 429
    time_machine.move_to(MOMENT + datetime.timedelta(minutes=1), tick=False)
    assert client_for(rep_east).get(CHECK, {"name": huaxin.name}).status_code == 200


def test_past_the_limit_the_form_saves_nothing_and_names_no_duplicate(client_for, rep_east, fresh, huaxin):
    client = client_for(rep_east)
    use_up(client)

    response = client.post(reverse("crm:customer_create"), {
        "kind": "company", "tier": "B", "status": "prospect", "name": "北京华信科技有限责任公司"})
    page = response.content.decode()
    assert response.status_code == 200 and "请稍等一分钟" in page
    assert huaxin.get_absolute_url() not in page
    assert not Customer.objects.filter(name="北京华信科技有限责任公司").exists()


def test_the_message_is_translated(client_for, rep_east, fresh):
    use_up(client_for(rep_east))

    page = client_for(rep_east).get(CHECK, {"mobile": "13900000000"}).content.decode()
    assert "一分钟内" in page


def test_another_teams_customer_is_reported_without_its_owner(english_client_for, rep_west, rep_east, fresh,
                                                              huaxin):
    page = english_client_for(rep_west).get(CHECK, {"mobile": "138 1234 5678"}).content.decode()

    assert "A customer of another team that you cannot open." in page
    assert rep_east.name not in page and rep_east.username not in page


def test_a_cache_that_cannot_be_reached_does_not_take_the_check_down():
    unreachable = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                               "LOCATION": "redis://127.0.0.1:1/0"}}
    with override_settings(CACHES=unreachable), translation.override("en"):
        assert rate_allowed("duplicate_check:0", limit=1) is True
