"""import_customers: defaults, every kind of bad row, duplicates, all or nothing, dry run,
--update, sub-reseller placement, tenancy and the tree's integrity."""

import pytest

from hierarchy import services
from hierarchy.models import GB, Node
from tests.imports.helpers import assert_tree_valid, run_csv

HEADER = (
    "name,contact_name,contact_email,usage_space,auto_add_clients,email_reports,trial_days,"
    "reseller\n"
)


def customer(name, parent=None):
    qs = Node.objects.filter(kind="customer", name=name)
    return qs.get(parent=parent) if parent else qs.get()


def test_created_with_the_console_defaults(reseller_a, tmp_path):
    result = run_csv(
        "import_customers",
        tmp_path,
        "name,contact_email\nDefaulty,d@d.example\n",
        "--reseller",
        "Alpha Backup",
    )
    assert result.ok, result.err
    new = customer("Defaulty")
    assert new.parent == reseller_a
    assert (new.usage_space_bytes, new.auto_add_clients, new.email_reports, new.trial_days) == (
        10 * GB,
        False,
        False,
        30,
    )
    assert new.used_bytes == 0 and new.contact_name == ""
    assert new.registration_key and len(new.registration_key) >= 32
    assert new.code is not None
    assert_tree_valid(reseller_a.tree_id)


def test_all_columns_and_value_formats(reseller_a, tmp_path):
    text = HEADER + (
        "One,Ann,one@x.example,500 mb,Yes,n,14,\n"
        "Two,,two@x.example,UNLIMITED,y,TRUE,60,\n"
        "Three,,three@x.example,2TB,1,0,30,Alpha Backup\n"
        "Four,,four@x.example,,false,no,,\n"
    )
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    one, two, three, four = (customer(n) for n in ("One", "Two", "Three", "Four"))
    assert (
        one.usage_space_bytes,
        one.auto_add_clients,
        one.email_reports,
        one.trial_days,
        one.contact_name,
    ) == (500 * 10**6, True, False, 14, "Ann")
    assert (two.usage_space_bytes, two.auto_add_clients, two.email_reports) == (None, True, True)
    assert (three.usage_space_bytes, three.auto_add_clients, three.parent) == (
        2000 * GB,
        True,
        reseller_a,
    )
    assert (four.usage_space_bytes, four.auto_add_clients, four.trial_days) == (10 * GB, False, 30)
    keys = {c.registration_key for c in (one, two, three, four)}
    assert len(keys) == 4


def test_every_bad_row_is_listed_with_its_line(reseller_a, tmp_path):
    text = HEADER + (
        "Fine,,fine@x.example,,,,,\n"  # 2
        ",,nobody@x.example,,,,,\n"  # 3
        "No Email,,,,,,,\n"  # 4
        "Bad Email,,@@,,,,,\n"  # 5
        "Bad Size,,s@x.example,12 parsecs,,,,\n"  # 6
        "Zero Size,,s@x.example,0GB,,,,\n"  # 7
        "Bad Bool,,b@x.example,,maybe,sometimes,,\n"  # 8
        "Bad Days,,d@x.example,,,,thirty,\n"  # 9
        "No Days,,d@x.example,,,,0,\n"  # 10
        f"{'L' * 201},,l@x.example,,,,,\n"  # 11
        "Lost,,l@x.example,,,,,Nowhere Inc\n"  # 12
    )
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert not result.ok
    assert result.error_lines == [
        "line 3, name: Enter a name.",
        "line 4, contact_email: Enter the customer's contact email.",
        "line 5, contact_email: Enter a valid email address.",
        "line 6, usage_space: Enter a size such as 50GB, 1.5 TB or 500 MB, or 'unlimited'.",
        "line 7, usage_space: Usage space must be more than zero.",
        "line 8, auto_add_clients: Enter yes/no, true/false, 1/0 or y/n.",
        "line 8, email_reports: Enter yes/no, true/false, 1/0 or y/n.",
        "line 9, trial_days: Enter a whole number of days.",
        "line 10, trial_days: Enter a trial length from 1 to 3650 days.",
        "line 11, name: A name has at most 200 characters.",
        "line 12, reseller: No reseller named Nowhere Inc in Alpha Backup's subtree.",
    ]
    assert "11 errors" in result.err
    assert not Node.objects.filter(kind="customer").exists()


def test_duplicates_in_the_file_and_against_the_database_in_another_case(customer_a1, tmp_path):
    text = HEADER + "New,,n@x.example,,,,,\nNEW,,n@x.example,,,,,\nACME,,a@x.example,,,,,\n"
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.error_lines == [
        "line 3, name: NEW under Alpha Backup is also on line 2.",
        "line 4, name: Alpha Backup already has a customer named Acme (use --update to change it).",
    ]
    assert not Node.objects.filter(name__iexact="new").exists()


def test_same_name_under_another_reseller_is_fine(customer_a1, sub_reseller_a, tmp_path):
    text = HEADER + "Acme,,east@x.example,,,,,Alpha East\n"
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert customer("Acme", sub_reseller_a).contact_email == "east@x.example"
    assert_tree_valid(customer_a1.tree_id)


def test_a_bad_last_row_writes_nothing(reseller_a, tmp_path):
    rows = "".join(f"Customer {i},,c{i}@x.example,,,,,\n" for i in range(20))
    text = HEADER + rows + "Broken,,broken,,,,,\n"
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.error_lines == ["line 22, contact_email: Enter a valid email address."]
    assert not Node.objects.filter(kind="customer").exists()
    assert_tree_valid(reseller_a.tree_id)


def test_dry_run_writes_nothing(customer_a1, tmp_path):
    text = HEADER + "Dry,,d@x.example,,,,,\nAcme,,changed@x.example,,,,,\n"
    result = run_csv(
        "import_customers", tmp_path, text, "--reseller", "Alpha Backup", "--dry-run", "--update"
    )
    assert result.ok, result.err
    assert "Dry run, nothing written: would have created 1, updated 1, unchanged 0." in result.out
    assert not Node.objects.filter(name="Dry").exists()
    customer_a1.refresh_from_db()
    assert customer_a1.contact_email == "it@acme.example"


def test_update_changes_given_columns_and_counts(customer_a1, customer_a_east, tmp_path):
    key = customer_a1.registration_key
    text = (
        "name,contact_email,usage_space,reseller\n"
        "acme,new@acme.example,1TB,\n"  # updated (also its name's case)
        "East Widgets,it@eastwidgets.example,10GB,Alpha East\n"  # unchanged
        "Fresh,f@x.example,,Alpha East\n"  # created
    )
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err
    assert "Created 1, updated 1, unchanged 1." in result.out
    customer_a1.refresh_from_db()
    assert (customer_a1.name, customer_a1.contact_email, customer_a1.usage_space_bytes) == (
        "acme",
        "new@acme.example",
        10**12,
    )
    # Columns the file does not have keep their values.
    assert customer_a1.contact_name == "Ann Acme" and customer_a1.email_reports is True
    assert customer_a1.registration_key == key
    assert_tree_valid(customer_a1.tree_id)


def test_sub_reseller_placement_and_tree_integrity(
    customer_a1, customer_a_east, reseller_b, customer_b1, tmp_path
):
    deep = services.create_reseller(
        customer_a_east.parent, name="Alpha East North", acting_user=None, origin="test"
    )
    reseller_a = customer_a1.parent
    services.create_customer(
        reseller_a, name="Zulu", contact_email="z@z.example", acting_user=None, origin="test"
    )
    tree_b = list(Node.objects.filter(tree_id=reseller_b.tree_id).values_list("pk", "lft", "rght"))
    lines = []
    for i in range(12):
        where = ["", "Alpha East", "Alpha East North", "alpha backup"][i % 4]
        lines.append(f"Imported {i},,i{i}@x.example,,,,,{where}\n")
    result = run_csv(
        "import_customers", tmp_path, HEADER + "".join(lines), "--reseller", "Alpha Backup"
    )
    assert result.ok, result.err
    assert_tree_valid(reseller_a.tree_id)
    assert customer("Imported 1").parent == customer_a_east.parent
    assert customer("Imported 2").parent == deep
    assert customer("Imported 3").parent == reseller_a
    # New customers are the last children, in file order.
    children = [n.name for n in Node.objects.get(pk=reseller_a.pk).get_children()]
    assert children == [
        "Acme",
        "Alpha East",
        "Zulu",
        "Imported 0",
        "Imported 3",
        "Imported 4",
        "Imported 7",
        "Imported 8",
        "Imported 11",
    ]
    # Another reseller's tree is untouched.
    assert (
        list(Node.objects.filter(tree_id=reseller_b.tree_id).values_list("pk", "lft", "rght"))
        == tree_b
    )
    # django-mptt keeps working on the tree afterwards.
    services.create_customer(
        deep, name="After", contact_email="a@x.example", acting_user=None, origin="test"
    )
    services.move_customer(customer("Imported 0"), deep, acting_user=None, origin="test")
    assert_tree_valid(reseller_a.tree_id)
    assert Node.objects.get(pk=deep.pk).get_descendant_count() == 5


def test_a_sub_reseller_cannot_reach_its_parent_or_another_tenant(
    customer_a1, sub_reseller_a, reseller_b, tmp_path
):
    text = HEADER + "Up,,u@x.example,,,,,Alpha Backup\nAcross,,a@x.example,,,,,Bravo Storage\n"
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha East")
    assert result.error_lines == [
        "line 2, reseller: No reseller named Alpha Backup in Alpha East's subtree.",
        "line 3, reseller: No reseller named Bravo Storage in Alpha East's subtree.",
    ]


def test_update_under_one_reseller_never_touches_anothers_customer(
    customer_a1, reseller_b, tmp_path
):
    # "Acme" under Bravo is a new customer of Bravo, not Alpha's Acme.
    result = run_csv(
        "import_customers",
        tmp_path,
        HEADER + "Acme,,b@x.example,,,,,\n",
        "--reseller",
        "Bravo Storage",
        "--update",
    )
    assert result.ok, result.err
    assert "Created 1, updated 0" in result.out
    customer_a1.refresh_from_db()
    assert customer_a1.contact_email == "it@acme.example"
    assert customer("Acme", reseller_b).contact_email == "b@x.example"


@pytest.mark.parametrize("count", [60])
def test_many_customers_over_many_parents_keep_the_tree_valid(reseller_a, tmp_path, count):
    subs = [
        services.create_reseller(reseller_a, name=f"Sub {i}", acting_user=None, origin="test")
        for i in range(5)
    ]
    services.create_customer(
        subs[2], name="Existing", contact_email="e@x.example", acting_user=None, origin="test"
    )
    lines = [
        f"C{i},,c{i}@x.example,,,,,{['', *[s.name for s in subs]][i % 6]}\n" for i in range(count)
    ]
    result = run_csv(
        "import_customers", tmp_path, HEADER + "".join(lines), "--reseller", "Alpha Backup"
    )
    assert result.ok, result.err
    assert_tree_valid(reseller_a.tree_id)
    assert Node.objects.filter(kind="customer", tree_id=reseller_a.tree_id).count() == count + 1
