"""Pages that never count the whole list: rows plus one, a count capped at "1,000+", bounded depth."""

from __future__ import annotations

import pytest
from django.urls import reverse

from requests_app.models import Notification
from requests_app.paging import paginate

NOTIFICATIONS = reverse("requests_app:notifications")


def notify(user, n: int) -> None:
    Notification.objects.bulk_create(Notification(user=user, kind="info", message=f"Note {i}") for i in range(n))


def listing(user):
    return Notification.objects.filter(user=user).order_by("id")


def test_a_last_page_is_counted_from_its_own_rows_in_one_query(rep, django_assert_num_queries):
    notify(rep, 23)
    with django_assert_num_queries(1):
        page = paginate(listing(rep), "3", per_page=10)
    assert [n.message for n in page] == ["Note 20", "Note 21", "Note 22"]
    assert (page.start_index, page.end_index, page.count_label) == (21, 23, "23")
    assert page.has_previous and not page.has_next


def test_a_page_with_more_after_it_counts_up_to_the_cap_only(rep, django_assert_num_queries):
    notify(rep, 45)
    with django_assert_num_queries(2):
        page = paginate(listing(rep), "2", per_page=10, count_cap=30)
    assert [n.message for n in page][0] == "Note 10" and page.has_next
    assert page.count_label == "30+" and page.count_capped
    with django_assert_num_queries(2):
        assert paginate(listing(rep), "1", per_page=10, count_cap=50).count_label == "45"


def test_past_the_cap_the_count_is_not_asked_again(rep, django_assert_num_queries):
    notify(rep, 45)
    with django_assert_num_queries(1):
        page = paginate(listing(rep), "3", per_page=10, count_cap=20)
    assert page.count_label == "20+" and page.has_next


def test_depth_is_bounded_and_says_the_list_goes_on(rep):
    notify(rep, 45)
    page = paginate(listing(rep), "99", per_page=10, max_rows=30)
    assert page.number == 3 and not page.has_next and page.truncated
    assert [n.message for n in page][-1] == "Note 29"
    assert not paginate(listing(rep), "3", per_page=10, max_rows=50).truncated


@pytest.mark.parametrize("raw", [None, "", "abc", "-2", "0", "²", "1.5", "999"])
def test_anything_but_a_reachable_page_number_is_the_first_page(rep, raw):
    notify(rep, 12)
    assert paginate(listing(rep), raw, per_page=10).number == 1


def test_the_notification_page_shows_1000_plus_and_pages_on(client, rep):
    notify(rep, 1030)
    client.force_login(rep)
    body = client.get(NOTIFICATIONS).content.decode()
    assert "1–25 of 1,000+ notifications" in body and 'rel="next"' in body
    last = client.get(NOTIFICATIONS, {"page": 42}).content.decode()  # rows 1,026–1,030
    assert "1,026–1,030 of 1,030 notifications" in last and 'rel="next"' not in last
