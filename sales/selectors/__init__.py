"""Every read of the sales app that views, reports, exports and tasks share, one module per area."""
from .contracts import *  # noqa: F401,F403,E402
from .deals import *  # noqa: F401,F403
from .history import *  # noqa: F401,F403,E402
from .quotes import *  # noqa: F401,F403,E402
from .targets import *  # noqa: F401,F403,E402
