from django.urls import path

from securecloud.console import (
    branding_views,
    customer_user_views,
    customer_views,
    health_views,
    usage_views,
    views,
)

urlpatterns = [
    path("", views.console_home, name="console-home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("icons.svg", views.icon_sprite, name="icon-sprite"),
    path("search/", views.search, name="search"),
    path("tree/", views.tree_top, name="tree-top"),
    path("tree/<uuid:code>/", views.tree_expand, name="tree-children"),
    path("resellers/<uuid:code>/", views.reseller_pane, name="reseller-pane"),
    path("resellers/<uuid:code>/edit/", views.reseller_edit, name="reseller-edit"),
    path("resellers/<uuid:code>/customers/new/", customer_views.customer_add, name="customer-add"),
    path("resellers/<uuid:code>/resellers/new/", views.subreseller_add, name="subreseller-add"),
    path("resellers/<uuid:code>/admins/new/", views.admin_add, name="admin-add"),
    path(
        "resellers/<uuid:code>/customer-user-settings/",
        views.reseller_customer_user_settings,
        name="reseller-customer-user-settings",
    ),
    path(
        "resellers/<uuid:code>/branding/",
        branding_views.reseller_branding,
        name="reseller-branding",
    ),
    path("branding/", branding_views.branding_home, name="branding-home"),
    path("resellers/<uuid:code>/health/<slug:kind>/", health_views.health_list, name="health-list"),
    path("usage/", usage_views.usage_home, name="usage-home"),
    path("resellers/<uuid:code>/usage/", usage_views.reseller_usage, name="reseller-usage"),
    path(
        "resellers/<uuid:code>/usage.csv", usage_views.reseller_usage_csv, name="reseller-usage-csv"
    ),
    path(
        "resellers/<uuid:code>/usage-figures/",
        usage_views.reseller_usage_figures,
        name="reseller-usage-figures",
    ),
    path("resellers/<uuid:code>/prices/", usage_views.reseller_prices, name="reseller-prices"),
    path("admins/<uuid:code>/remove/", views.admin_remove, name="admin-remove"),
    path("admins/<uuid:code>/role/", views.admin_role, name="admin-role"),
    path("admins/<uuid:code>/set-password-link/", views.admin_send_link, name="admin-send-link"),
    path("invitations/<uuid:code>/resend/", views.invitation_resend, name="invitation-resend"),
    path("invitations/<uuid:code>/revoke/", views.invitation_revoke, name="invitation-revoke"),
    path("customers/<uuid:code>/", customer_views.customer_pane, name="customer-pane"),
    path(
        "customers/<uuid:code>/welcome/", customer_views.customer_welcome, name="customer-welcome"
    ),
    path("customers/<uuid:code>/edit/", customer_views.customer_edit, name="customer-edit"),
    path("customers/<uuid:code>/users/", customer_user_views.customer_users, name="customer-users"),
    path(
        "customers/<uuid:code>/users/invite/",
        customer_user_views.customer_user_invite,
        name="customer-user-invite",
    ),
    path(
        "customer-users/<uuid:code>/remove/",
        customer_user_views.customer_user_remove,
        name="customer-user-remove",
    ),
    path(
        "customers/<uuid:code>/auto-authorization/",
        customer_views.customer_auto_authorization,
        name="customer-auto-authorization",
    ),
    path(
        "customers/<uuid:code>/registration-key/",
        customer_views.customer_regenerate_key,
        name="customer-regenerate-key",
    ),
    path("customers/<uuid:code>/delete/", customer_views.customer_delete, name="customer-delete"),
    path("customers/<uuid:code>/storage/", usage_views.customer_storage, name="customer-storage"),
]
