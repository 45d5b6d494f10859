"""Every write to the customer core, one module per area; import from here."""
from .customers import *
from .export import *
from .merge import *
from .pool import *
