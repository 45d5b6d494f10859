"""Every read of the customer core, through the access layer; import from here."""
from .customers import *  # noqa: F401,F403
from .duplicates import *  # noqa: F401,F403
from .export import *  # noqa: F401,F403
from .imports import *  # noqa: F401,F403
from .myday import *  # noqa: F401,F403
from .notifications import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .search import *  # noqa: F401,F403
