"""Create (or with --update, change) customers from a CSV file."""

from hierarchy import bulk
from hierarchy.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import customers into --reseller's subtree from a CSV file with columns "
        + ", ".join(bulk.CUSTOMER_COLUMNS)
        + " (name and contact_email required; reseller places a customer under a "
        "sub-reseller). All or nothing."
    )
    what = "customers"

    def do_import(self, top, stream, **options):
        return bulk.import_customers(top, stream, **options)
