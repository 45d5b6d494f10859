"""Reminders: a registry of rules (`rules.py`: the base class, `register`, `autodiscover`), each one
set-based SQL statement that names who is to be reminded of which record for which due period. Each
app keeps its rules in its own `reminders.py`. The engine that runs them is
`crm.services.notifications`; reads are in `crm.selectors.notifications`."""
from .rules import GROUP_OVER, RULES, Rule, autodiscover, register, rule_for

__all__ = ["GROUP_OVER", "RULES", "Rule", "autodiscover", "register", "rule_for"]
