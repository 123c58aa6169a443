"""The action pages' one step (config.kernel.admin.action_step): the form, the service, the message, the
way back."""

import pytest
from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory

from config.kernel.admin import action_step, posted
from config.kernel.exceptions import Conflict, InvalidInput


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=10)


class Recorder:
    """A ModelAdmin as far as action_step uses one: what it was told to say."""

    def __init__(self):
        self.said = []

    def message_user(self, request, message, level=messages.INFO):
        self.said.append((level, message))


def step(request, perform, **options):
    admin, calls = Recorder(), []

    def performed(data):
        calls.append(data)
        return perform(data)

    options = {"done": "Done.", "failed": "Could not", "back": "/back/", **options}
    response = action_step(
        admin, request, ReasonForm(posted(request)), performed, page=lambda form: HttpResponse(form.errors.as_text()),
        **options,
    )  # fmt: skip
    return response, admin.said, calls


def test_a_get_shows_the_form_and_calls_nothing():
    response, said, calls = step(RequestFactory().get("/"), lambda data: None)

    assert (response.status_code, response.content, said, calls) == (200, b"", [], [])


def test_an_invalid_form_is_shown_again_with_its_errors_and_calls_nothing():
    response, said, calls = step(RequestFactory().post("/", {"reason": "x" * 11}), lambda data: None)

    assert response.status_code == 200 and b"at most 10 characters" in response.content
    assert (said, calls) == ([], [])


def test_a_valid_form_calls_the_service_says_what_was_done_and_goes_back():
    response, said, calls = step(
        RequestFactory().post("/", {"reason": "why"}), lambda data: 42, done=lambda result: f"Did {result}.",
        level=messages.INFO,
    )  # fmt: skip

    assert (response.status_code, response["Location"]) == (302, "/back/")
    assert said == [(messages.INFO, "Did 42.")]
    assert calls == [{"reason": "why"}]


def test_the_way_back_may_be_the_page_of_what_the_service_wrote():
    response, _, _ = step(RequestFactory().post("/", {"reason": "why"}), lambda data: 7, back=lambda n: f"/obj/{n}/")

    assert response["Location"] == "/obj/7/"


def test_a_refusal_is_said_as_an_error_and_goes_back():
    def refuse(data):
        raise Conflict("The credit is not active.")

    response, said, _ = step(RequestFactory().post("/", {"reason": "why"}), refuse)

    assert (response.status_code, response["Location"]) == (302, "/back/")
    assert said == [(messages.ERROR, "Could not: The credit is not active.")]


@pytest.mark.parametrize(
    ("refusal", "shown"),
    [
        (Conflict("Not now."), "Not now."),
        (InvalidInput({"a": ["First."], "b": ["Second.", "Third."]}), "First. Second. Third."),
    ],
)
def test_without_failed_a_refusal_stays_on_the_form(refusal, shown):
    def refuse(data):
        raise refusal

    response, said, _ = step(RequestFactory().post("/", {"reason": "why"}), refuse, failed=None)

    assert response.status_code == 200 and shown in response.content.decode()
    assert said == []


def test_a_refused_value_of_the_form_goes_on_its_field_and_the_form_is_shown_again():
    def refuse(data):
        raise InvalidInput({"reason": ["Too late for that reason."], "other": ["Also this."]})

    response, said, calls = step(RequestFactory().post("/", {"reason": "why"}), refuse)

    assert response.status_code == 200
    assert response.content.decode().split("\n") == [
        "* reason",
        "  * Too late for that reason.",
        "* __all__",
        "  * Also this.",
    ]
    assert (said, len(calls)) == ([], 1)


def test_a_refusal_naming_no_field_of_the_form_follows_failed():
    def refuse(data):
        raise InvalidInput({"elsewhere": ["Not on this form."]})

    response, said, _ = step(RequestFactory().post("/", {"reason": "why"}), refuse)

    assert (response.status_code, response["Location"]) == (302, "/back/")
    assert said == [(messages.ERROR, "Could not: Not on this form.")]
