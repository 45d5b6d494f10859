from django.core.management.base import BaseCommand

from crm.demo import DEMO_PASSWORD, PERSONAS, seed_demo, seed_demo_reminders


class Command(BaseCommand):
    help = ("Load the demo company (teams, one user per persona, three customer pools, about 300 customers "
            "with contacts and a year of follow-ups; two sales pipelines with deals). Does nothing if it is loaded.")

    def handle(self, *args, **options):
        from sales.demo import seed_sales_demo

        created = seed_demo()
        created = seed_sales_demo() or created
        if created:
            seed_demo_reminders()
        self.stdout.write("Demo data loaded." if created else "Demo data already present; nothing changed.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}; demo only):")
        for username, _display, mobile, team, _manager, role, _lead in PERSONAS:
            self.stdout.write(f"  {username:<14} {mobile}  {role:<10} {team}")
