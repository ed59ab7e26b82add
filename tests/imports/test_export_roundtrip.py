"""export_accounts, import_resellers and the round trip export → empty database → import
→ export."""

import csv
import io

from django.contrib.auth.hashers import check_password

from clients import services as client_services
from clients.models import Client
from hierarchy import services
from hierarchy.csvfiles import FORMULA_STARTS
from hierarchy.models import GB, Node
from tests.imports.helpers import assert_tree_valid, run, run_csv, wipe_accounts


def build_alpha(customer_a1, client_a1, customer_a_east):
    """A richer Alpha: nested sub-resellers, same customer names, paid/disabled clients."""
    east = customer_a_east.parent
    north = services.create_reseller(east, name="Alpha East North", acting_user=None, origin="test")
    services.create_reseller(customer_a1.parent, name="Alpha West", acting_user=None, origin="test")
    deep = services.create_customer(
        north,
        name="Acme",
        contact_email="n@acme.example",
        usage_space_bytes=None,
        trial_days=14,
        acting_user=None,
        origin="test",
    )
    services.create_customer(
        customer_a1.parent,
        name='Beta, "Quoted"; Ltd',
        contact_email="b@x.example",
        usage_space_bytes=1500 * GB,
        acting_user=None,
        origin="test",
    )
    paid = client_services.create_client(
        deep,
        securecloud_id="paid@acme.example",
        name="Paid; one",
        password="deep-pass-1",
        acting_user=None,
        origin="test",
    )
    client_services.switch_to_paid(paid, acting_user=None, origin="test")
    off = client_services.create_client(
        customer_a_east, securecloud_id="off.client", acting_user=None, origin="test"
    )
    client_services.disable_client(off, acting_user=None, origin="test")


def import_into_an_empty_console(folder, monkeypatch) -> None:
    """Wipe every account, make Alpha Backup's first admin, import the three files."""
    wipe_accounts()
    assert not Node.objects.exists() and not Client.objects.exists()
    monkeypatch.setenv("RESELLER_ADMIN_PASSWORD", "Harbour-Lights-5521")
    assert run(
        "create_reseller_admin", "--reseller", "Alpha Backup", "--username", "newadmin", "--noinput"
    ).ok
    for command, name in (
        ("import_resellers", "resellers.csv"),
        ("import_customers", "customers.csv"),
        ("import_clients", "clients.csv"),
    ):
        result = run(command, str(folder / name), "--reseller", "Alpha Backup")
        assert result.ok, result.err


def read(folder):
    return {
        name: (folder / name).read_text()
        for name in ("resellers.csv", "customers.csv", "clients.csv")
    }


def test_export_columns_order_and_messages(
    customer_a1, client_a1, customer_a_east, client_b1, tmp_path
):
    build_alpha(customer_a1, client_a1, customer_a_east)
    result = run("export_accounts", "--reseller", "Alpha Backup", "--out", str(tmp_path / "x"))
    assert result.ok, result.err
    assert "Registration keys are not exported" in result.out
    assert "passwords were left out" in result.out
    files = read(tmp_path / "x")
    assert files["resellers.csv"] == (
        "name,parent\nAlpha East,\nAlpha East North,Alpha East\nAlpha West,\n"
    )
    customers = files["customers.csv"].splitlines()
    assert customers[0] == (
        "name,contact_name,contact_email,usage_space,auto_add_clients,"
        "email_reports,trial_days,reseller"
    )
    assert customers[1:] == [
        "Acme,Ann Acme,it@acme.example,50GB,no,yes,30,Alpha Backup",
        '"Beta, ""Quoted""; Ltd",,b@x.example,1500GB,no,no,30,Alpha Backup',
        "East Widgets,,it@eastwidgets.example,10GB,yes,no,30,Alpha East",
        "Acme,,n@acme.example,unlimited,no,no,14,Alpha East North",
    ]
    clients = files["clients.csv"].splitlines()
    assert clients[0] == (
        "securecloud_id,customer,name,email,password,password_hash,plan,"
        "trial_ends_at,status,reseller"
    )
    assert [line.split(",")[0] for line in clients[1:]] == [
        "a1@acme.example",
        "off.client",
        "paid@acme.example",
    ]
    # No password of any form without the flag; nothing of Bravo's.
    assert "md5$" not in files["clients.csv"]
    assert "Bolt" not in "".join(files.values()) and "b1@bolt" not in files["clients.csv"]
    # Exporting twice gives the same files.
    run("export_accounts", "--reseller", "Alpha Backup", "--out", str(tmp_path / "y"))
    assert read(tmp_path / "y") == files


def test_export_errors(reseller_a, tmp_path):
    result = run("export_accounts", "--reseller", "Nobody", "--out", str(tmp_path))
    assert not result.ok and "No reseller named 'Nobody'" in result.err
    (tmp_path / "file").write_text("x")
    result = run("export_accounts", "--reseller", "Alpha Backup", "--out", str(tmp_path / "file"))
    assert not result.ok and "not a directory" in result.err


def test_round_trip_with_password_hashes(
    customer_a1, client_a1, customer_a_east, tmp_path, monkeypatch
):
    build_alpha(customer_a1, client_a1, customer_a_east)
    first = tmp_path / "first"
    result = run(
        "export_accounts",
        "--reseller",
        "Alpha Backup",
        "--out",
        str(first),
        "--include-password-hashes",
    )
    assert result.ok, result.err
    assert "passwords were left out" not in result.out
    old_keys = set(
        Node.objects.exclude(registration_key=None).values_list("registration_key", flat=True)
    )

    import_into_an_empty_console(first, monkeypatch)

    second = tmp_path / "second"
    assert run(
        "export_accounts",
        "--reseller",
        "Alpha Backup",
        "--out",
        str(second),
        "--include-password-hashes",
    ).ok
    assert read(second) == read(first)
    top = Node.objects.get(name="Alpha Backup")
    assert_tree_valid(top.tree_id)
    # The moved hashes still verify the old passwords.
    assert check_password(
        "client-pass-1", Client.objects.get(securecloud_id="a1@acme.example").password
    )
    assert check_password(
        "deep-pass-1", Client.objects.get(securecloud_id="paid@acme.example").password
    )
    # Registration keys are new.
    new_keys = set(
        Node.objects.exclude(registration_key=None).values_list("registration_key", flat=True)
    )
    assert len(new_keys) == 4 and not new_keys & old_keys
    # Importing the same files again with --update changes nothing.
    for command, name in (("import_customers", "customers.csv"), ("import_clients", "clients.csv")):
        result = run(command, str(first / name), "--reseller", "Alpha Backup", "--update")
        assert "updated 0" in result.out, result.err


def test_import_resellers_nesting_errors_and_update(sub_reseller_a, reseller_b, tmp_path):
    text = "Name,Parent\nWest,\nWest North,west\nEast Kids,Alpha East\n"
    result = run_csv("import_resellers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert "Created 3" in result.out
    assert Node.objects.get(name="West North").parent.name == "West"
    assert Node.objects.get(name="East Kids").parent == sub_reseller_a
    assert_tree_valid(sub_reseller_a.tree_id)
    bad = (
        "name,parent\n"
        "Bravo Storage,\n"  # 2: another tenant's name is fine: unique per tree
        "Orphan,Nobody\n"  # 3
        "Twice,\n"  # 4
        "TWICE,\n"  # 5
        "West,\n"  # 6: exists, no --update
        ",\n"  # 7: blank row is skipped
        "Self,Self\n"  # 8
        "Late Child,Late Parent\n"  # 9: parent defined after
        "Late Parent,\n"  # 10
    )
    result = run_csv("import_resellers", tmp_path, bad, "--reseller", "Alpha Backup")
    assert result.error_lines == [
        "line 3, parent: No reseller named Nobody in Alpha Backup's subtree (nor earlier in "
        "this file).",
        "line 5, name: TWICE is also on line 4.",
        "line 6, name: West already exists (use --update to move it).",
        "line 8, parent: A reseller cannot be its own parent.",
        "line 9, parent: No reseller named Late Parent in Alpha Backup's subtree (nor earlier "
        "in this file).",
    ]
    assert not Node.objects.filter(name__in=["Orphan", "Twice", "Late Parent"]).exists()
    # --update moves a sub-reseller; its subtree goes with it.
    result = run_csv(
        "import_resellers",
        tmp_path,
        "name,parent\nWest,Alpha East\nEast Kids,Alpha East\n",
        "--reseller",
        "Alpha Backup",
        "--update",
    )
    assert result.ok, result.err
    assert "Created 0, updated 1, unchanged 1." in result.out
    assert Node.objects.get(name="West").parent == sub_reseller_a
    assert_tree_valid(sub_reseller_a.tree_id)
    # A sub-reseller's admin cannot reach above it.
    result = run_csv(
        "import_resellers", tmp_path, "name,parent\nUp,Alpha Backup\n", "--reseller", "Alpha East"
    )
    assert result.error_lines == [
        "line 2, parent: No reseller named Alpha Backup in Alpha East's subtree (nor earlier "
        "in this file)."
    ]


def test_export_guards_cells_a_spreadsheet_would_run_and_the_round_trip_stays(
    reseller_a, tmp_path, monkeypatch
):
    # A spreadsheet runs "=…", "+…", "-…" and "@…" as formulas: the export puts an
    # apostrophe in front (shown as text there), the imports take it off again.
    services.create_reseller(reseller_a, name="-Minus Resellers", acting_user=None, origin="test")
    customer = services.create_customer(
        reseller_a,
        name='=HYPERLINK("https://evil.example","Click")',
        contact_name="+1 555 0100",
        contact_email="it@formula.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )
    client_services.create_client(
        customer, securecloud_id="calc.box", name="@SUM(A1:A9)", acting_user=None, origin="test"
    )
    client_services.create_client(
        customer, securecloud_id="quote.box", name="'t Hooft", acting_user=None, origin="test"
    )
    client_services.create_client(
        customer,
        securecloud_id="guard.box",
        name="'=already quoted",
        acting_user=None,
        origin="test",
    )

    first = tmp_path / "first"
    assert run("export_accounts", "--reseller", "Alpha Backup", "--out", str(first)).ok
    files = read(first)
    assert "'-Minus Resellers," in files["resellers.csv"]
    assert (
        """"'=HYPERLINK(""https://evil.example"",""Click"")",'+1 555 0100,"""
        in (files["customers.csv"])
    )
    clients = {
        row["securecloud_id"]: row for row in csv.DictReader(io.StringIO(files["clients.csv"]))
    }
    assert clients["calc.box"]["customer"] == """'=HYPERLINK("https://evil.example","Click")"""
    assert clients["calc.box"]["name"] == "'@SUM(A1:A9)"
    assert clients["quote.box"]["name"] == "'t Hooft"  # before anything else: just text
    assert clients["guard.box"]["name"] == "''=already quoted"
    for text in files.values():
        for line in text.splitlines()[1:]:
            for cell in next(csv.reader([line])):
                assert not cell.startswith(FORMULA_STARTS), line

    import_into_an_empty_console(first, monkeypatch)
    assert Node.objects.filter(name='=HYPERLINK("https://evil.example","Click")').exists()
    assert Client.objects.get(securecloud_id="calc.box").name == "@SUM(A1:A9)"
    assert Client.objects.get(securecloud_id="quote.box").name == "'t Hooft"
    assert Client.objects.get(securecloud_id="guard.box").name == "'=already quoted"
    second = tmp_path / "second"
    assert run("export_accounts", "--reseller", "Alpha Backup", "--out", str(second)).ok
    assert read(second) == files


def test_a_hand_written_apostrophe_before_a_formula_sign_is_the_spreadsheet_guard(
    customer_a1, tmp_path
):
    text = "securecloud_id,customer,name,password\nguarded.box,Acme,'+44 20 7946 0000,'=Pass-1234\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    imported = Client.objects.get(securecloud_id="guarded.box")
    assert imported.name == "+44 20 7946 0000"
    # Passwords are never exported, so never guarded: taken exactly as written.
    assert check_password("'=Pass-1234", imported.password)


def test_a_sub_resellers_name_is_unique_within_its_tree_only(sub_reseller_a, reseller_b, tmp_path):
    text = "name,parent\nalpha east,\nBravo Storage,\n"
    result = run_csv("import_resellers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.error_lines == [
        "line 2, name: alpha east already exists (use --update to move it)."
    ]
    result = run_csv(
        "import_resellers", tmp_path, "name,parent\nBravo Storage,\n", "--reseller", "Alpha Backup"
    )
    assert result.ok, result.err
    # Two resellers named Bravo Storage now: --reseller means the top-level one.
    result = run("export_accounts", "--reseller", "bravo storage", "--out", str(tmp_path / "b"))
    assert "of Bravo Storage" in result.out
    assert (tmp_path / "b" / "resellers.csv").read_text() == "name,parent\n"


def test_a_sub_reseller_name_in_several_trees_must_be_told_apart(reseller_a, reseller_b, tmp_path):
    services.create_reseller(reseller_a, name="North", acting_user=None, origin="test")
    services.create_reseller(reseller_b, name="North", acting_user=None, origin="test")
    result = run("export_accounts", "--reseller", "north", "--out", str(tmp_path))
    assert not result.ok
    assert "Several sub-resellers are named 'north'" in result.err
    assert not any(tmp_path.iterdir())
