"""import_clients: defaults, passwords and hashes, every kind of bad row, duplicates,
customer lookup (unknown, ambiguous, other tenant), all or nothing, dry run, --update."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone

from clients import hashing
from clients.models import AgentRefreshToken, AgentToken, Client
from clients.services import ID_TAKEN, PASSWORD_REQUIRED
from hierarchy import services
from hierarchy.models import Node
from tests.imports.helpers import run_csv

HEADER = (
    "securecloud_id,customer,name,email,password,password_hash,plan,trial_ends_at,status,reseller\n"
)


def test_created_with_defaults(customer_a1, customer_a_east, tmp_path):
    text = (
        "SecureCloud_ID,Customer,Password\n"
        "  New.One@Example.COM ,acme,long-enough-1\n"
        "east-client,EAST WIDGETS,\n"  # auto-authorization on: no password needed
    )
    before = timezone.now()
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert "Created 2, updated 0, unchanged 0." in result.out
    one = Client.objects.get(securecloud_id="new.one@example.com")
    assert one.customer == customer_a1
    assert check_password("long-enough-1", one.password)
    assert (one.plan, one.status) == ("trial", "pending")
    expected = before + timedelta(days=customer_a1.trial_days)
    assert abs((one.trial_ends_at - expected).total_seconds()) < 60
    east = Client.objects.get(securecloud_id="east-client")
    assert east.customer == customer_a_east and east.password == ""


def test_plans_statuses_trial_ends_and_hashes(customer_a1, tmp_path):
    stored = make_password("moved-password")
    text = HEADER + (
        f"paid-one,Acme,Paid,paid@x.example,,{stored},PAID,,Active,\n"
        f"trial-date,Acme,,,,{stored},trial,2027-03-01,disabled,Alpha Backup\n"
        f"trial-time,Acme,,,,{stored},,2027-03-01T10:30:00+02:00,,\n"
    )
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    paid = Client.objects.get(securecloud_id="paid-one")
    assert (paid.plan, paid.trial_ends_at, paid.status, paid.email) == (
        "paid",
        None,
        "active",
        "paid@x.example",
    )
    assert paid.password == stored and check_password("moved-password", paid.password)
    date = Client.objects.get(securecloud_id="trial-date")
    assert date.trial_ends_at == datetime(2027, 3, 1, tzinfo=UTC)
    assert date.status == "disabled"
    assert Client.objects.get(securecloud_id="trial-time").trial_ends_at == datetime(
        2027, 3, 1, 8, 30, tzinfo=UTC
    )


def test_every_bad_row_is_listed_with_its_line(customer_a1, customer_a_east, tmp_path):
    text = HEADER + (
        "ok-client,Acme,,,long-enough-1,,,,,\n"  # 2
        ",Acme,,,long-enough-1,,,,,\n"  # 3
        "bad!id,Acme,,,long-enough-1,,,,,\n"  # 4
        "no-customer,,,,long-enough-1,,,,,\n"  # 5
        "no-password,Acme,,,,,,,,\n"  # 6
        "short-pw,Acme,,,short,,,,,\n"  # 7
        "both,Acme,,,long-enough-1,md5$x$y,,,,\n"  # 8
        "bad-hash,Acme,,,,not-a-hash,,,,\n"  # 9
        "bad-plan,east widgets,,,,,gold,,,\n"  # 10
        "bad-date,east widgets,,,,,,31/12/2026,,\n"  # 11
        "paid-end,east widgets,,,,,paid,2027-01-01,,\n"  # 12
        "bad-status,east widgets,,,,,,,sleeping,\n"  # 13
        "bad-email,east widgets,,nope,,,,,,\n"  # 14
        'bad-name,east widgets,"two\nlines",,,,,,,\n'  # 15-16
        "after,east widgets,,,,,,,,\n"  # 17: fine
    )
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert not result.ok
    assert result.error_lines == [
        "line 3, securecloud_id: Enter a SecureCloud ID.",
        "line 4, securecloud_id: Use an email address, or letters, digits and . _ - @ + only.",
        "line 5, customer: Enter the customer's name.",
        f"line 6, password: {PASSWORD_REQUIRED}",
        "line 7, password: A client password has at least 8 characters.",
        "line 8, password_hash: Give either password or password_hash, not both.",
        "line 9, password_hash: Not a password hash this server knows "
        "(expected Django's algorithm$...$... form).",
        "line 10, plan: Enter trial or paid.",
        "line 11, trial_ends_at: Enter an ISO 8601 date or date-time, such as 2026-05-31 or "
        "2026-05-31T12:00:00+00:00.",
        "line 12, trial_ends_at: A paid client has no trial end.",
        "line 13, status: Enter pending, active, expired or disabled.",
        "line 14, email: Enter a valid email address.",
        "line 15, name: A name cannot contain control characters.",
    ]
    assert not Client.objects.exists()


def test_duplicates_in_the_file_and_against_the_database_in_another_case(
    client_a1, client_b1, tmp_path
):
    text = HEADER + (
        "Dup@X.example,Acme,,,long-enough-1,,,,,\n"  # 2
        "dup@x.EXAMPLE,Acme,,,long-enough-1,,,,,\n"  # 3
        "A1@ACME.example,Acme,,,long-enough-1,,,,,\n"  # 4: Alpha's own client
        "B1@Bolt.Example,Acme,,,long-enough-1,,,,,\n"  # 5: Bravo's client
    )
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.error_lines == [
        "line 3, securecloud_id: dup@x.example is also on line 2.",
        "line 4, securecloud_id: This client already exists (use --update to change it).",
        f"line 5, securecloud_id: {ID_TAKEN}",
    ]
    assert Client.objects.count() == 2


def test_customer_lookup_unknown_other_tenant_and_ambiguous(
    customer_a1, sub_reseller_a, customer_b1, tmp_path
):
    services.create_customer(
        sub_reseller_a,
        name="ACME",
        contact_email="east@acme.example",
        auto_add_clients=True,
        acting_user=None,
        origin="test",
    )
    text = HEADER + (
        "cli-1,Nobody,,,,,,,,\n"
        "cli-2,Bolt,,,,,,,,\n"  # Bravo's customer: invisible to Alpha
        "cli-3,acme,,,,,,,,\n"  # two sub-resellers hold an Acme
        "cli-4,acme,,,,,,,,Nowhere\n"
        "cli-5,Bolt,,,,,,,,Bravo Storage\n"
    )
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.error_lines == [
        "line 2, customer: No customer named Nobody in Alpha Backup's subtree.",
        "line 3, customer: No customer named Bolt in Alpha Backup's subtree.",
        "line 4, customer: 2 customers are named acme (under Alpha Backup, Alpha East): "
        "give the reseller column.",
        "line 5, reseller: No reseller named Nowhere in Alpha Backup's subtree.",
        "line 6, reseller: No reseller named Bravo Storage in Alpha Backup's subtree.",
    ]
    # The reseller column settles it.
    text = HEADER + "cli-3,acme,,,,,,,,alpha east\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert Client.objects.get(securecloud_id="cli-3").customer.parent == sub_reseller_a


def test_a_sub_reseller_sees_only_its_subtree(customer_a1, customer_a_east, tmp_path):
    text = HEADER + "cli-1,Acme,,,long-enough-1,,,,,\ncli-2,East Widgets,,,,,,,,\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha East")
    assert result.error_lines == [
        "line 2, customer: No customer named Acme in Alpha East's subtree."
    ]


def test_a_bad_last_row_writes_nothing(customer_a_east, tmp_path):
    rows = "".join(f"client-{i},East Widgets,,,,,,,,\n" for i in range(50))
    result = run_csv(
        "import_clients",
        tmp_path,
        HEADER + rows + "x,East Widgets,,,,,,,,\n",
        "--reseller",
        "Alpha Backup",
    )
    assert result.error_lines == [
        "line 52, securecloud_id: A SecureCloud ID is 3 to 254 characters long."
    ]
    assert not Client.objects.exists()


def test_dry_run_writes_nothing(client_a1, tmp_path):
    text = HEADER + "new-client,Acme,,,long-enough-1,,,,,\na1@acme.example,Acme,Renamed,,,,,,,\n"
    result = run_csv(
        "import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--dry-run", "--update"
    )
    assert result.ok, result.err
    assert "would have created 1, updated 1, unchanged 0" in result.out
    assert Client.objects.count() == 1
    client_a1.refresh_from_db()
    assert client_a1.name == "Ann's laptop"


def test_update_fields_move_and_password_only_when_given(client_a1, customer_a_east, tmp_path):
    services.create_customer(
        client_a1.customer.parent,
        name="Other",
        contact_email="o@x.example",
        acting_user=None,
        origin="test",
    )
    old_hash = client_a1.password
    Client.objects.filter(pk=client_a1.pk).update(used_bytes=5000)
    Node.objects.filter(pk=client_a1.customer_id).update(used_bytes=5000)
    AgentToken.objects.create(client=client_a1, digest="a" * 64)
    AgentRefreshToken.objects.create(client=client_a1, digest="b" * 64)
    # No password given: the hash stays; a move to a customer with auto-add off needs none.
    text = HEADER + "A1@acme.example,East Widgets,Renamed,new@x.example,,,paid,,,\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err
    assert "Created 0, updated 1, unchanged 0." in result.out
    client_a1.refresh_from_db()
    assert (client_a1.customer, client_a1.name, client_a1.email, client_a1.plan) == (
        customer_a_east,
        "Renamed",
        "new@x.example",
        "paid",
    )
    assert client_a1.trial_ends_at is None and client_a1.password == old_hash
    assert Node.objects.get(pk=customer_a_east.pk).used_bytes == 5000
    assert Node.objects.get(name="Acme").used_bytes == 0
    assert AgentToken.objects.filter(client=client_a1).exists()
    assert AgentRefreshToken.objects.filter(client=client_a1).exists()  # a move keeps them
    # The same row again: unchanged. A new password: updated, agent tokens revoked.
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert "Created 0, updated 0, unchanged 1." in result.out
    text = "securecloud_id,customer,password,plan\na1@acme.example,Other,brand-new-pass,trial\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.ok, result.err
    client_a1.refresh_from_db()
    assert check_password("brand-new-pass", client_a1.password)
    assert client_a1.customer.name == "Other" and client_a1.plan == "trial"
    assert client_a1.trial_ends_at > timezone.now() + timedelta(days=29)
    assert client_a1.name == "Renamed"  # no name column: kept
    assert not AgentToken.objects.filter(client=client_a1).exists()
    assert not AgentRefreshToken.objects.filter(client=client_a1).exists()


def test_update_cannot_touch_another_resellers_client(client_a1, client_b1, tmp_path):
    text = HEADER + "b1@bolt.example,Acme,Stolen,,,,,,,\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.error_lines == [f"line 2, securecloud_id: {ID_TAKEN}"]
    client_b1.refresh_from_db()
    assert client_b1.name == "" and client_b1.customer.name == "Bolt"


def test_update_creates_new_rows_which_still_need_a_password(client_a1, tmp_path):
    text = HEADER + "a1@acme.example,Acme,Kept,,,,,,,\nbrand-new,Acme,,,,,,,,\n"
    result = run_csv("import_clients", tmp_path, text, "--reseller", "Alpha Backup", "--update")
    assert result.error_lines == [f"line 3, password: {PASSWORD_REQUIRED}"]


def test_clear_text_passwords_are_hashed_on_all_cores(customer_a1, tmp_path, monkeypatch):
    # Force the worker processes even for the fast test hasher; they must use it too.
    monkeypatch.setattr(hashing, "POOL_THRESHOLD_SECONDS", -1)
    rows = "".join(f"pool-{i},Acme,,,password-{i:03d},,,,,\n" for i in range(6))
    result = run_csv("import_clients", tmp_path, HEADER + rows, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert "Hashing 6 clear-text passwords" in result.out
    for i in range(6):
        stored = Client.objects.get(securecloud_id=f"pool-{i}").password
        assert stored.startswith("md5$")
        assert check_password(f"password-{i:03d}", stored)
