from django.core.asgi import get_asgi_application

from crm.settings import use_settings_module

use_settings_module()  # the environment's (or .env's); none is an error, never a guess
application = get_asgi_application()
