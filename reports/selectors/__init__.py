"""Every read of the reports, one module per report: `sales` (the sales dashboard) and `service` (the
service report). The sales dashboard's names are here too, as its views and tests have always read them."""
from .sales import *  # noqa: F401,F403
