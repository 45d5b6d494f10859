"""The Content-Security-Policy allows scripts and styles from our own files only (script-src and
style-src 'self'): a style attribute, an inline script or an on* handler in a template is blocked
by the browser, each time the page loads (the deal list logged 15 violations a load). None is written."""
import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BLOCKED = {
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def _template_text(path):
    # Template comments are not sent to the browser.
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", text, flags=re.S)


@pytest.mark.parametrize("kind", BLOCKED)
def test_no_template_has_what_the_csp_blocks(kind):
    found = [f"{path.relative_to(TEMPLATES)}:{text[:match.start()].count(chr(10)) + 1}"
             for path in sorted(TEMPLATES.rglob("*.html")) for text in [_template_text(path)]
             for match in BLOCKED[kind].finditer(text)]
    assert found == [], f"{kind} in {found}"


def test_it_recognises_what_the_csp_blocks():
    assert BLOCKED["style attribute"].search('<td class="x" style="max-width: 12rem">')
    assert not BLOCKED["inline script"].search('<script src="/static/js/app.js" defer></script>')
