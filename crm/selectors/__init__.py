"""Every read of the customer core, through the access layer; import from here."""
from .customers import *
from .duplicates import *
from .myday import *
from .pool import *
from .search import *
