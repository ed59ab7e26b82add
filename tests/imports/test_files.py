"""What every import shares: reading the file (encoding, delimiter, header, line numbers,
standard input) and the one-line errors for files that cannot be read."""

import io
import sys

from hierarchy.models import GB, TB, Node
from tests.imports.helpers import assert_tree_valid, run, run_csv, write_csv


def customers_of(reseller):
    return {n.name: n for n in Node.objects.filter(parent=reseller, kind="customer")}


def test_bom_semicolons_and_header_in_any_case_and_order(reseller_a, tmp_path):
    text = (
        "\ufeffUSAGE_SPACE;Contact_Email;NAME\n1.5 TB;it@xeno.example;Xeno\n50gb;a@b.example;Yak\n"
    )
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert result.ok, result.err
    customers = customers_of(reseller_a)
    assert customers["Xeno"].usage_space_bytes == int(1.5 * TB)
    assert customers["Xeno"].contact_email == "it@xeno.example"
    assert customers["Yak"].usage_space_bytes == 50 * GB
    assert "Created 2, updated 0, unchanged 0" in result.out


def test_bom_in_a_byte_file_with_commas(reseller_a, tmp_path):
    path = write_csv(tmp_path, "\ufeffname,contact_email\nZed,z@z.example\n".encode())
    result = run("import_customers", path, "--reseller", "alpha backup")
    assert result.ok, result.err
    assert "Zed" in customers_of(reseller_a)


def test_unknown_columns_are_refused_by_name(reseller_a, tmp_path):
    result = run_csv(
        "import_customers",
        tmp_path,
        "name,contact_email,colour,Size\nX,x@x.example,red,1\n",
        "--reseller",
        "Alpha Backup",
    )
    assert not result.ok
    assert "unknown columns 'colour', 'size'" in result.err
    assert not customers_of(reseller_a)


def test_missing_required_column(reseller_a, tmp_path):
    result = run_csv("import_customers", tmp_path, "name\nX\n", "--reseller", "Alpha Backup")
    assert not result.ok
    assert "missing required column contact_email" in result.err


def test_column_given_twice(reseller_a, tmp_path):
    result = run_csv(
        "import_customers",
        tmp_path,
        "name,contact_email,NAME\nX,x@x.example,Y\n",
        "--reseller",
        "Alpha Backup",
    )
    assert not result.ok
    assert "column name given twice" in result.err


def test_wrong_encoding_is_one_line_error(reseller_a, tmp_path):
    path = write_csv(tmp_path, "name,contact_email\nCafé,c@c.example\n".encode("latin-1"))
    result = run("import_customers", path, "--reseller", "Alpha Backup")
    assert not result.ok
    assert "line 2: not UTF-8 text" in result.err  # the line that holds the bad byte
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert not customers_of(reseller_a)


def test_missing_file_and_directory(reseller_a, tmp_path):
    result = run("import_customers", str(tmp_path / "nope.csv"), "--reseller", "Alpha Backup")
    assert not result.ok and "no such file" in result.err
    result = run("import_customers", str(tmp_path), "--reseller", "Alpha Backup")
    assert not result.ok and "is a directory" in result.err


def test_empty_file(reseller_a, tmp_path):
    result = run_csv("import_clients", tmp_path, "", "--reseller", "Alpha Backup")
    assert not result.ok and "empty file" in result.err


def test_unknown_reseller(reseller_a, tmp_path):
    result = run_csv(
        "import_customers", tmp_path, "name,contact_email\nX,x@x.example\n", "--reseller", "Nobody"
    )
    assert not result.ok
    assert result.err.strip() == "No reseller named 'Nobody'."


def test_line_numbers_count_the_header_and_multiline_rows_report_their_start(reseller_a, tmp_path):
    text = (
        "name,contact_name,contact_email\n"  # line 1
        'Good,"Ann\nSecond line",ok@x.example\n'  # lines 2-3 (a name has no line breaks)
        "\n"  # line 4, blank: skipped
        'Bad,"Multi\nline\nname",not-an-email\n'  # lines 5-7
        "Worse,,\n"  # line 8
    )
    result = run_csv("import_customers", tmp_path, text, "--reseller", "Alpha Backup")
    assert not result.ok
    assert result.error_lines == [
        "line 2, contact_name: A name cannot contain control characters.",
        "line 5, contact_email: Enter a valid email address.",
        "line 5, contact_name: A name cannot contain control characters.",
        "line 8, contact_email: Enter the customer's contact email.",
    ]
    assert "4 errors" in result.err and "nothing was written" in result.err
    assert not customers_of(reseller_a)


def test_row_with_more_values_than_columns(reseller_a, tmp_path):
    result = run_csv(
        "import_customers",
        tmp_path,
        "name,contact_email\nX,x@x.example,extra\n",
        "--reseller",
        "Alpha Backup",
    )
    assert result.error_lines == ["line 2: 3 values but the header has 2 columns."]


def test_standard_input_text(reseller_a, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("name;contact_email\nPiped;p@p.example\n"))
    result = run("import_customers", "-", "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert "Piped" in customers_of(reseller_a)


def test_standard_input_bytes_with_bom(reseller_a, monkeypatch):
    raw = io.BytesIO("\ufeffname,contact_email\nBytes Ltd,b@b.example\n".encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw, encoding="latin-1"))
    result = run("import_customers", "-", "--reseller", "Alpha Backup")
    assert result.ok, result.err
    assert "Bytes Ltd" in customers_of(reseller_a)
    assert_tree_valid(reseller_a.tree_id)


def test_standard_input_errors_name_it(reseller_a, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("name,contact_email\nX,bad\n"))
    result = run("import_customers", "-", "--reseller", "Alpha Backup")
    assert not result.ok
    assert "in standard input" in result.err
