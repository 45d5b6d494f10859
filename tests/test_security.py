"""The security baseline: login everywhere, throttling, CSP, CSRF on htmx, deploy checks."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parent.parent

# URL names that answer without signing in. Everything else must send an anonymous user to login.
# The public service pages: the request form (service.public_views) and the survey (service.survey_views).
PUBLIC = {"accounts:login", "healthz", "set_language", "admin:login", "admin:index", "support:request", "support:thanks",
          "survey:answer"}
PUBLIC_PREFIXES = ("admin:",)  # the Django admin has its own superuser-only login
SAMPLE_ARGS = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x"}


def walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else None, prefix + str(entry.pattern), entry


def concrete(route):
    import re

    def fill(match):
        converter = (match.group(1) or "str").rstrip(":")
        return SAMPLE_ARGS.get(converter, "1")

    path = re.sub(r"<(?:(\w+):)?\w+>", fill, route)
    return "/" + path.lstrip("^").rstrip("$").replace("\\Z", "")


def product_urls():
    for name, route, _entry in walk(get_resolver()):
        if name in PUBLIC or (name and name.startswith(PUBLIC_PREFIXES)):
            continue
        if "(?P" in route or "static" in route:
            continue
        yield name, concrete(route)


@pytest.mark.parametrize("name, url", list(product_urls()))
def test_it_requires_login_on_every_url(db, client, name, url):
    if url.startswith(f"/{settings.ADMIN_URL}"):
        # the admin's own redirects end on its (superuser-only) login page
        response = client.get(url, follow=True)
        assert response.redirect_chain and response.redirect_chain[-1][0].startswith(reverse("admin:login"))
        return
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (302, 405), (name, url, method, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login")), (name, url)


def test_it_found_the_product_urls():
    names = {name for name, _url in product_urls()}
    assert {"home", "crm:customer_list", "crm:customer_detail", "settings:index", "sales:index"} <= names


def test_it_keeps_the_django_admin_for_superusers(client, admin):
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    assert client.get("/django-admin/").status_code == 302
    admin.is_superuser = True
    admin.save()
    assert client.get("/django-admin/").status_code == 200


def test_it_locks_out_after_repeated_failures(db, rep_east, password):
    client = Client()
    url = reverse("accounts:login")
    for _ in range(5):
        response = client.post(url, {"username": "rep_east", "password": "wrong"})
    assert response.status_code == 429
    response = client.post(url, {"username": "rep_east", "password": password})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_sends_a_content_security_policy(client, rep_east):
    client.force_login(rep_east)
    header = client.get(reverse("crm:customer_list"))["Content-Security-Policy"]
    assert "default-src 'self'" in header and "script-src 'self'" in header
    assert "unsafe-inline" not in header


def test_it_checks_csrf_on_htmx_posts(rep_east, rep_west):
    from crm.tests.factories import CustomerFactory

    customer = CustomerFactory(owner=rep_east)
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep_east)
    page = client.get(reverse("crm:customer_detail", args=[customer.pk]))
    token = page.context["csrf_token"]
    assert f'"X-CSRFToken": "{token}"' in page.content.decode()  # htmx sends it from <body hx-headers>
    url = reverse("crm:customer_share", args=[customer.pk])
    data = {"user": rep_west.pk}
    assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 403
    assert client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=str(token)).status_code == 200


def _run_production_check(**env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    environment.update({"DJANGO_SETTINGS_MODULE": "crm.settings.production", "ALLOWED_HOSTS": "crm.example.com"}, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings():
    result = _run_production_check(SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("env, message", [
    ({}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY must be"),
    ({"SECRET_KEY": secrets.token_urlsafe(64), "DEBUG": "true"}, "DEBUG must not be on"),
    ({"SECRET_KEY": secrets.token_urlsafe(64), "SECURE_HSTS_SECONDS": "a year"}, "invalid literal"),
])
def test_it_refuses_to_start_production_misconfigured(env, message):
    result = _run_production_check(**env)
    assert result.returncode != 0
    assert message in result.stderr
