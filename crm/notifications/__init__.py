"""Reminders: a registry of rules (`rules.py`), each one set-based SQL statement that names who is
to be reminded of which record for which due period. The engine that runs them is
`crm.services.notifications`; reads are in `crm.selectors.notifications`."""
from .rules import RULES, Rule, rule_for

__all__ = ["RULES", "Rule", "rule_for"]
