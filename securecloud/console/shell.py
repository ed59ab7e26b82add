"""The console's shell: what every console page shares around its right pane. The
hierarchy tree of the left pane (built lazily, one page of children at a time), the
breadcrumb, the page's address for a node or client, and the pagination helpers.

`render_console()` renders a page inside the shell; the views of every page family use it.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any
from uuid import UUID

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import patch_vary_headers

from clients.models import Client
from hierarchy.models import Node, reseller_of
from securecloud.site import site_url

# A tree level shows as many children as a table page (then "Show more"): each item is
# ~0.6 KB of markup on every page that shows the level.
TREE_PAGE_SIZE = 25
TABLE_PAGE_SIZE = 25
# Far past the last page of any tree (50 million children): a larger number would only
# overflow the database's offset, so it is read as this one (an empty page).
MAX_PAGE = 1_000_000


def page_number(request: HttpRequest, name: str = "page") -> int:
    """A page number from the query string: 1 when missing or not a number."""
    try:
        return min(max(1, int(request.GET.get(name, 1))), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    per_page: int = TABLE_PAGE_SIZE,
    *,
    count: int | None = None,
) -> Page[Any]:
    """One page (a bad or too-high ?page= gives the nearest valid one, never an error).
    `count`: the number of rows when the caller already knows it (a counter kept by the
    services), which spares the COUNT query."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.__dict__["count"] = count  # Paginator.count is a cached_property
    return paginator.get_page(request.GET.get("page"))


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

    @cached_property
    def url(self) -> str:
        return pane_url(self.obj)

    @property
    def children_url(self) -> str:
        return object_url("tree-children", self.obj.code)

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


_PLACEHOLDER = UUID(int=0)


@cache
def _around_code(name: str, prefix: str, urlconf: Any) -> tuple[str, str]:
    head, _, tail = reverse(name, args=[_PLACEHOLDER], urlconf=urlconf).partition(str(_PLACEHOLDER))
    return head, tail


def object_url(name: str, code: UUID) -> str:
    """reverse(name, args=[code]) for a URL whose one argument is a UUID, from the URL
    reversed once: a tree of a hundred items reversed three hundred URLs a page."""
    head, tail = _around_code(name, get_script_prefix(), get_urlconf())
    return f"{head}{code}{tail}"


def pane_url(obj: Node | Client) -> str:
    """The console page of a reseller, customer or client."""
    if isinstance(obj, Client):
        return object_url("client-pane", obj.code)
    if obj.is_customer:
        return object_url("customer-pane", obj.code)
    return object_url("reseller-pane", obj.code)


def _node_item(node: Node, level: int) -> TreeItem:
    if node.is_reseller:
        expandable = node.rght - node.lft > 1
    else:
        expandable = getattr(node, "has_clients", True)
    return TreeItem(kind=node.kind, obj=node, expandable=expandable, level=level)


def _children_query(parents: Iterable[Node]) -> QuerySet[Node]:
    query: QuerySet[Node] = Node.objects.filter(parent__in=parents).annotate(
        has_clients=Exists(Client.objects.filter(customer=OuterRef("pk")))
    )
    return query


_CHILD_ORDER = ("-kind", "name", "pk")


def _page_items(
    parent: Node, rows: list[Node] | list[Client], page: int, pinned: Node | Client | None
) -> tuple[list[TreeItem], int | None]:
    """Tree items of one page of `rows` (which hold up to one row more than a page)."""
    level: int = parent.level + 2

    def make(row: Node | Client) -> TreeItem:
        if isinstance(row, Client):
            return TreeItem(kind="client", obj=row, expandable=False, level=level)
        return _node_item(row, level)

    more = page + 1 if len(rows) > TREE_PAGE_SIZE else None
    items = [make(row) for row in rows[:TREE_PAGE_SIZE]]
    if pinned is not None and all(item.obj.pk != pinned.pk for item in items):
        items.append(make(pinned))
    return items, more


def tree_children(
    parent: Node, page: int = 1, *, pinned: Node | Client | None = None
) -> tuple[list[TreeItem], int | None]:
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


# --- The operator's view: every top-level reseller ------------------------------------


@dataclass
class TopLevel:
    """The tree's invisible root for a superuser: its children are the top-level
    resellers, paged like every level of the tree ("Show more")."""

    more_page: int | None = None

    @property
    def children_url(self) -> str:
        return reverse("tree-top")

    @property
    def more_pane_url(self) -> str:
        return f"{reverse('console-home')}?page={table_page_of_tree_page(self.more_page)}"  # type: ignore[arg-type]


def top_resellers() -> QuerySet[Node]:
    """Every top-level reseller, in the tree's order (a superuser's console home)."""
    query: QuerySet[Node] = Node.objects.resellers().filter(parent__isnull=True)
    return query.order_by("name", "pk")


def top_level_items(page: int = 1) -> tuple[list[TreeItem], TopLevel]:
    """One page of the top-level resellers as tree items (one query)."""
    start = (page - 1) * TREE_PAGE_SIZE
    rows = list(top_resellers()[start : start + TREE_PAGE_SIZE + 1])
    more = page + 1 if len(rows) > TREE_PAGE_SIZE else None
    return [_node_item(row, 1) for row in rows[:TREE_PAGE_SIZE]], TopLevel(more_page=more)


def render_operator_console(
    request: HttpRequest, template: str, *, status: int = 200, **context: Any
) -> HttpResponse:
    """A superuser's page above every tree: the tree lists the top-level resellers (the
    first page; "Show more" loads the next), with no breadcrumb above the pane."""
    items, top = top_level_items()
    context.update(
        top_items=items, top=top, tree=None, breadcrumb=[], node=None, site_url=site_url(request)
    )
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def console_path(user: AbstractBaseUser | AnonymousUser, node: Node) -> list[Node]:
    """The nodes from the user's top reseller down to `node` (one query)."""
    # A superuser's path starts at the node's top-level reseller, whatever its own.
    superuser = getattr(user, "is_superuser", False)
    root: Node | None = None if superuser else reseller_of(user)  # type: ignore[no-untyped-call]
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


def _walk(item: TreeItem) -> Iterator[TreeItem]:
    yield item
    for child in item.children or ():
        yield from _walk(child)


def render_console(
    request: HttpRequest,
    template: str,
    *,
    node: Node,
    client: Client | None = None,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
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
