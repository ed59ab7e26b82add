"""Create sub-resellers from a CSV file: columns name, parent."""

from hierarchy import bulk
from hierarchy.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Create sub-resellers inside --reseller's subtree from a CSV file with columns "
        "name, parent (empty parent = directly under --reseller; a parent may be defined "
        "earlier in the file). All or nothing."
    )
    what = "sub-resellers"

    def do_import(self, top, stream, **options):
        return bulk.import_resellers(top, stream, **options)
