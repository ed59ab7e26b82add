"""Helpers of the import tests: run a command on a CSV text, check the tree's numbers."""

import io
from dataclasses import dataclass
from pathlib import Path

from django.core.management import CommandError, call_command

from hierarchy.models import Node


@dataclass
class Result:
    ok: bool
    out: str
    err: str  # stderr, plus the CommandError's message when it failed

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("line ")]


def write_csv(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def run(command: str, *args, **options) -> Result:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        return Result(False, out.getvalue(), err.getvalue() + str(exc))
    return Result(True, out.getvalue(), err.getvalue())


def run_csv(command: str, tmp_path: Path, text: str | bytes, *args, **options) -> Result:
    return run(command, write_csv(tmp_path, text), *args, **options)


def assert_tree_valid(tree_id: int) -> None:
    """The nested-set invariants of one tree, checked from one query."""
    nodes = {
        pk: dict(parent=parent, lft=lft, rght=rght, level=level)
        for pk, parent, lft, rght, level in Node.objects.filter(tree_id=tree_id).values_list(
            "pk", "parent_id", "lft", "rght", "level"
        )
    }
    assert nodes, "empty tree"
    values = sorted(v for n in nodes.values() for v in (n["lft"], n["rght"]))
    # Every number from 1 to 2n used exactly once.
    assert values == list(range(1, 2 * len(nodes) + 1))
    roots = [pk for pk, n in nodes.items() if n["parent"] is None]
    assert len(roots) == 1
    assert nodes[roots[0]]["lft"] == 1 and nodes[roots[0]]["level"] == 0
    size = dict.fromkeys(nodes, 1)
    for pk, n in sorted(nodes.items(), key=lambda item: -item[1]["level"]):
        if n["parent"] is not None:
            size[n["parent"]] += size[pk]
    for pk, n in nodes.items():
        assert n["lft"] < n["rght"]
        assert n["rght"] - n["lft"] + 1 == 2 * size[pk], f"node {pk}: wrong span"
        if n["parent"] is not None:
            parent = nodes[n["parent"]]
            assert parent["lft"] < n["lft"] and n["rght"] < parent["rght"], f"node {pk} outside"
            assert n["level"] == parent["level"] + 1, f"node {pk}: wrong level"


def wipe_accounts() -> None:
    """Delete every client and node (leaves first: parents are protected)."""
    from clients.models import Client

    Client.objects.all().delete()
    for level in sorted(set(Node.objects.values_list("level", flat=True)), reverse=True):
        Node.objects.filter(level=level).delete()
