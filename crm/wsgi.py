import gc

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from crm.settings import use_settings_module

use_settings_module()  # the environment's (or .env's); none is an error, never a guess
application = get_wsgi_application()

# What start-up builds (settings, models, the URLconf with every view module) lives as long as the
# process. Frozen, the garbage collector's full passes skip it: unfrozen, such a pass cost 60-220 ms
# in whichever request it fell on (`manage.py benchmark customers`). It also keeps pre-forked
# workers from copying those pages.
get_resolver().url_patterns  # noqa: B018 (imports the views now, before the freeze)
gc.freeze()
