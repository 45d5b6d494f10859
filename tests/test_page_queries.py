"""Every other page answers in a fixed, small number of queries."""
import pytest
from django.urls import reverse


@pytest.mark.parametrize("persona, url_name, most", [
    ("admin", "settings:index", 10),
    ("admin", "settings:accounts:access_check", 8),
    ("rep_east", "accounts:profile", 7),
    ("rep_east", "accounts:password_change", 6),
    ("rep_east", "sales:index", 6),
    ("director", "service:index", 6),
    ("director", "marketing:index", 6),
    ("director", "reports:index", 6),
    ("rep_east", "crm:customer_create", 9),
])
def test_it_renders_in_few_queries(person, client, persona, url_name, most, django_assert_max_num_queries):
    client.force_login(person(persona))
    with django_assert_max_num_queries(most):
        response = client.get(reverse(url_name))
    assert response.status_code == 200


@pytest.mark.parametrize("persona, url_name, target, most", [
    ("rep_east", "crm:customer_edit", "customer", 12),
    ("rep_east", "crm:followup_create", "customer", 9),
    ("rep_east", "crm:contact_create", "customer", 6),
    ("rep_east", "crm:customer_timeline", "customer", 13),  # the deals and tickets panels are one more each
    ("admin", "settings:accounts:user_create", None, 9),
    ("admin", "settings:accounts:user_edit", "user", 11),
    ("admin", "settings:accounts:user_password", "user", 7),
    ("admin", "settings:accounts:team_create", None, 8),
    ("admin", "settings:accounts:team_edit", "team", 8),
    ("admin", "settings:accounts:team_delete", "team", 7),
    ("admin", "settings:accounts:role_create", None, 7),
    ("admin", "settings:accounts:role_edit", "role", 7),
    ("admin", "settings:accounts:role_delete", "role", 7),
])
def test_it_renders_forms_in_few_queries(person, client, rep_east, roles, persona, url_name, target, most,
                                         django_assert_max_num_queries):
    from crm.tests.factories import CustomerFactory

    objects = {"customer": lambda: CustomerFactory(owner=rep_east), "user": lambda: rep_east,
               "team": lambda: rep_east.team, "role": lambda: roles["销售代表"]}
    args = [objects[target]().pk] if target else []
    client.force_login(person(persona))
    client.get(reverse(url_name, args=args))  # content types cached, as in a running server (else by test order)
    with django_assert_max_num_queries(most):
        response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_database_connection_does_not_jit_compile_queries():
    """JIT compiling the history union took ~280 ms of a 300 ms customer page (see crm/settings/base.py)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
