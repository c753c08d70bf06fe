"""Full-text search over requests: the words people remember, what each reader may read, on
PostgreSQL (maintained tsvector documents, trigram for customers) and on SQLite (icontains)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from analysis.models import Assessment
from requests_app import search, services, views
from requests_app.models import Customer, Department, Product
from tests.analysis.ops_helpers import MONDAY_0900, acknowledge, assess
from tests.requests_app.sales_factories import file_request
from tests.s2o.test_settings import clean_env

LIST = reverse("requests_app:list")
TRIAGE = reverse("analysis:triage")
ROOT = Path(__file__).resolve().parents[2]


def refs(response) -> list[str]:
    return sorted(req.reference for req, _due in response.context["rows"])


@pytest.fixture
def requests_to_find(rep, customer, product):
    other_customer = Customer.objects.create(name="Globex Corporation")
    valve = Product.objects.create(sku="VLV-2210-B", name="Ball valve DN50", unit="pcs")
    brackets = file_request(rep, customer, product, title="Stainless brackets for the new line",
                            description="Passivated finish, shipped on pallets.")
    valves = file_request(rep, other_customer, valve, title="Valves for a refinery",
                          description="Needs an ATEX certificate.")
    return brackets, valves


def test_words_anywhere_in_the_request_find_it_by_stem_and_the_last_word_by_prefix(client, rep, requests_to_find):
    brackets, valves = requests_to_find
    client.force_login(rep)
    for q in ("stainless", "stainl", "stainless brack", "bracket stainless", "passivated pall", "acme", "BRK-100",
              "brk 100", "brk 10"):
        assert refs(client.get(LIST, {"q": q})) == [brackets.reference], q
    for q in ("valve", "2210", "VLV-2210-B", "atex certificate", "globex", valves.reference):
        assert refs(client.get(LIST, {"q": q})) == [valves.reference], q
    assert refs(client.get(LIST, {"q": "stainless atex"})) == []  # every word must match
    # A word followed by another is finished: it is matched whole (stemmed), not as a prefix.
    assert refs(client.get(LIST, {"q": "stainl brack"})) == []


def test_the_reference_is_found_whole_or_by_its_number(client, rep, requests_to_find):
    brackets, _ = requests_to_find
    client.force_login(rep)
    number = brackets.reference.rsplit("-", 1)[1]
    assert refs(client.get(LIST, {"q": brackets.reference})) == [brackets.reference]
    assert refs(client.get(LIST, {"q": number})) == [brackets.reference]


def test_comments_are_searched_as_soon_as_they_are_written(client, rep, requests_to_find):
    brackets, _ = requests_to_find
    client.force_login(rep)
    assert refs(client.get(LIST, {"q": "electropolished"})) == []
    services.comment_add(req=brackets, actor=rep, body="The customer now wants them electropolished.")
    assert refs(client.get(LIST, {"q": "electropolished"})) == [brackets.reference]


def test_an_edit_is_searched_with_its_new_words(client, rep, requests_to_find):
    brackets, _ = requests_to_find
    client.force_login(rep)
    data = {"title": "Titanium brackets for the new line", "customer": brackets.customer}
    services.request_update(req=brackets, actor=rep, data=data, expected_version=brackets.version)
    assert refs(client.get(LIST, {"q": "titanium"})) == [brackets.reference]
    assert refs(client.get(LIST, {"q": "stainless"})) == []


@pytest.mark.usefixtures("postgres_only")
def test_a_misspelt_customer_still_finds_its_requests(client, rep, requests_to_find):
    _, valves = requests_to_find
    client.force_login(rep)
    assert refs(client.get(LIST, {"q": "globex corporatoin"})) == [valves.reference]


@pytest.mark.usefixtures("postgres_only")
def test_a_customers_name_finds_its_requests_not_those_of_customers_with_close_names(client, rep, product):
    initech = file_request(rep, Customer.objects.create(name="Initech Industries"), product, title="Hinges")
    initrode = file_request(rep, Customer.objects.create(name="Initrode Industries"), product, title="Gaskets")
    client.force_login(rep)
    for q in ("Initech Industries", "initehc industries"):  # trigram similarity 1.0 and 0.7 against 0.59
        assert refs(client.get(LIST, {"q": q})) == [initech.reference], q
    assert refs(client.get(LIST, {"q": "Initrode Industries"})) == [initrode.reference]


def test_search_never_reaches_past_what_the_reader_sees(client, rep, other_rep, customer, product):
    file_request(other_rep, customer, product, title="Secret titanium project")
    client.force_login(rep)
    assert refs(client.get(LIST, {"q": "titanium"})) == []


@pytest.fixture
def assessed_with_notes(rep, ops_lead, ops_member, customer, product):
    with_notes = file_request(rep, customer, product, title="Hinges in brass", now=MONDAY_0900)
    acknowledge(with_notes, ops_lead, now=MONDAY_0900)
    assess(with_notes, "procurement", ops_member, now=MONDAY_0900, notes="Only Zollern can cast this alloy; margin thin.")
    return with_notes


def test_department_notes_are_searched_for_operations_and_managers_only(client, rep, ops_member, manager,
                                                                        assessed_with_notes):
    for reader in (ops_member, manager):
        client.force_login(reader)
        assert refs(client.get(LIST, {"q": "zollern"})) == [assessed_with_notes.reference], reader
    client.force_login(rep)
    assert refs(client.get(LIST, {"q": "zollern"})) == []  # Sales never reads department notes


def test_the_triage_searches_too(client, ops_lead, rep, requests_to_find):
    brackets, valves = requests_to_find
    client.force_login(ops_lead)
    page = client.get(TRIAGE, {"q": "refinery valves"})
    shown = [row.request.reference for row in page.context["queue"].unacknowledged.object_list]
    assert shown == [valves.reference]
    assert 'value="refinery valves"' in page.content.decode()  # the input is kept
    assert len(client.get(TRIAGE).context["queue"].unacknowledged.object_list) == 2


def test_triage_finds_notes_of_requests_in_analysis(client, ops_lead, assessed_with_notes):
    client.force_login(ops_lead)
    page = client.get(TRIAGE, {"q": "zollern alloy"})
    assert [row.request.reference for row in page.context["queue"].in_analysis.object_list] == [
        assessed_with_notes.reference]


def test_the_department_queue_searches_the_same_way(client, ops_member, assessed_with_notes):
    client.force_login(ops_member)
    page = client.get(reverse("analysis:department_queue"), {"q": "zollern"})
    assert assessed_with_notes.reference in page.content.decode()
    page = client.get(reverse("analysis:department_queue"), {"q": "titanium"})
    assert assessed_with_notes.reference not in page.content.decode()


def test_the_search_index_follows_the_departments_notes(client, ops_lead, ops_member, assessed_with_notes):
    assessment = Assessment.objects.get(request=assessed_with_notes, department=Department.objects.get(code="procurement"))
    assess(assessed_with_notes, "procurement", ops_member, now=MONDAY_0900, notes="Any foundry will do.")
    assert assessment.pk
    client.force_login(ops_lead)
    assert refs(client.get(LIST, {"q": "zollern"})) == []
    assert refs(client.get(LIST, {"q": "foundry"})) == [assessed_with_notes.reference]


SQLITE_SEARCH = textwrap.dedent("""
    import json, uuid, django
    from decimal import Decimal
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group, User
    from requests_app import search, services
    from requests_app.models import Customer, FeasibilityRequest, Role
    rep = User.objects.create_user("rita")
    rep.groups.add(Group.objects.get_or_create(name=Role.SALES_REP.value)[0])
    acme = Customer.objects.create(name="Acme Industrial")
    data = dict(title="Stainless brackets", customer=acme, part_description="Bracket, drawing 7", quantity=Decimal(5),
                unit="pcs", requested_date="2030-01-01", description="Passivated finish.")
    req = services.request_file(actor=rep, data=data, token=uuid.uuid4(), submit=True).request
    services.comment_add(req=req, actor=rep, body="Now electropolished.")
    def found(q):
        return list(search.search_requests(FeasibilityRequest.objects.all(), q, user=rep).values_list("reference", flat=True))
    print(json.dumps({"vendor": connection.vendor, "reference": req.reference,
                      "hits": {q: found(q) for q in ("stainless", "acme brackets", "passivated", "electropolished",
                                                     req.reference, "titanium")}}))
""")


def test_on_sqlite_the_migrations_pass_and_the_search_falls_back_to_contains(tmp_path):
    env = clean_env(tmp_path)
    result = subprocess.run([sys.executable, "-c", SQLITE_SEARCH], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["vendor"] == "sqlite"
    ref = out["reference"]
    assert out["hits"] == {"stainless": [ref], "acme brackets": [ref], "passivated": [ref], "electropolished": [ref],
                           ref: [ref], "titanium": []}


@pytest.fixture
def hinges_and_gaskets(rep, customer):
    """Filed oldest first: H1 G1 H2 G2 H3 G3 H4 G4 H5 H6, so the list, newest first, reads
    H6 H5 G4 H4 G3 H3 G2 H2 G1 H1."""
    filed = {}
    for i, name in enumerate(["H1", "G1", "H2", "G2", "H3", "G3", "H4", "G4", "H5", "H6"]):
        word = "hinges" if name[0] == "H" else "gaskets"
        filed[name] = file_request(rep, customer, None, part_description="Plain part", title=f"Titanium {word} {name}",
                                   now=MONDAY_0900 + timedelta(minutes=i))
    return filed


def search_page(client, q: str, page: int) -> tuple[list[str], str]:
    response = client.get(LIST, {"q": q, "page": page})
    return [req.title.rsplit(" ", 1)[1] for req, _due in response.context["rows"]], response.context["page"].count_label


@pytest.mark.usefixtures("postgres_only")
@pytest.mark.parametrize(("recent_rows", "labels"), [
    (1000, ["6", "6", "6"]),  # the list's newest rows are all of it: read there, counted exactly
    (4, ["3+", "6", "6"]),  # H6 H5 G4 H4: page 1 is there (at least 3 match), page 2 is not: the index
    (1, ["6", "6", "6"]),  # H6 alone cannot fill a page: the index from the start
])
def test_a_search_reads_the_same_pages_from_the_newest_rows_as_from_the_index(
    client, rep, hinges_and_gaskets, monkeypatch, recent_rows, labels
):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(search, "RECENT_ROWS", recent_rows)
    client.force_login(rep)
    pages = [search_page(client, "titanium hinge", n) for n in (1, 2, 3)]
    assert [rows for rows, _ in pages] == [["H6", "H5"], ["H4", "H3"], ["H2", "H1"]]
    assert [label for _, label in pages] == labels
    # G4 alone among the four newest rows: not a page's worth, so the index
    assert search_page(client, "gaskets", 1) == (["G4", "G3"], "4")
