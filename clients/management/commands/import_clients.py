"""Create (or with --update, change) client accounts from a CSV file."""

from clients import bulk as client_bulk
from hierarchy.import_command import ImportCommand


class Command(ImportCommand):
    help = (
        "Import clients into the customers of --reseller's subtree from a CSV file with "
        "columns " + ", ".join(client_bulk.CLIENT_COLUMNS) + " (securecloud_id and customer "
        "required). All or nothing."
    )
    what = "clients"

    def do_import(self, top, stream, **options):
        return client_bulk.import_clients(top, stream, say=self.stdout.write, **options)
