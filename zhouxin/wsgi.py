import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
application = get_wsgi_application()

# Load jieba's dictionary and the category model in the background now, so that the
# first intake of a new worker process pays for neither (zhouxin/dispatch/classify.py).
from zhouxin.dispatch.classify import warm_up_in_background  # noqa: E402

warm_up_in_background()
