from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path

from securecloud.api.api import api
from securecloud.api.problems import problem


def no_such_endpoint(request: HttpRequest, path: str) -> HttpResponse:
    return problem(404, "No such endpoint: see /api/v1/admin/openapi.json for the API's paths.")


urlpatterns = [
    path("", api.urls),
    re_path(r"^(?P<path>.*)$", no_such_endpoint),
]
