from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from securecloud.api_errors import RETRY_AFTER_SECONDS
from securecloud.healthcheck.checks import check_database


@require_safe
def healthz(request):
    """For load balancers: 200 when the database answers and takes writes, else 503.

    No session is read for it (securecloud.api_errors), so a browser's session cookie
    cannot turn an outage into a 500.
    """
    try:
        check_database()
    except DatabaseError:
        response = JsonResponse({"status": "database unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok"})
