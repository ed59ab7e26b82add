"""Console pages of the organisation tree: the hierarchy tree (left pane), the reseller
and customer panes (right pane), their forms and actions.

Every view is a thin function: access helper, form, one service call, then render or
redirect. No page loads more than one page of customers or clients, so the number of
queries and the size of each page stay the same whatever the size of the tenant.
"""

import secrets
from dataclasses import dataclass

import bsicons
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clients.models import Client
from hierarchy import services
from hierarchy.access import (
    get_customer_for_user,
    get_membership_for_user,
    get_node_for_user,
    get_reseller_for_user,
)
from hierarchy.models import EmailDelivery, Node, reseller_of
from securecloud.console.forms import AdminForm, CustomerForm, CustomerSortForm, ResellerForm
from securecloud.http import form_data, origin_of, search_term
from securecloud.mail.emails import (
    customer_email_context,
    queue_welcome_email,
    send_set_password_email,
)
from securecloud.mail.health import backup_health, over_quota_q, stale_clients_q
from securecloud.site import site_url

TREE_PAGE_SIZE = 50
TABLE_PAGE_SIZE = 25
SEARCH_LIMIT = 20
# Shorter terms match too much to be useful, and PostgreSQL's trigram indexes need three.
SEARCH_MIN_LENGTH = 3
ONE_TIME_PASSWORD_KEY = "console_new_admin"


# Far past the last page of any tree (50 million children): a larger number would only
# overflow the database's offset, so it is read as this one (an empty page).
MAX_PAGE = 1_000_000


def page_number(request, name: str = "page") -> int:
    """A page number from the query string: 1 when missing or not a number."""
    try:
        return min(max(1, int(request.GET.get(name, 1))), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def paginate(request, queryset, per_page: int = TABLE_PAGE_SIZE):
    """One page (a bad or too-high ?page= gives the nearest valid one, never an error)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- The hierarchy tree --------------------------------------------------------------


@dataclass
class TreeItem:
    """One treeitem of the left pane: a reseller, a customer or a client."""

    kind: str
    obj: Node | Client
    expandable: bool
    children: list["TreeItem"] | None = None  # None: not loaded yet (htmx loads it)
    more_page: int | None = None  # the next page of children, when there is one
    selected: bool = False
    level: int = 1

    @property
    def url(self) -> str:
        return pane_url(self.obj)

    @property
    def children_url(self) -> str:
        return reverse("tree-children", args=[self.obj.code])

    @property
    def more_pane_url(self) -> str:
        """Without JavaScript, "Show more" opens the pane's table where the tree's next
        page begins."""
        return f"{self.url}?page={table_page_of_tree_page(self.more_page)}"  # type: ignore[arg-type]

    @property
    def expanded(self) -> bool:
        return self.children is not None


def table_page_of_tree_page(page: int) -> int:
    """The pane's table page that holds the first row of the tree's `page` (the table
    shows fewer rows per page than the tree)."""
    return (page - 1) * TREE_PAGE_SIZE // TABLE_PAGE_SIZE + 1


def pane_url(obj) -> str:
    if isinstance(obj, Client):
        return reverse("client-pane", args=[obj.code])
    if obj.is_customer:
        return reverse("customer-pane", args=[obj.code])
    return reverse("reseller-pane", args=[obj.code])


def _node_item(node: Node, level: int) -> TreeItem:
    if node.is_reseller:
        expandable = node.rght - node.lft > 1
    else:
        expandable = getattr(node, "has_clients", True)
    return TreeItem(kind=node.kind, obj=node, expandable=expandable, level=level)


def _children_query(parents):
    return Node.objects.filter(parent__in=parents).annotate(
        has_clients=Exists(Client.objects.filter(customer=OuterRef("pk")))
    )


_CHILD_ORDER = ("-kind", "name", "pk")


def _page_items(parent, rows, page: int, pinned) -> tuple[list[TreeItem], int | None]:
    """Tree items of one page of `rows` (which hold up to one row more than a page)."""
    level = parent.level + 2
    if parent.is_reseller:
        make = lambda row: _node_item(row, level)  # noqa: E731
    else:
        make = lambda row: TreeItem(kind="client", obj=row, expandable=False, level=level)  # noqa: E731
    more = page + 1 if len(rows) > TREE_PAGE_SIZE else None
    items = [make(row) for row in rows[:TREE_PAGE_SIZE]]
    if pinned is not None and all(item.obj.pk != pinned.pk for item in items):
        items.append(make(pinned))
    return items, more


def tree_children(parent: Node, page: int = 1, *, pinned=None) -> tuple[list[TreeItem], int | None]:
    """One page of a node's children (one query), and the next page number if any.

    `pinned` (the node or client on the selected path) is added when it is not on the
    page, so that the selected item is always shown.
    """
    start = (page - 1) * TREE_PAGE_SIZE
    if parent.is_reseller:
        query = _children_query([parent]).order_by(*_CHILD_ORDER)
    else:
        query = (
            Client.objects.filter(customer=parent)
            .only(
                "code", "customer_id", "securecloud_id", "name", "plan", "status", "trial_ends_at"
            )
            .order_by("securecloud_id")
        )
    rows = list(query[start : start + TREE_PAGE_SIZE + 1])
    return _page_items(parent, rows, page, pinned)


def _first_pages_of(resellers: list[Node]) -> dict[int, list[Node]]:
    """The first page (plus one row) of children of each reseller, in one query: a row
    number per parent, so that the query count does not grow with the tree's depth."""
    if len(resellers) == 1:
        rows = list(_children_query(resellers).order_by(*_CHILD_ORDER)[: TREE_PAGE_SIZE + 1])
        return {resellers[0].pk: rows}
    position = Window(
        RowNumber(),
        partition_by=[F("parent_id")],
        order_by=[F("kind").desc(), F("name").asc(), F("pk").asc()],
    )
    rows = (
        _children_query(resellers)
        .annotate(position=position)
        .filter(position__lte=TREE_PAGE_SIZE + 1)
        .order_by("parent_id", *_CHILD_ORDER)
    )
    pages: dict[int, list[Node]] = {reseller.pk: [] for reseller in resellers}
    for row in rows:
        pages[row.parent_id].append(row)
    return pages


def console_path(user, node: Node) -> list[Node]:
    """The nodes from the user's top reseller down to `node` (one query)."""
    root = reseller_of(user)
    if root is not None and root.pk == node.pk:
        return [node]
    # Most pages sit one or two levels below the admin's reseller, and their parents are
    # already loaded (select_related): follow those before asking the database.
    path, current, parent_field = [node], node, Node._meta.get_field("parent")
    while root is not None and parent_field.is_cached(current) and current.parent_id:
        if current.parent_id == root.pk:
            return [root, *reversed(path)]
        current = current.parent
        path.append(current)
    query = Node.objects.above(node)
    if root is not None:
        query = query.within(root)
    return list(query.order_by("lft"))


def build_tree(path: list[Node], client: Client | None = None) -> TreeItem:
    """The tree with every node on `path` expanded: one query for the children of all
    the resellers on the path, and one for a selected customer's clients."""
    selected = client or path[-1]
    root = _node_item(path[0], 1)
    first_pages = _first_pages_of([node for node in path if node.is_reseller])
    item = root
    for depth, node in enumerate(path):
        pinned = path[depth + 1] if depth + 1 < len(path) else client
        if node.is_reseller:
            children, more = _page_items(node, first_pages[node.pk], 1, pinned)
        else:
            children, more = tree_children(node, pinned=pinned)
        item.children, item.more_page = children, more
        item.expandable = bool(children)
        if pinned is None:
            break
        item = next(child for child in children if child.obj.pk == pinned.pk)
        if isinstance(pinned, Node):
            item.obj = pinned
    for candidate in _walk(root):
        candidate.selected = candidate.obj.pk == selected.pk and type(candidate.obj) is type(
            selected
        )
    return root


def _walk(item: TreeItem):
    yield item
    for child in item.children or ():
        yield from _walk(child)


def render_console(
    request,
    template: str,
    *,
    node: Node,
    client: Client | None = None,
    status: int = 200,
    **context,
):
    """A console page: the tree expanded down to `node` (or `client`), the breadcrumb,
    and the right pane of `template`."""
    path = console_path(request.user, node)
    context.update(
        tree=build_tree(path, client),
        breadcrumb=[*path, client] if client else path,
        node=node,
        client=client,
        site_url=site_url(request),
    )
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_safe
def tree_expand(request, code):
    """Children of a node, for the tree: the `children` partial for htmx, else its pane."""
    node = get_node_for_user(request.user, code)
    page = page_number(request)
    if not request.htmx:
        url = pane_url(node)
        return redirect(f"{url}?page={table_page_of_tree_page(page)}" if page > 1 else url)
    items, more = tree_children(node, page)
    response = render(
        request,
        "console/tree.html#children",
        {
            "items": items,
            "parent": TreeItem(
                kind=node.kind, obj=node, expandable=True, children=items, more_page=more
            ),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Console home and the reseller pane ----------------------------------------------


@login_required
@require_safe
def console_home(request):
    reseller = reseller_of(request.user)
    if reseller is None:
        if request.user.is_superuser:
            return redirect("admin:index")
        return render(request, "console/no_reseller.html", status=403)
    return _reseller_pane(request, reseller)


@login_required
@require_safe
def reseller_pane(request, code):
    return _reseller_pane(request, get_reseller_for_user(request.user, code))


def _customer_table(request, reseller: Node):
    sort_form = CustomerSortForm(request.GET)
    sort = sort_form.cleaned_data["sort"] if sort_form.is_valid() else ""
    sort = sort or "name"
    order = CustomerSortForm.SORTS[sort]
    field_name = order.lstrip("-")
    expression = (
        F(field_name).desc(nulls_first=True)
        if order.startswith("-")
        else F(field_name).asc(nulls_last=True)
    )
    customers = Node.objects.customers().filter(parent=reseller)
    return paginate(request, customers.order_by(expression, "name", "pk")), sort


def _reseller_pane(request, reseller: Node, admin_form=None, status=200):
    page, sort = _customer_table(request, reseller)
    new_admin = request.session.pop(ONE_TIME_PASSWORD_KEY, None)
    admins = list(reseller.memberships.select_related("user").order_by("user__username"))
    response = render_console(
        request,
        "hierarchy/reseller.html",
        node=reseller,
        reseller=reseller,
        page=page,
        sort=sort,
        admins=admins,
        admin_form=admin_form or AdminForm(),
        new_admin=new_admin,
        health=backup_health(reseller),
        status=status,
    )
    if new_admin:
        # The one-time password: no copy for Back after signing out.
        add_never_cache_headers(response)
    return response


HEALTH_LISTS = {
    "failed": "Clients whose last backup failed",
    "stale": "Clients with no successful backup in 24 hours",
    "over-quota": "Customers over their usage space",
}


@login_required
@require_safe
def health_list(request, code, kind):
    reseller = get_reseller_for_user(request.user, code)
    if kind not in HEALTH_LISTS:
        raise Http404("No such list.")
    if kind == "over-quota":
        rows = (
            Node.objects.within(reseller)
            .customers()
            .filter(over_quota_q())
            .select_related("parent")
            .order_by("name", "pk")
        )
    else:
        rows = Client.objects.within(reseller).select_related("customer").order_by("securecloud_id")
        if kind == "failed":
            rows = rows.filter(last_backup_status=Client.BackupStatus.FAILED)
        else:
            rows = rows.filter(stale_clients_q(timezone.now()))
    return render_console(
        request,
        "hierarchy/health.html",
        node=reseller,
        reseller=reseller,
        kind=kind,
        title=HEALTH_LISTS[kind],
        page=paginate(request, rows),
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_add(request, code):
    reseller = get_reseller_for_user(request.user, code)
    form = CustomerForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.create_customer(
                reseller, acting_user=request.user, origin=origin_of(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Customer {customer.name} added.")
            return redirect("customer-welcome", code=customer.code)
    return render_console(
        request,
        "hierarchy/customer_form.html",
        node=reseller,
        form=form,
        title="Add New Customer",
    )


@login_required
@require_http_methods(["GET", "POST"])
def subreseller_add(request, code):
    reseller = get_reseller_for_user(request.user, code)
    form = ResellerForm(form_data(request))
    if request.method == "POST" and form.is_valid():
        try:
            sub = services.create_reseller(
                reseller,
                name=form.cleaned_data["name"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Sub-reseller {sub.name} added.")
            return redirect("reseller-pane", code=sub.code)
    return render_console(
        request,
        "hierarchy/reseller_form.html",
        node=reseller,
        form=form,
        title="Add Sub-Reseller",
    )


@login_required
@require_http_methods(["GET", "POST"])
def reseller_edit(request, code):
    reseller = get_reseller_for_user(request.user, code)
    if reseller.parent_id is None and not request.user.is_superuser:
        # A top-level reseller's name is the server-wide key of the operators' commands
        # (`--reseller NAME`) and cron jobs: only the server's operator renames it.
        messages.error(
            request, "The name of a top-level reseller is changed by the server's operator."
        )
        return redirect("reseller-pane", code=reseller.code)
    form = ResellerForm(form_data(request), initial={"name": reseller.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.rename_reseller(
                reseller,
                form.cleaned_data["name"],
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Reseller renamed to {reseller.name}.")
            return redirect("reseller-pane", code=reseller.code)
    return render_console(
        request,
        "hierarchy/reseller_form.html",
        node=reseller,
        form=form,
        title=f"Edit {reseller.name}",
    )


@login_required
@require_POST
def admin_add(request, code):
    reseller = get_reseller_for_user(request.user, code)
    form = AdminForm(request.POST)
    if form.is_valid():
        by_email = form.cleaned_data["sign_in"] == AdminForm.EMAIL_LINK
        password = None if by_email else secrets.token_urlsafe(12)
        try:
            user = services.add_reseller_admin(
                reseller,
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=password,
                acting_user=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if by_email:
                messages.success(request, f"Admin {user.username} added.")
                _send_set_password_link(request, user)
            else:
                # Shown once, on the next page, then gone from the session.
                request.session[ONE_TIME_PASSWORD_KEY] = {
                    "username": user.username,
                    "password": password,
                }
                messages.success(request, f"Admin {user.username} added.")
            return redirect(reverse("reseller-pane", args=[reseller.code]) + "#admins")
    return _reseller_pane(request, reseller, admin_form=form)


def _send_set_password_link(request, user) -> None:
    error = send_set_password_email(
        user, acting_user=request.user, origin=origin_of(request), site_url=site_url(request)
    )
    if error:
        messages.error(
            request,
            f"The email to {user.email} failed ({error}); use \u201cSend set-password link\u201d "
            "to try again.",
        )
    else:
        messages.success(request, f"A link to set a password went to {user.email}.")


@login_required
@require_POST
def admin_send_link(request, code):
    """Email an admin of the user's subtree a new link to set its password."""
    membership = get_membership_for_user(request.user, code)
    if not membership.user.email:
        messages.error(request, f"{membership.user.username} has no email address.")
    else:
        _send_set_password_link(request, membership.user)
    return redirect(reverse("reseller-pane", args=[membership.reseller.code]) + "#admins")


@login_required
@require_POST
def admin_remove(request, code):
    membership = get_membership_for_user(request.user, code)
    reseller = membership.reseller
    try:
        services.remove_reseller_admin(
            membership, acting_user=request.user, origin=origin_of(request)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Admin {membership.user.username} removed.")
    return redirect(reverse("reseller-pane", args=[reseller.code]) + "#admins")


# --- The customer pane ---------------------------------------------------------------


@login_required
@require_safe
def customer_pane(request, code):
    customer = get_customer_for_user(request.user, code)
    page = paginate(request, Client.objects.filter(customer=customer).order_by("securecloud_id"))
    return render_console(
        request,
        "hierarchy/customer.html",
        node=customer,
        customer=customer,
        page=page,
        **customer_email_context(customer),
    )


def _queue_welcome_email(request, customer) -> None:
    """Queue the welcome email and say what became of it; the customer stays created."""
    try:
        delivery = queue_welcome_email(
            customer,
            acting_user=request.user,
            origin=origin_of(request),
            first_only=True,
            site_url=site_url(request),
        )
    except ValidationError as exc:
        messages.warning(request, exc.messages[0])
        return
    delivery.refresh_from_db()  # the immediate backend has already run the task
    if delivery.status == delivery.Status.SENT:
        messages.success(request, f"Welcome email sent to {delivery.recipient}.")
    elif delivery.status == delivery.Status.FAILED:
        messages.error(
            request, f"The welcome email to {delivery.recipient} failed: {delivery.error}"
        )
    else:
        messages.success(request, f"Welcome email to {delivery.recipient} queued.")


@login_required
@require_http_methods(["GET", "POST"])
def customer_welcome(request, code):
    """Seed step 4: Send or Don't Send the automated email to the new customer."""
    customer = get_customer_for_user(request.user, code)
    if request.method == "POST":
        if request.POST.get("action") == "send":
            _queue_welcome_email(request, customer)
        else:
            messages.info(request, "No welcome email sent.")
        return redirect("customer-pane", code=customer.code)
    # Back on this page after sending: say so rather than offer Send again.
    welcome_sent = (
        customer.email_deliveries.filter(
            kind=EmailDelivery.Kind.WELCOME, status=EmailDelivery.Status.SENT
        )
        .order_by("-sent_at")
        .first()
    )
    return render_console(
        request,
        "hierarchy/welcome.html",
        node=customer,
        customer=customer,
        welcome_sent=welcome_sent,
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, code):
    customer = get_customer_for_user(request.user, code)
    form = CustomerForm(form_data(request), customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_customer(
                customer, acting_user=request.user, origin=origin_of(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Customer {customer.name} saved.")
            return redirect("customer-pane", code=customer.code)
    return render_console(
        request,
        "hierarchy/customer_form.html",
        node=customer,
        customer=customer,
        form=form,
        title=f"Edit {customer.name}",
    )


@login_required
@require_POST
def customer_auto_authorization(request, code):
    """The key icon: toggle auto-authorization at once, then say what changed."""
    customer = get_customer_for_user(request.user, code)
    # The button posts the state it offers, so a double click or two admins at once
    # cannot flip it back; without the field (an old page), it toggles.
    wanted = request.POST.get("enabled")
    enabled = wanted == "1" if wanted in {"0", "1"} else not customer.auto_add_clients
    services.set_auto_authorization(
        customer, enabled, acting_user=request.user, origin=origin_of(request)
    )
    if enabled:
        messages.success(
            request,
            f"Auto-authorization is now on for {customer.name}: new clients are added "
            "when they connect with the registration key.",
        )
    else:
        messages.success(
            request,
            f"Auto-authorization is now off for {customer.name}: new clients need a password.",
        )
    return redirect("customer-pane", code=customer.code)


@login_required
@require_POST
def customer_regenerate_key(request, code):
    customer = get_customer_for_user(request.user, code)
    services.regenerate_registration_key(
        customer, acting_user=request.user, origin=origin_of(request)
    )
    messages.success(request, "New registration key made; the old one no longer works.")
    return redirect("customer-pane", code=customer.code)


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request, code):
    customer = get_customer_for_user(request.user, code)
    has_clients = Client.objects.filter(customer=customer).exists()
    if request.method == "POST":
        try:
            services.delete_customer(customer, acting_user=request.user, origin=origin_of(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("customer-pane", code=customer.code)
        messages.success(request, f"Customer {customer.name} deleted.")
        return redirect("reseller-pane", code=customer.parent.code)
    return render_console(
        request,
        "hierarchy/customer_delete.html",
        node=customer,
        customer=customer,
        has_clients=has_clients,
    )


# --- Search --------------------------------------------------------------------------


@login_required
@require_safe
def search(request):
    """Customers (name, contact name or email) and clients (SecureCloud ID, name or email),
    within the user's subtree."""
    root = reseller_of(request.user)
    if root is None:
        if request.user.is_superuser:
            return redirect("admin:index")
        raise Http404("No reseller.")
    query = search_term(request)
    customers = clients = []
    too_short = len(query) < SEARCH_MIN_LENGTH
    if query and not too_short:
        customers = list(
            Node.objects.visible_to(request.user)
            .filter(
                Q(name__icontains=query)
                | Q(contact_name__icontains=query)
                | Q(contact_email__icontains=query)
            )
            .select_related("parent")
            .order_by("name", "pk")[:SEARCH_LIMIT]
        )
        clients = list(
            Client.objects.visible_to(request.user)
            .filter(
                Q(securecloud_id__icontains=query)
                | Q(name__icontains=query)
                | Q(email__icontains=query)
            )
            .select_related("customer")
            .order_by("securecloud_id")[:SEARCH_LIMIT]
        )
    context = {
        "q": query,
        "customers": customers,
        "clients": clients,
        "limit": SEARCH_LIMIT,
        "too_short": too_short,
        "min_length": SEARCH_MIN_LENGTH,
    }
    if request.htmx:
        response = render(request, "console/search.html#results", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    return render_console(request, "console/search.html", node=root, **context)


@require_safe
def favicon(request):
    """The browser asks every site for /favicon.ico: answer with the console's icon (an SVG
    from the icon set) rather than a 404 in every browser console."""
    with open(bsicons.get_icon_path("shield-lock"), encoding="utf-8") as handle:
        response = HttpResponse(handle.read(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
