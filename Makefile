# The two commands of the quick start:
#   make run    install, find or start PostgreSQL and Redis, migrate, load the demo, start web + worker + beat
#   make test   install, find or start PostgreSQL and Redis, then pytest (extra arguments: make test ARGS="-x -k login")
# Services: scripts/devservices.py (DATABASE_URL / REDIS_URL, else 127.0.0.1:5432 / :6379, else embedded
# servers under .devdata/; CRM_EMBEDDED=1 forces the embedded ones).

PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.sha256
SERVICES_ENV := .devdata/services.env
WEB_ADDR ?= 127.0.0.1:8000
ARGS ?=
# pytest-xdist workers (two cores here: -n 2 took 94s where one process took 149s).
# PYTEST_WORKERS=0 runs in one process, e.g. for --pdb.
PYTEST_WORKERS ?= 2

# Sourced at the start of every recipe that talks to the database or Redis; the virtualenv's
# programs (python, celery) come first on PATH for the processes honcho and the tests start.
WITH_SERVICES := . ./$(SERVICES_ENV) && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" &&
MANAGE := DJANGO_SETTINGS_MODULE=crm.settings.dev $(PY) manage.py

# Debian packages, installed with apt-get only when missing (CI and developers run as root here).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends

.NOTPARALLEL:
.DEFAULT_GOAL := help
.PHONY: help install services messages browser mailserver setup migrate seed run test lint test-dates stop-embedded clean-devdata

help:
	@echo "make run            install, start services, migrate, load demo data, run web + worker + beat"
	@echo "make test           install, start services, run the tests, the lint and the date-sensitive tests at"
	@echo "                    fixed moments (ARGS=\"...\" passes pytest arguments and runs those tests only)"
	@echo "make test-dates     the tests marked 'dates' at each of TEST_MOMENTS (pytest --today)"
	@echo "make setup          everything 'make run' does before starting the processes"
	@echo "make mailserver     install and start the loopback IMAP server (Dovecot) of the mail tests"
	@echo "make stop-embedded  stop the embedded PostgreSQL/Redis and the mail tests' Dovecot under .devdata/"
	@echo "make clean-devdata  stop them and delete .devdata/ (embedded databases included)"

# A virtualenv from the machine's python3, and requirements-dev.txt (which includes the runtime
# requirements.txt) reinstalled only when either changed. Production installs requirements.txt alone.
install:
	@test -x $(PY) || { echo "==> creating $(VENV) with $$($(PYTHON3) --version)"; \
		$(PYTHON3) -m venv $(VENV) || { rm -rf $(VENV); $(APT_INSTALL) python3-venv && $(PYTHON3) -m venv $(VENV); }; }
	@want=$$($(PY) -c "import hashlib; print(hashlib.sha256(open('requirements.txt','rb').read() + open('requirements-dev.txt','rb').read()).hexdigest())"); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then \
		echo "==> requirements unchanged since the last install"; \
	else \
		echo "==> installing requirements-dev.txt (with requirements.txt)"; \
		$(PY) -m pip install -q -r requirements-dev.txt && echo "$$want" > $(STAMP); \
	fi

services: install
	@mkdir -p .devdata
	@echo "==> PostgreSQL and Redis"
	@$(PY) scripts/devservices.py up > $(SERVICES_ENV).tmp && mv $(SERVICES_ENV).tmp $(SERVICES_ENV)

# Compile the gettext catalogues. Skipped (not failed) while there is no .po file yet.
messages: install
	@command -v msgfmt >/dev/null || { echo "==> installing gettext (msgfmt)"; $(APT_INSTALL) gettext; }
	@if find . \( -path ./$(VENV) -o -path ./.devdata -o -path ./node_modules \) -prune -o -name '*.po' -print | grep -q .; then \
		echo "==> compilemessages"; \
		$(MANAGE) compilemessages --ignore=$(VENV) --ignore=.devdata --ignore=node_modules; \
	else \
		echo "==> no .po catalogues yet; nothing to compile"; \
	fi

# Debian's Chromium for the browser tests, with CJK fonts so Chinese pages render.
browser:
	@test -x /usr/bin/chromium || { echo "==> installing chromium"; $(APT_INSTALL) chromium fonts-noto-cjk; }
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { echo "==> installing fonts-noto-cjk"; $(APT_INSTALL) fonts-noto-cjk; }

# Debian's Dovecot for the service desk's e-mail tests: a real IMAP server on 127.0.0.1 (a free port),
# configured and started under .devdata/dovecot/ by scripts/mailserver.py (the tests start it too).
mailserver:
	@test -x /usr/sbin/dovecot || { echo "==> installing dovecot-imapd"; $(APT_INSTALL) dovecot-imapd; }
	@echo "==> Dovecot (IMAP on loopback) for the mail tests"
	@$(PYTHON3) scripts/mailserver.py up > /dev/null

migrate: services
	@echo "==> migrate"
	@$(WITH_SERVICES) $(MANAGE) migrate --no-input -v 1

seed: migrate
	@echo "==> demo data"
	@$(WITH_SERVICES) $(MANAGE) seed_demo

setup: install services messages migrate seed

run: setup
	@echo
	@echo "==> Starting web, Celery worker and Celery beat (Ctrl-C stops all three)."
	@echo "    Open http://$(WEB_ADDR)/ and sign in with one of the demo logins listed above."
	@echo "    Embedded PostgreSQL/Redis, if used, keep running: 'make stop-embedded' stops them."
	@echo
	@$(WITH_SERVICES) DJANGO_SETTINGS_MODULE=crm.settings.dev WEB_ADDR=$(WEB_ADDR) \
		$(VENV)/bin/honcho --env /dev/null -f Procfile.dev start

# pytest.ini selects crm.settings.test; a DJANGO_SETTINGS_MODULE left in the shell would override it.
# CI builds the test databases afresh; locally they are reused between runs (pytest.ini --reuse-db).
PYTEST_FRESH := $(if $(CI),--create-db)
PYTEST := $(WITH_SERVICES) DJANGO_SETTINGS_MODULE=crm.settings.test $(PY) -m pytest $(if $(PYTEST_WORKERS),-n $(PYTEST_WORKERS))

# The moments at which the tests marked `dates` run again (pytest --today): a quarter's first minutes in
# Shanghai (still the day before in UTC), a quarter's last evening, New Year's Eve, 29 February, and
# the Monday after the 调休 Sunday of 2025-09-28 (a make-up working day before National Day).
TEST_MOMENTS ?= 2027-04-01T00:10+08:00 2027-03-31T23:50+08:00 2026-12-31T18:00+08:00 \
	2028-02-29T09:00+08:00 2025-09-29T08:30+08:00

# Without ARGS: the suite but the browser tests, then the browser tests in processes of their own (their
# live server is a thread, and the import's check never forks beside a thread, so the tests of its forked
# check must not share a process with it), then the lint and the date-sensitive tests at each moment above.
# With ARGS: pytest with those arguments only.
test: install services messages browser mailserver
	@if [ -n "$(ARGS)" ]; then \
		echo "==> pytest $(ARGS)"; \
		$(PYTEST) $(PYTEST_FRESH) $(ARGS); \
	else \
		echo "==> pytest -m 'not browser' $(PYTEST_FRESH)" && $(PYTEST) $(PYTEST_FRESH) -m "not browser" && \
		echo "==> pytest -m browser" && $(PYTEST) -m browser && \
		$(MAKE) --no-print-directory lint test-dates; \
	fi

lint: install
	@echo "==> ruff check"
	@$(VENV)/bin/ruff check .

test-dates: install services
	@for moment in $(TEST_MOMENTS); do \
		echo "==> pytest -m dates --today=$$moment"; \
		$(PYTEST) -q -m "dates and not worker and not browser" --today=$$moment || exit 1; \
	done

# Stopping needs only the standard library, so it works without the virtualenv too.
stop-embedded:
	@$(PYTHON3) scripts/devservices.py stop
	@$(PYTHON3) scripts/mailserver.py stop

clean-devdata: stop-embedded
	rm -rf .devdata
