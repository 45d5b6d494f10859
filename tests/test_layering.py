"""The layering the style guide asks for (habits 11 and 12), read from the source with `ast`:

- accounts (users, teams, roles, the access layer, the settings area's machinery) imports no business
  app: of crm only the platform, crm.lib; nothing of sales, service, marketing or reports. What it knows
  of customers or deals is what those apps registered (settings sections, access-check finders).
- the platform, crm/lib, imports no business app at all: not crm's models, services or selectors
  (its own crm.lib.* aside), not accounts, sales, service, marketing or reports.

Tests are left out: they may import whatever they need."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUSINESS_APPS = ("accounts", "crm", "sales", "service", "marketing", "reports")


def imported_modules(path):
    """Every module `path` imports, at the top or inside a function, as dotted names."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from crm import lib` imports crm.lib; `from crm import models` imports crm.models
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def sources(package):
    return sorted(p for p in (ROOT / package).rglob("*.py") if "tests" not in p.relative_to(ROOT).parts)


def is_app(module, app):
    return module == app or module.startswith(f"{app}.")


def is_platform(module):
    return is_app(module, "crm.lib")


def accounts_violations():
    return [(str(path.relative_to(ROOT)), module)
            for path in sources("accounts") for module in imported_modules(path)
            if any(is_app(module, app) for app in BUSINESS_APPS if app != "accounts") and not is_platform(module)]


def platform_violations():
    return [(str(path.relative_to(ROOT)), module)
            for path in sources("crm/lib") for module in imported_modules(path)
            if any(is_app(module, app) for app in BUSINESS_APPS) and not is_platform(module)]


def test_accounts_imports_no_business_app_but_the_platform():
    assert accounts_violations() == []


def test_the_platform_imports_no_business_app():
    assert platform_violations() == []


@pytest.mark.parametrize("source, caught", [
    ("from crm.models import Customer", True),
    ("from crm import models", True),
    ("import crm.selectors", True),
    ("def f():\n    from crm.services import customer_update", True),
    ("from sales.models import Opportunity", True),
    ("import reports.views", True),
    ("from crm.lib.queue import enqueue_on_commit", False),
    ("from crm import lib", False),
    ("from django.db import models", False),
    ("from .models import User", False),
])
def test_the_scan_catches_what_it_should(tmp_path, source, caught):
    """The control: the scan sees an import wherever it is written, and lets the platform through."""
    path = tmp_path / "module.py"
    path.write_text(source)
    found = [m for m in imported_modules(path)
             if any(is_app(m, app) for app in BUSINESS_APPS if app != "accounts") and not is_platform(m)]
    assert bool(found) == caught
