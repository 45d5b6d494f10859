#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import sys


def main():
    from django.core.exceptions import ImproperlyConfigured

    try:
        from crm.settings import use_settings_module  # importing crm already asks (crm/celery.py)

        use_settings_module()
    except ImproperlyConfigured as exc:
        sys.exit(f"manage.py: {exc}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
