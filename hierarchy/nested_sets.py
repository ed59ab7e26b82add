"""The nested-set arithmetic of the organisation tree, written once.

django-mptt inserts one node at a time, shifting the lft/rght of everything to its
right each time, and its rebuild() rewrites every row; so the bulk writes compute the
values themselves: new leaves become the last children of their parents, and every
existing value to the right of an insertion point moves by twice the number of nodes
inserted before it (one UPDATE for the whole tree); a whole new tree is numbered in one
depth-first pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import IntegrityError, models
from django.db.models import Case, F, Value, When
from django.db.models.expressions import CombinedExpression

from hierarchy.models import Node


def append_leaves(tree_id: int, leaves_by_parent: dict[int, list[Node]]) -> None:
    """Insert new leaf nodes as the last children of their parents, in one tree.

    Must run inside the tree's lock (services.lock_tree). Reads the parents' current
    values, shifts every existing lft/rght to the right of an insertion point by twice
    the number of nodes inserted before it (one UPDATE), then bulk-creates the leaves
    with their computed tree values.
    """
    if not leaves_by_parent:
        return
    parents = {
        pk: (lft, rght, level)
        for pk, lft, rght, level in Node.objects.filter(
            pk__in=list(leaves_by_parent), tree_id=tree_id
        ).values_list("pk", "lft", "rght", "level")
    }
    if len(parents) != len(leaves_by_parent):
        raise IntegrityError("a parent of the new nodes has gone")
    # Insertion points in the order of the parents' rght values.
    points = sorted((parents[pk][1], pk) for pk in leaves_by_parent)
    before = 0  # nodes inserted before the current point
    cumulative = []  # (rght of the point, shift of values >= it)
    new_rows = []
    for rght, pk in points:
        _, _, level = parents[pk]
        start = rght + 2 * before
        for offset, leaf in enumerate(leaves_by_parent[pk]):
            leaf.parent_id = pk
            leaf.tree_id = tree_id
            leaf.level = level + 1
            leaf.lft = start + 2 * offset
            leaf.rght = leaf.lft + 1
            new_rows.append(leaf)
        before += len(leaves_by_parent[pk])
        cumulative.append((rght, 2 * before))

    def shifted(column: str) -> CombinedExpression:
        whens = [
            When(**{f"{column}__gte": rght}, then=Value(shift))
            for rght, shift in reversed(cumulative)
        ]
        return F(column) + Case(*whens, default=Value(0), output_field=models.IntegerField())

    Node.objects.filter(tree_id=tree_id, rght__gte=cumulative[0][0]).update(
        lft=shifted("lft"), rght=shifted("rght")
    )
    Node.objects.bulk_create(new_rows, batch_size=500)


def number_new_tree(root: Node, children_of: Mapping[int, Sequence[Node]], tree_id: int) -> None:
    """Give the unsaved nodes of a new tree their tree_id, level, lft and rght in one
    depth-first pass: `children_of` maps id(node) to its children, in order."""
    counter = 0

    def visit(node: Node, level: int) -> None:
        nonlocal counter
        counter += 1
        node.tree_id, node.level, node.lft = tree_id, level, counter
        for child in children_of.get(id(node), ()):
            visit(child, level + 1)
        counter += 1
        node.rght = counter

    visit(root, 0)
