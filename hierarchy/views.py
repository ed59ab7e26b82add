from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from hierarchy.models import reseller_of


@login_required
def console_home(request):
    reseller = reseller_of(request.user)
    if reseller is None:
        if request.user.is_superuser:
            return redirect("admin:index")
        return render(request, "console/no_reseller.html", status=403)
    return render(request, "console/home.html", {"reseller": reseller})
