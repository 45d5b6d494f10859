"""Every write of the sales app, one module per area; import them from here (`from sales import services`)."""
from .contracts import *  # noqa: F401,F403,E402
from .deals import *  # noqa: F401,F403
from .deals import LOST_HOOKS, WON_HOOKS, _require_configure, _require_edit  # noqa: F401
from .numbering import next_number, numbering_pattern_check, numbering_save  # noqa: F401
from .quotes import *  # noqa: F401,F403,E402
from .targets import *  # noqa: F401,F403,E402
