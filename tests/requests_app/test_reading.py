"""What the request page says to the person reading it: a timeline in sentences, messages addressed
to the reader, limits said instead of applied silently, a comment sent twice stored once, and a
time-zone list people can choose from."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from requests_app import services
from requests_app.forms import PreferencesForm
from requests_app.models import Comment, FeasibilityRequest, Notification, Profile
from tests.requests_app.sales_factories import file_request
from tests.requests_app.sales_factories import filing_form_data as post_data

pytestmark = pytest.mark.django_db

MONDAY_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MONDAY_1000 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def acknowledged(rep, customer, ops_lead):
    from analysis import services as ops

    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900)
    with time_machine.travel(MONDAY_1000, tick=False):
        ops.request_acknowledge(request_id=req.pk, actor=ops_lead, departments=["procurement"], now=MONDAY_1000)
    return FeasibilityRequest.objects.get(pk=req.pk)


def timeline_of(page: str) -> str:
    return page[page.index("Timeline"):]


class TestTimeline:
    def test_entries_read_as_sentences_about_who_did_what(self, client, acknowledged, rep, ops_lead):
        client.force_login(ops_lead)

        timeline = timeline_of(client.get(acknowledged.get_absolute_url()).content.decode())

        assert "Rita saved a draft." in timeline
        assert "Rita submitted the request to Operations." in timeline
        # Berlin time (CET) of the policy's answer-by, as the reader's zone shows it.
        assert "You acknowledged and promised an answer by " in timeline
        assert "You asked Procurement to assess." in timeline
        assert "→" not in timeline and "Submitted → Submitted" not in timeline

    def test_the_author_reads_their_own_actions_as_you(self, client, acknowledged, rep):
        client.force_login(rep)

        timeline = timeline_of(client.get(acknowledged.get_absolute_url()).content.decode())

        assert "You submitted the request to Operations." in timeline
        assert "Lena acknowledged and promised an answer by" in timeline

    def test_a_question_and_its_reply_are_sentences_with_their_text_under_them(self, client, acknowledged, rep,
                                                                               ops_member):
        services.clarification_ask(request_id=acknowledged.pk, actor=ops_member, question="Which finish?")
        services.clarification_answer(request_id=acknowledged.pk, actor=rep, body="Powder-coated")
        client.force_login(rep)

        timeline = timeline_of(client.get(acknowledged.get_absolute_url()).content.decode())

        assert "Paul asked Sales a question; the answer clock paused." in timeline
        assert "“Which finish?”" in timeline
        assert "You answered Operations&#x27; question; the answer clock runs again." in timeline


class TestAddressedToTheReader:
    def test_the_ops_lead_is_not_told_operations_waits_for_their_answer(self, client, acknowledged, rep, ops_lead,
                                                                        ops_member):
        services.clarification_ask(request_id=acknowledged.pk, actor=ops_member, question="Which finish?")

        client.force_login(ops_lead)
        as_lead = client.get(acknowledged.get_absolute_url()).content.decode()
        client.force_login(rep)
        as_rep = client.get(acknowledged.get_absolute_url()).content.decode()

        assert "waiting for your answer" not in as_lead
        assert "Operations is waiting for Sales to answer a question" in as_lead
        assert "Operations promised Sales an answer by" in as_lead and "let you know" not in as_lead
        assert "Operations is waiting for your answer to their question" in as_rep
        assert "We will analyze and let you know by" in as_rep

    def test_filing_says_it_once(self, client, rep, customer, product):
        client.force_login(rep)

        page = client.post(reverse("requests_app:create"), post_data(customer, product), follow=True).content.decode()

        assert page.count("Operations will confirm when they will answer") == 1
        assert "Your request is submitted as S2O-" in page


class TestLimits:
    def test_an_over_long_title_and_unit_are_refused_with_their_length_and_kept(self, client, rep, customer, product):
        client.force_login(rep)
        title = "T" * 300
        data = post_data(customer, product, title=title, unit="pieces-of-something")

        response = client.post(reverse("requests_app:create"), data)

        page = response.content.decode()
        assert response.status_code == 400
        assert "This is 300 characters long; the limit is 200. Shorten it and send again." in page
        assert "This is 19 characters long; the limit is 16." in page
        assert f'value="{title}"' in page  # kept, not cut
        assert 'maxlength="200"' not in page  # the browser no longer cuts a paste silently
        assert not FeasibilityRequest.objects.exists()

    def test_a_description_without_a_column_limit_still_has_one(self, client, rep, customer, product):
        client.force_login(rep)

        response = client.post(reverse("requests_app:create"), post_data(customer, product, description="x" * 20_001))

        assert response.status_code == 400
        assert "This is 20001 characters long; the limit is 20000." in response.content.decode()

    def test_numbers_too_big_for_their_column_get_a_plain_message(self, client, rep, customer, product):
        client.force_login(rep)

        response = client.post(reverse("requests_app:create"),
                               post_data(customer, product, quantity="99999999999999", target_price="-1"))

        page = response.content.decode()
        assert "This number is too large: at most 11 digits before the decimal point." in page
        assert "Ensure that" not in page

    def test_a_zero_quantity_is_refused_in_words(self, client, rep, customer, product):
        client.force_login(rep)

        page = client.post(reverse("requests_app:create"), post_data(customer, product, quantity="0")).content.decode()

        assert "The quantity must be more than zero." in page

    def test_long_unbroken_words_wrap_instead_of_widening_the_page(self, client):
        css = client.get("/static/css/s2o.css").getvalue().decode()

        rules = re.findall(r"([^{}]+)\{([^{}]*)\}", css)
        wrapping = [selectors for selectors, body in rules if "overflow-wrap: anywhere" in body]
        assert any(re.search(r"(^|,)\s*h1\s*(,|$)", selectors.strip()) for selectors in wrapping)


class TestCommentSentTwice:
    def test_the_same_form_posted_twice_stores_one_comment_and_tells_once(self, client, acknowledged, rep, ops_lead):
        client.force_login(rep)
        url = reverse("requests_app:comment", args=[acknowledged.pk])
        form = {"body": "Customer called again", "token": str(uuid.uuid4())}

        first = client.post(url, form)
        second = client.post(url, form)

        assert first.status_code == second.status_code == 302
        assert Comment.objects.filter(request=acknowledged, kind=Comment.Kind.COMMENT).count() == 1
        assert Notification.objects.filter(user=ops_lead, kind="comment").count() == 1

    def test_the_page_gives_each_comment_form_a_new_token(self, client, acknowledged, rep):
        client.force_login(rep)

        first = client.get(acknowledged.get_absolute_url()).context["comment_form"]["token"].value()
        second = client.get(acknowledged.get_absolute_url()).context["comment_form"]["token"].value()

        assert first and second and first != second

    def test_a_reply_sent_twice_is_stored_once_and_the_second_is_no_error(self, client, acknowledged, rep, ops_member):
        services.clarification_ask(request_id=acknowledged.pk, actor=ops_member, question="Which finish?")
        client.force_login(rep)
        url = reverse("requests_app:reply", args=[acknowledged.pk])
        form = {"body": "Powder-coated", "token": str(uuid.uuid4())}

        client.post(url, form)
        second = client.post(url, form, follow=True)

        assert Comment.objects.filter(request=acknowledged, kind=Comment.Kind.REPLY).count() == 1
        assert "not waiting for a clarification" not in second.content.decode()

    def test_someone_else_cannot_reuse_a_token(self, acknowledged, rep, sales_manager):
        from requests_app.permissions import NotAllowed

        token = uuid.uuid4()
        services.comment_add(req=acknowledged, actor=rep, body="mine", token=token)
        with pytest.raises(NotAllowed):
            services.comment_add(req=acknowledged, actor=sales_manager, body="theirs", token=token)


@pytest.mark.django_db(transaction=True)
def test_two_racing_posts_of_one_comment_store_it_once(rep, customer, team_a):
    req = file_request(rep, customer)
    token = uuid.uuid4()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait()
            services.comment_add(req=req, actor=rep, body="double click", token=token)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert Comment.objects.filter(request=req, token=token).count() == 1


class TestTimeZones:
    def test_people_choose_from_named_places_not_the_raw_tz_database(self, rep):
        form = PreferencesForm(instance=Profile.objects.get_or_create(user=rep)[0])
        flat = {value: label for group, options in form.fields["time_zone"].choices[1:] for value, label in options}

        assert 30 <= len(flat) <= 80
        assert "Berlin, Frankfurt, Munich, Vienna, Zurich (UTC" in flat["Europe/Berlin"]
        assert "W-SU" not in flat and "Zulu" not in flat and "localtime" not in flat

    def test_a_zone_chosen_before_the_list_existed_is_kept(self, client, rep):
        Profile.objects.update_or_create(user=rep, defaults={"time_zone": "America/Boise"})
        client.force_login(rep)

        response = client.post(reverse("requests_app:preferences"),
                               {"time_zone": "America/Boise", "reminder_emails": "on"})

        assert response.status_code == 302
        assert Profile.objects.get(user=rep).time_zone == "America/Boise"

    def test_a_zone_outside_the_list_cannot_be_picked_anew(self, client, rep):
        client.force_login(rep)

        response = client.post(reverse("requests_app:preferences"), {"time_zone": "W-SU"})

        assert response.status_code == 200 and Profile.objects.get(user=rep).time_zone != "W-SU"

