"""Master data from the ERP: customers, products and sales teams from CSV or Excel, with a dry run,
row-level errors and an update-or-create key; the same file imported again changes nothing."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from requests_app.models import Customer, Product, SalesTeam
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def write_csv(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def run(kind: str, path: Path, *, dry_run: bool = False) -> str:
    out = io.StringIO()
    call_command("import_master_data", kind, str(path), *(["--dry-run"] if dry_run else []), stdout=out, stderr=out)
    return out.getvalue()


def failing(kind: str, path: Path, *, dry_run: bool = False) -> tuple[str, str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_master_data", kind, str(path), *(["--dry-run"] if dry_run else []), stderr=err)
    return str(refused.value), err.getvalue()


def snapshot(model) -> list[tuple]:
    return sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]))


CUSTOMERS = "code,name\nC-1001,Acme Industrial\nC-1002,Baltic Marine Systems\nC-1003,Contoso Automotive\n"


def test_customers_are_created_from_a_csv_with_a_bom(tmp_path):
    out = run("customers", write_csv(tmp_path / "customers.csv", CUSTOMERS, bom=True))

    assert out.strip() == "customers: 3 new, 0 updated, 0 unchanged, 0 with errors."
    assert sorted(Customer.objects.values_list("code", "name")) == [
        ("C-1001", "Acme Industrial"), ("C-1002", "Baltic Marine Systems"), ("C-1003", "Contoso Automotive"),
    ]


def test_importing_the_same_file_again_changes_nothing(tmp_path):
    path = write_csv(tmp_path / "customers.csv", CUSTOMERS)
    run("customers", path)
    before = snapshot(Customer)

    out = run("customers", path)

    assert out.strip() == "customers: 0 new, 0 updated, 3 unchanged, 0 with errors."
    assert snapshot(Customer) == before


def test_a_dry_run_shows_what_would_change_and_saves_nothing(tmp_path):
    out = run("customers", write_csv(tmp_path / "customers.csv", CUSTOMERS), dry_run=True)

    assert out.strip() == "customers: 3 new, 0 updated, 0 unchanged, 0 with errors (dry run: nothing saved)."
    assert not Customer.objects.exists()


def test_the_erp_code_is_the_key_a_renamed_customer_is_updated_not_duplicated(tmp_path):
    run("customers", write_csv(tmp_path / "a.csv", CUSTOMERS))
    out = run("customers", write_csv(tmp_path / "b.csv", "code,name\nC-1001,Acme Industrial GmbH\n"))

    assert out.strip() == "customers: 0 new, 1 updated, 0 unchanged, 0 with errors."
    assert Customer.objects.get(code="C-1001").name == "Acme Industrial GmbH"
    assert Customer.objects.count() == 3


def test_a_customer_a_rep_typed_in_is_adopted_by_its_name(tmp_path):
    typed = Customer.objects.create(name="acme industrial")  # filed by a rep, no ERP code yet

    run("customers", write_csv(tmp_path / "customers.csv", CUSTOMERS))

    typed.refresh_from_db()
    assert (typed.code, typed.name) == ("C-1001", "Acme Industrial")
    assert Customer.objects.count() == 3


def test_bad_rows_are_each_named_with_their_reason_and_nothing_is_saved(tmp_path):
    Customer.objects.create(name="Danube Rail", code="C-0900")
    text = "code,name\nC-1001,Acme Industrial\n,No Code Ltd\nC-1004,Danube Rail\nC-1005,\n"

    message, detail = failing("customers", write_csv(tmp_path / "customers.csv", text))

    assert "customers: 1 new, 0 updated, 0 unchanged, 3 with errors. Nothing was saved" in message
    assert "Row 3: code: This column is empty; every row needs it." in detail
    assert "Row 4: name: Customer with this Name already exists." in detail
    assert "Row 5: name: This column is empty; every row needs it." in detail
    assert list(Customer.objects.values_list("code", flat=True)) == ["C-0900"]


def test_products_are_imported_from_excel_and_again_change_nothing(tmp_path):
    path = write_xlsx(tmp_path / "parts.xlsx", [
        ["sku", "name", "unit"], ["BRK-100", "Mounting bracket 100", "pcs"], ["CBL-H07", "Cable H07RN-F 3G2.5", "m"],
        ["GSK-40", "EPDM gasket 40", None],
    ])
    assert run("products", path).strip() == "products: 3 new, 0 updated, 0 unchanged, 0 with errors."
    assert sorted(Product.objects.values_list("sku", "unit")) == [("BRK-100", "pcs"), ("CBL-H07", "m"), ("GSK-40", "pcs")]
    before = snapshot(Product)

    assert run("products", path).strip() == "products: 0 new, 0 updated, 3 unchanged, 0 with errors."
    assert snapshot(Product) == before


def test_sales_teams_set_their_members_by_user_name(tmp_path, rep, teammate):
    make_user("sam")
    path = write_csv(tmp_path / "teams.csv", "name,members\nTeam North,rita;tom\nTeam West,sam\n")
    run("teams", path)

    assert sorted(SalesTeam.objects.get(name="Team North").members.values_list("username", flat=True)) == ["rita", "tom"]
    assert run("teams", path).strip() == "teams: 0 new, 0 updated, 2 unchanged, 0 with errors."

    run("teams", write_csv(tmp_path / "moved.csv", "name,members\nTeam North,rita\n"))
    assert list(SalesTeam.objects.get(name="Team North").members.values_list("username", flat=True)) == ["rita"]


def test_an_unknown_member_is_an_error_not_silently_dropped(tmp_path, rep):
    message, detail = failing("teams", write_csv(tmp_path / "teams.csv", "name,members\nTeam East,rita;ghost\n"))
    assert "Row 2: No S2O user is called 'ghost'." in detail
    assert not SalesTeam.objects.filter(name="Team East").exists()


def test_a_file_that_is_neither_csv_nor_excel_is_refused_with_a_message(tmp_path):
    message, _ = failing("customers", write_csv(tmp_path / "customers.json", "[]"))
    assert message == "customers.json: use a .csv or .xlsx file."
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    message, _ = failing("customers", tmp_path / "broken.xlsx")
    assert message.startswith("broken.xlsx could not be read as XLSX")


# --------------------------------------------------------------------------------------------------
# In the admin: upload, preview (a dry run), confirm


def test_admins_preview_an_import_and_confirm_it(admin_client, tmp_path):
    upload = io.BytesIO(CUSTOMERS.encode())
    upload.name = "customers.csv"
    preview = admin_client.post("/admin/requests_app/customer/import/",
                                {"format": "0", "resource": "0", "import_file": upload})

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Contoso Automotive" in page and "New" in page
    assert not Customer.objects.exists()  # the preview is a dry run

    confirm = {name: value for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
    done = admin_client.post("/admin/requests_app/customer/process_import/", confirm)

    assert done.status_code == 302
    assert Customer.objects.count() == 3


def test_the_admin_preview_shows_row_errors_and_offers_no_confirmation(admin_client):
    upload = io.BytesIO(b"code,name\nC-1,Acme\n,No Code\n")
    upload.name = "customers.csv"
    page = admin_client.post("/admin/requests_app/customer/import/",
                             {"format": "0", "resource": "0", "import_file": upload}).content.decode()

    assert "This column is empty; every row needs it." in page
    assert "process_import" not in page
    assert not Customer.objects.exists()
