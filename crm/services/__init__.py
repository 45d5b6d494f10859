"""Every write to the customer core, one module per area; import from here."""
from .customers import *  # noqa: F401,F403
from .export import *  # noqa: F401,F403
from .imports import *  # noqa: F401,F403
from .merge import *  # noqa: F401,F403
from .notifications import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
