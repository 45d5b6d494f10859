"""Every other page answers in a fixed, small number of queries."""
import pytest
from django.urls import reverse


@pytest.mark.parametrize("persona, url_name, most", [
    ("admin", "accounts:settings", 10),
    ("admin", "accounts:settings_access_check", 8),
    ("rep_east", "accounts:profile", 7),
    ("rep_east", "accounts:password_change", 6),
    ("rep_east", "sales:index", 6),
    ("director", "service:index", 6),
    ("director", "marketing:index", 6),
    ("director", "reports:index", 6),
    ("rep_east", "crm:customer_create", 8),
])
def test_it_renders_in_few_queries(person, client, persona, url_name, most, django_assert_max_num_queries):
    client.force_login(person(persona))
    with django_assert_max_num_queries(most):
        response = client.get(reverse(url_name))
    assert response.status_code == 200
