"""Text messages: each backend, the Twilio adapter (with a fake opener: no network in
tests), numbers normalised and never logged in full."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse

import pytest

from openiop.notify import sms


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class FakeOpener:
    """Answers like Twilio and keeps the requests it was given."""

    def __init__(self, answer=None, error=None):
        self.requests = []
        self.answer = answer if answer is not None else {"sid": "SM123", "status": "queued"}
        self.error = error

    def open(self, request, timeout=None):
        self.requests.append((request, timeout))
        if self.error is not None:
            raise self.error
        return FakeResponse(json.dumps(self.answer).encode())


def twilio(opener, **kw):
    values = {"account_sid": "AC0001", "auth_token": "secret", "from_number": "+15550001111"}
    values.update(kw)
    return sms.TwilioBackend(**values, opener=opener)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(207) 555-0101", "+12075550101"),
        ("207.555.0101", "+12075550101"),
        ("1 207 555 0101", "+12075550101"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("555-0101", ""),
        ("", ""),
        ("call me", ""),
        ("+1", ""),
    ],
)
def test_numbers_are_normalised_to_e164_or_refused(typed, e164):
    assert sms.normalise_phone(typed) == e164


def test_addresses_are_masked_for_logs_and_staff_lists():
    assert sms.mask("+12075550101") == "•••01"
    assert sms.mask("pat.active@example.org") == "p•••@example.org"
    assert sms.mask("") == ""


def test_the_locmem_backend_keeps_messages_for_tests(settings):
    settings.OPENIOP_SMS_BACKEND = "locmem"
    message_id = sms.send("+12075550101", "Hello")
    assert sms.outbox == [sms.SmsMessage("+12075550101", "Hello", message_id)]


def test_the_console_backend_prints_the_message_with_the_number_masked():
    stream = io.StringIO()
    message_id = sms.ConsoleBackend(stream).send("+12075550101", "Hello Pat")
    out = stream.getvalue()
    assert message_id.startswith("console-") and "Hello Pat" in out
    assert "•••01" in out and "2075550101" not in out


def test_the_file_backend_writes_one_file_per_message(tmp_path):
    backend = sms.FileBackend(tmp_path / "sms")
    first = backend.send("+12075550101", "One")
    second = backend.send("+12075550101", "Two")
    files = sorted((tmp_path / "sms").iterdir())
    assert len(files) == 2 and first != second
    assert {f.read_text().split("\n\n", 1)[1].strip() for f in files} == {"One", "Two"}


def test_the_file_backend_defaults_to_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.OPENIOP_SMS_BACKEND = "file"
    sms.send("+12075550101", "Hi")
    assert len(list((tmp_path / "sms").iterdir())) == 1


def test_the_backend_is_chosen_by_setting_or_dotted_path(settings):
    settings.OPENIOP_SMS_BACKEND = "console"
    assert isinstance(sms.get_backend(), sms.ConsoleBackend)
    settings.OPENIOP_SMS_BACKEND = "openiop.notify.sms.LocmemBackend"
    assert isinstance(sms.get_backend(), sms.LocmemBackend)


def test_twilio_posts_the_message_form_with_basic_auth():
    opener = FakeOpener()
    assert twilio(opener).send("+12075550101", "Hello Pat") == "SM123"
    ((request, timeout),) = opener.requests
    assert request.get_method() == "POST"
    assert request.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC0001/Messages.json"
    assert request.get_header("Authorization") == "Basic QUMwMDAxOnNlY3JldA=="  # AC0001:secret
    assert request.get_header("Content-type") == "application/x-www-form-urlencoded"
    fields = urllib.parse.parse_qs(request.data.decode())
    assert fields == {"To": ["+12075550101"], "From": ["+15550001111"], "Body": ["Hello Pat"]}
    assert timeout == 15.0


def test_twilio_can_send_through_a_messaging_service():
    opener = FakeOpener()
    twilio(opener, from_number="", messaging_service_sid="MG42").send("+12075550101", "Hi")
    fields = urllib.parse.parse_qs(opener.requests[0][0].data.decode())
    assert fields["MessagingServiceSid"] == ["MG42"] and "From" not in fields


def test_twilio_reads_its_settings_from_the_environment_settings(settings):
    settings.OPENIOP_TWILIO_ACCOUNT_SID = "AC9"
    settings.OPENIOP_TWILIO_AUTH_TOKEN = "tok"
    settings.OPENIOP_TWILIO_FROM = "+15550002222"
    backend = sms.TwilioBackend(opener=FakeOpener())
    assert (backend.account_sid, backend.auth_token, backend.from_number) == (
        "AC9",
        "tok",
        "+15550002222",
    )


def test_twilio_refuses_to_send_without_credentials():
    with pytest.raises(sms.SmsError, match="not configured"):
        sms.TwilioBackend(account_sid="", auth_token="", opener=FakeOpener()).send("+1", "x")
    with pytest.raises(sms.SmsError, match="From number"):
        twilio(FakeOpener(), from_number="").send("+12075550101", "x")


def test_a_twilio_error_answer_becomes_an_sms_error_with_its_code():
    body = json.dumps({"code": 21211, "message": "The 'To' number is not valid."}).encode()
    error = urllib.error.HTTPError(
        "https://api.twilio.com", 400, "Bad Request", {}, io.BytesIO(body)
    )
    with pytest.raises(sms.SmsError) as caught:
        twilio(FakeOpener(error=error)).send("+12075550101", "Hi")
    assert "HTTP 400" in str(caught.value) and "21211" in str(caught.value)
    assert "not valid" in str(caught.value)


def test_an_unreadable_twilio_error_still_says_what_happened():
    error = urllib.error.HTTPError("https://api.twilio.com", 503, "Busy", {}, io.BytesIO(b"<html>"))
    with pytest.raises(sms.SmsError, match="HTTP 503"):
        twilio(FakeOpener(error=error)).send("+12075550101", "Hi")


def test_twilio_out_of_reach_is_an_sms_error():
    error = urllib.error.URLError("Name or service not known")
    with pytest.raises(sms.SmsError, match="could not be reached"):
        twilio(FakeOpener(error=error)).send("+12075550101", "Hi")
    with pytest.raises(sms.SmsError, match="could not be reached"):
        twilio(FakeOpener(error=TimeoutError("timed out"))).send("+12075550101", "Hi")


@pytest.mark.parametrize(
    "answer", [{}, {"status": "queued"}, {"sid": "SM1", "status": "failed", "error_code": 30003}]
)
def test_a_twilio_answer_without_a_message_id_or_failed_is_an_error(answer):
    with pytest.raises(sms.SmsError):
        twilio(FakeOpener(answer=answer)).send("+12075550101", "Hi")
