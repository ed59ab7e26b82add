from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from securecloud import views
from securecloud.accounts import views as account_views
from securecloud.console import history_views

urlpatterns = [
    path("login/", account_views.SignInView.as_view(), name="login"),
    path("logout/", account_views.SignOutView.as_view(), name="logout"),
    path("account/password/", account_views.password_change, name="password_change"),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "account/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("invitation/<str:token>/", account_views.invitation_accept, name="invitation-accept"),
    path("account/", account_views.account, name="account"),
    path("account/2fa/setup/", account_views.two_factor_setup, name="two-factor-setup"),
    path("account/2fa/verify/", account_views.two_factor_verify, name="two-factor-verify"),
    path("account/2fa/disable/", account_views.two_factor_disable, name="two-factor-disable"),
    path(
        "account/2fa/recovery-codes/",
        account_views.recovery_codes_regenerate,
        name="two-factor-recovery-codes",
    ),
    path(
        "resellers/<uuid:code>/two-factor-policy/",
        account_views.reseller_two_factor_policy,
        name="reseller-two-factor-policy",
    ),
    path("resellers/<uuid:code>/history/", history_views.reseller_history, name="reseller-history"),
    path("customers/<uuid:code>/history/", history_views.customer_history, name="customer-history"),
    path("clients/<uuid:code>/history/", history_views.client_history, name="client-history"),
    path("healthz", views.healthz, name="healthz"),
    # Before the admin's own: the admin signs in on the console's sign-in page, and its
    # Sign out is the console's (both recorded in the audit log).
    path("admin/login/", account_views.admin_login, name="admin-login"),
    path("admin/logout/", account_views.SignOutView.as_view(), name="admin-logout"),
    path("admin/", admin.site.urls),
    path("api/v1/admin/", include("securecloud.api.urls")),
    path("api/v1/", include("clients.api_urls")),
    path("", include("securecloud.branding.urls")),
    path("", include("securecloud.console.api_key_urls")),
    path("", include("securecloud.console.client_urls")),
    path("", include("securecloud.console.email_urls")),
    path("", include("securecloud.console.event_urls")),
    path("", include("securecloud.console.urls")),
]
