"""Nested-set invariants of the organisation tree, checked from the raw rows."""

from collections import defaultdict

from hierarchy.models import Node


def assert_tree_valid() -> None:
    rows = list(Node.objects.values("pk", "parent_id", "tree_id", "lft", "rght", "level"))
    by_pk = {row["pk"]: row for row in rows}
    children = defaultdict(list)
    seen_lft = set()
    roots_per_tree = defaultdict(int)
    for row in rows:
        key = (row["tree_id"], row["lft"])
        assert key not in seen_lft, f"duplicate (tree_id, lft) {key}"
        seen_lft.add(key)
        if row["parent_id"] is None:
            roots_per_tree[row["tree_id"]] += 1
            assert row["level"] == 0, row
            assert row["lft"] == 1, row
        else:
            children[row["parent_id"]].append(row["pk"])
    assert all(count == 1 for count in roots_per_tree.values()), dict(roots_per_tree)

    def subtree_size(pk):
        return 1 + sum(subtree_size(child) for child in children[pk])

    for row in rows:
        assert row["rght"] - row["lft"] + 1 == 2 * subtree_size(row["pk"]), row
        if row["parent_id"] is not None:
            parent = by_pk[row["parent_id"]]
            assert parent["tree_id"] == row["tree_id"], (parent, row)
            assert parent["lft"] < row["lft"] and row["rght"] < parent["rght"], (parent, row)
            assert row["level"] == parent["level"] + 1, (parent, row)
