"""The role × action table as docs/permissions.md shows it: what the tests hold the code
and every console URL to."""

from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
START, END = "<!-- permissions-table -->", "<!-- /permissions-table -->"
# The table's column headings, as the console shows the roles.
ROLE_LABELS = {
    "Administrator": "administrator",
    "Technician": "technician",
    "Read-only": "read_only",
    "Billing": "billing",
    "Customer user": "customer",
}


def documented_table() -> dict[str, set[str]]:
    """{role value: {action value, ...}} from the doc's table."""
    text = DOC.read_text(encoding="utf-8")
    rows = text.split(START, 1)[1].split(END, 1)[0].strip().splitlines()
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    roles = [ROLE_LABELS[label] for label in header[1:]]
    table: dict[str, set[str]] = {role: set() for role in roles}
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        action = cells[0].strip("`")
        for role, answer in zip(roles, cells[1:], strict=True):
            assert answer in {"yes", "no"}, row
            if answer == "yes":
                table[role].add(action)
    return table
