"""Both catalogues are complete and in step with the source: every msgid that makemessages would
extract today is in zh_Hans and en, translated, and nothing is fuzzy."""
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["zh_Hans", "en"]
SKIP = {".venv", ".devdata", "artifacts", "staticfiles", "node_modules", ".git", "media"}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The msgids of the source as it is now: makemessages run on a copy of the tree."""
    copy = tmp_path_factory.mktemp("i18n") / "src"
    shutil.copytree(ROOT, copy, ignore=lambda d, names: [n for n in names if n in SKIP or n.endswith(".mo")])
    shutil.rmtree(copy / "locale")
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location",
         *[f"--ignore={d}" for d in SKIP]],
        cwd=copy, check=True, capture_output=True, timeout=300,
        env={"DJANGO_SETTINGS_MODULE": "crm.settings.test", "PATH": "/usr/bin:/bin"},
    )
    return {entry.msgid for entry in polib.pofile(str(copy / "locale/zh_Hans/LC_MESSAGES/django.po"))}


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_has_every_string_translated(extracted, language):
    catalogue = polib.pofile(str(ROOT / f"locale/{language}/LC_MESSAGES/django.po"))
    translated = {e.msgid for e in catalogue.translated_entries() if "fuzzy" not in e.flags}
    missing = sorted(extracted - translated)
    assert not missing, f"{language}: {len(missing)} untranslated, e.g. {missing[:5]}"
    assert not catalogue.fuzzy_entries()


def test_it_keeps_placeholders_in_the_chinese_catalogue():
    import re

    for entry in polib.pofile(str(ROOT / "locale/zh_Hans/LC_MESSAGES/django.po")).translated_entries():
        wanted = sorted(re.findall(r"%\(\w+\)s", entry.msgid))
        got = sorted(re.findall(r"%\(\w+\)s", entry.msgstr or " ".join(entry.msgstr_plural.values())))
        assert set(got) == set(wanted), entry.msgid
