"""Replies by e-mail: the e-mails that ask something carry a signed reply address; a reply posted
by Mailgun's inbound webhook (anymail checks the signature) becomes that user's comment or
clarification reply, and anything else is refused with a polite bounce and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta
from textwrap import dedent

import pytest
import time_machine
from django.core import mail

from integrations import inbound
from integrations.models import InboundEmail
from requests_app import notifications, replies, services
from requests_app.models import Comment, Notification, RequestEvent, Status
from tests.conftest import aware
from tests.requests_app.sales_factories import request_in

pytestmark = pytest.mark.django_db

KEY = "key-of-the-mailgun-webhook-0123456789"
DOMAIN = "reply.s2o.example.com"
T0 = aware(2026, 3, 2, 9, 0)


@pytest.fixture(autouse=True)
def replies_set_up(settings):
    settings.S2O_REPLY_DOMAIN = DOMAIN
    settings.S2O_REPLY_MAX_AGE_DAYS = 30
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": KEY, "WEBHOOK_SECRET": None}


def emails_to(user) -> list:
    mail.outbox.clear()
    for pk in Notification.objects.filter(user=user, email_sent_at__isnull=True).exclude(email_template="").values_list(
        "pk", flat=True
    ):
        notifications.send_notification_email(pk)
    return list(mail.outbox)


def signed(fields: dict[str, str], key: str = KEY) -> dict[str, str]:
    """Mailgun's legacy signature fields: HMAC-SHA256 of timestamp + token with the signing key."""
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


def mailgun_parsed(*, sender: str, to: str, text: str, subject: str = "Re: question", message_id: str | None = None,
                   extra_headers: list[list[str]] | None = None) -> dict[str, str]:
    """A fully parsed message as Mailgun's forward() route posts it (anymail's documented format)."""
    message_id = message_id or f"<{secrets.token_hex(8)}@mail.example.com>"
    headers = [
        ["X-Mailgun-Spf", "Pass"], ["X-Mailgun-Sflag", "No"], ["X-Mailgun-Sscore", "0.2"],
        ["Mime-Version", "1.0"], ["From", f"Rita Weber <{sender}>"], ["Date", "Mon, 02 Mar 2026 10:15:00 +0100"],
        ["Message-Id", message_id], ["Subject", subject], ["To", to],
        ["Content-Type", 'text/plain; charset="UTF-8"'], *(extra_headers or []),
    ]
    return {"recipient": to, "sender": sender, "from": f"Rita Weber <{sender}>", "subject": subject, "body-plain": text,
            "message-headers": json.dumps(headers)}


def post(client, fields: dict[str, str], *, url: str = "/anymail/mailgun/inbound/", key: str = KEY):
    return client.post(url, data=signed(fields, key))


QUOTED_REPLY = dedent("""\
    Use the 6061 alloy, anodised.
    The customer confirmed it on the phone.

    Best regards,
    Rita Weber
    Sales North

    On Mon, 2 Mar 2026 at 10:00, S2O <s2o@example.com> wrote:
    > Operations asks about S2O-2026-00001: Which alloy?
    >
    > Reply to this e-mail to add a comment or answer the question.
    """)


@pytest.fixture
def waiting(rep, customer, ops_lead):
    return request_in(Status.WAITING_ON_SALES, rep=rep, customer=customer, lead=ops_lead)


def reply_to_of(message) -> str:
    [address] = message.reply_to
    return address


def test_a_clarification_question_e_mail_carries_a_signed_reply_address(waiting, rep):
    [message] = emails_to(rep)
    address = reply_to_of(message)
    assert address.startswith("reply+") and address.endswith(f"@{DOMAIN}")
    assert replies.reply_target(address) == replies.ReplyTarget(waiting.pk, rep.pk, replies.CLARIFICATION)
    assert "Reply to this e-mail to add a comment or answer the question" in message.body


def test_e_mails_that_ask_nothing_have_no_reply_address(rep, customer, ops_lead):
    request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead)
    [message] = emails_to(ops_lead)
    assert message.reply_to == []
    assert "Reply to this e-mail" not in message.body


def test_a_reply_answers_the_clarification_without_the_quote_or_the_signature(client, waiting, rep, ops_lead):
    address = reply_to_of(emails_to(rep)[0])

    response = post(client, mailgun_parsed(sender="rita@example.com", to=address, text=QUOTED_REPLY))

    assert response.status_code == 200
    req = type(waiting).objects.get(pk=waiting.pk)
    assert req.status == Status.SUBMITTED  # back where the question came from: the clock runs again
    reply = Comment.objects.get(request=req, kind=Comment.Kind.REPLY)
    assert (reply.author, reply.body) == (rep, "Use the 6061 alloy, anodised.\nThe customer confirmed it on the phone.")
    assert RequestEvent.objects.filter(request=req, kind=RequestEvent.Kind.CLARIFICATION_ANSWERED, actor=rep).count() == 1
    record = InboundEmail.objects.get()
    assert (record.outcome, record.user, record.request_id, record.bounce_wanted) == ("clarification", rep, req.pk, False)
    # Operations hears about it as if it was typed on the request page.
    assert Notification.objects.filter(user=ops_lead, kind="clarification_answered").exists()


def test_a_reply_to_the_answer_e_mail_becomes_a_comment(client, rep, customer, ops_lead):
    from analysis import services as ops_services
    from analysis.models import Decision

    req = request_in(Status.IN_ANALYSIS, rep=rep, customer=customer, lead=ops_lead)
    ops_services.answer_publish(request_id=req.pk, actor=ops_lead, expected_version=None, decision=Decision.YES,
                                summary="All 500 on time.", justification="", alternatives=[])
    [message] = emails_to(rep)
    address = reply_to_of(message)
    assert replies.reply_target(address).intent == replies.COMMENT

    post(client, mailgun_parsed(sender="RITA@example.com", to=address, text="Great, thanks!\n\n-- \nRita"))

    comment = Comment.objects.get(request=req, kind=Comment.Kind.COMMENT)
    assert (comment.author, comment.body) == (rep, "Great, thanks!")
    assert type(req).objects.get(pk=req.pk).status == Status.ANSWERED
    assert Notification.objects.filter(user=ops_lead, kind="comment").exists()


def test_a_raw_mime_reply_is_read_the_same_way(client, waiting, rep):
    address = reply_to_of(emails_to(rep)[0])
    mime = dedent(f"""\
        From: Rita Weber <rita@example.com>
        To: {address}
        Subject: Re: Operations asks about {waiting.reference}
        Message-ID: <raw-1@mail.example.com>
        Date: Mon, 02 Mar 2026 10:15:00 +0100
        MIME-Version: 1.0
        Content-Type: text/plain; charset="UTF-8"
        Content-Transfer-Encoding: quoted-printable

        Aluminium 6061 =E2=80=93 anodised.

        Am Mo., 2. M=C3=A4rz 2026 um 10:00 Uhr schrieb S2O <s2o@example.com>:
        > Which alloy?
        """)
    response = post(client, {"recipient": address, "sender": "rita@example.com", "body-mime": mime},
                    url="/anymail/mailgun/inbound_mime/")

    assert response.status_code == 200
    assert Comment.objects.get(request=waiting, kind=Comment.Kind.REPLY).body == "Aluminium 6061 – anodised."


def assert_refused_and_bounced(sender: str, reason: str) -> None:
    record = InboundEmail.objects.get()
    assert record.outcome == "refused" and reason in record.reason
    assert record.comment is None
    mail.outbox.clear()
    assert inbound.bounce_send(record.pk) is True
    [bounce] = mail.outbox
    assert bounce.to == [sender]
    assert bounce.subject.startswith("[S2O] Your reply was not added")
    assert reason in bounce.body and "Nothing was changed." in bounce.body
    assert bounce.extra_headers["Auto-Submitted"] == "auto-replied"


def assert_nothing_changed(req) -> None:
    assert not Comment.objects.filter(request=req).exclude(kind=Comment.Kind.QUESTION).exists()
    assert type(req).objects.get(pk=req.pk).status == req.status


def test_an_expired_reply_address_is_refused_politely(client, rep, customer, ops_lead):
    with time_machine.travel(T0, tick=False):
        req = request_in(Status.WAITING_ON_SALES, rep=rep, customer=customer, lead=ops_lead)
        address = reply_to_of(emails_to(rep)[0])
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        post(client, mailgun_parsed(sender="rita@example.com", to=address, text="Use 6061."))

    assert_nothing_changed(req)
    assert_refused_and_bounced("rita@example.com", "has expired")


@pytest.mark.parametrize("forge", [
    lambda token: token.replace(token.split("-")[0], str(int(token.split("-")[0]) + 1), 1),  # another request
    lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),                # another signature
])
def test_a_forged_reply_address_is_refused_politely(client, waiting, rep, forge):
    address = reply_to_of(emails_to(rep)[0])
    local, domain = address.split("@")
    forged = f"reply+{forge(local.removeprefix('reply+'))}@{domain}"

    post(client, mailgun_parsed(sender="rita@example.com", to=forged, text="Use 6061."))

    assert_nothing_changed(waiting)
    assert_refused_and_bounced("rita@example.com", "was changed")


def test_an_address_that_is_not_a_reply_address_is_refused_politely(client, waiting):
    post(client, mailgun_parsed(sender="rita@example.com", to=f"sales@{DOMAIN}", text="Hello?"))
    assert_nothing_changed(waiting)
    assert_refused_and_bounced("rita@example.com", "does not belong to a request")


def test_a_reply_from_someone_else_with_a_valid_address_is_refused(client, waiting, rep, teammate):
    address = reply_to_of(emails_to(rep)[0])

    post(client, mailgun_parsed(sender="tom@example.com", to=address, text="Use 7075 instead."))

    assert_nothing_changed(waiting)
    assert_refused_and_bounced("tom@example.com", "came from another address")


def test_a_request_the_user_can_no_longer_see_is_refused(client, waiting, rep, team_b):
    address = reply_to_of(emails_to(rep)[0])
    type(waiting).objects.filter(pk=waiting.pk).update(requested_by=type(rep).objects.create_user("someone-else"),
                                                        sales_team=team_b)

    post(client, mailgun_parsed(sender="rita@example.com", to=address, text="Use 6061."))

    assert not Comment.objects.filter(request=waiting, kind=Comment.Kind.REPLY).exists()
    assert_refused_and_bounced("rita@example.com", "can no longer see that request")


def test_a_reply_with_nothing_above_the_quote_is_refused(client, waiting, rep):
    address = reply_to_of(emails_to(rep)[0])
    post(client, mailgun_parsed(sender="rita@example.com", to=address, text="> Which alloy?\n> Reply to this e-mail\n"))
    assert_nothing_changed(waiting)
    assert_refused_and_bounced("rita@example.com", "no text of yours above the quoted message")


def test_a_post_with_a_wrong_mailgun_signature_is_rejected_and_changes_nothing(client, waiting, rep):
    address = reply_to_of(emails_to(rep)[0])
    response = post(client, mailgun_parsed(sender="rita@example.com", to=address, text="Use 6061."), key="not-the-key")

    assert response.status_code == 400
    assert not InboundEmail.objects.exists()
    assert_nothing_changed(waiting)


def test_the_same_message_posted_twice_counts_once(client, rep, customer, ops_lead):
    req = request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    address = replies.reply_address(request_id=req.pk, user_id=rep.pk, intent=replies.COMMENT)
    fields = mailgun_parsed(sender="rita@example.com", to=address, text="Thanks!", message_id="<once@mail.example.com>")

    assert post(client, fields).status_code == 200
    assert post(client, fields).status_code == 200

    assert Comment.objects.filter(request=req).count() == 1
    assert InboundEmail.objects.count() == 1


def test_an_automatic_reply_is_ignored_without_a_bounce(client, waiting, rep):
    address = reply_to_of(emails_to(rep)[0])
    post(client, mailgun_parsed(sender="rita@example.com", to=address, text="I am out of office until Monday.",
                                extra_headers=[["Auto-Submitted", "auto-replied"]]))

    assert_nothing_changed(waiting)
    record = InboundEmail.objects.get()
    assert (record.outcome, record.bounce_wanted) == ("ignored", False)


def test_bounces_to_one_sender_are_capped_per_day(client, settings, waiting):
    settings.S2O_REPLY_BOUNCES_PER_DAY = 3
    for n in range(5):
        post(client, mailgun_parsed(sender="spoofed@example.org", to=f"reply+nonsense{n}@{DOMAIN}", text="spam"))
    assert InboundEmail.objects.filter(outcome="refused").count() == 5
    assert InboundEmail.objects.filter(bounce_wanted=True).count() == 3


def test_without_a_signing_key_the_inbound_webhook_is_not_there(client, settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "", "WEBHOOK_SECRET": None}
    assert client.post("/anymail/mailgun/inbound/", data={"recipient": "x"}).status_code == 404


@pytest.mark.parametrize(("text", "kept"), [
    ("Yes, 6061.\n\nOn Mon, 2 Mar 2026 at 10:00, S2O <s2o@example.com> wrote:\n> Which alloy?\n", "Yes, 6061."),
    ("Ja, 6061.\n\n-- \nRita Weber\nVertrieb\n", "Ja, 6061."),
    ("Use 6061.\n\nSent from my iPhone\n", "Use 6061."),
    ("Line one\nline two\n\n________________________________\nFrom: S2O <s2o@example.com>\nSent: Monday\n\nold",
     "Line one\nline two"),
])
def test_quoted_history_and_signatures_are_stripped(text, kept):
    assert inbound.reply_text(text) == kept


def test_a_comment_e_mail_carries_a_reply_address_for_each_recipient(rep, customer, ops_lead):
    req = request_in(Status.IN_ANALYSIS, rep=rep, customer=customer, lead=ops_lead)
    emails_to(ops_lead)
    services.comment_add(req=req, actor=rep, body="Any news?")

    [message] = emails_to(ops_lead)
    target = replies.reply_target(reply_to_of(message))
    assert (target.request_id, target.user_id, target.intent) == (req.pk, ops_lead.pk, replies.COMMENT)
