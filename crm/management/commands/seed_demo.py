from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.demo import DEMO_PASSWORD, PERSONAS, seed_demo, seed_demo_reminders


class Command(BaseCommand):
    help = ("Load the demo company (teams, one user per persona, three customer pools, about 300 customers "
            "with contacts and a year of follow-ups; two sales pipelines with deals; six weeks of service tickets). Does nothing if it is loaded. "
            "Refused under production settings.")

    def handle(self, *args, **options):
        from sales.demo import seed_sales_demo
        from service.demo import seed_service_demo

        if not settings.CRM_DEMO_DATA:
            raise CommandError(
                f"Refusing to load the demo data under {settings.SETTINGS_MODULE}: it creates users such as "
                f"admin with the published password {DEMO_PASSWORD}. Load it only with crm.settings.dev.")
        created = seed_demo()
        created = seed_sales_demo() or created
        created = seed_service_demo() or created
        if created:
            seed_demo_reminders()
        self.stdout.write("Demo data loaded." if created else "Demo data already present; nothing changed.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}; demo only):")
        for username, _display, mobile, team, _manager, role, _lead in PERSONAS:
            self.stdout.write(f"  {username:<14} {mobile}  {role:<10} {team}")
