"""The requester's pages: the request form (GET /requests/new, POST /requests) and the status page
behind the secret link (GET /requests/{id}?token=…)."""

import base64

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from greenlight.service import store, submit_idempotent
from greenlight.status import request_for_token
from greenlight.web import forms, pages
from greenlight.web.errors import Refused
from greenlight.web.responses import base_url, html, redirect

form = Router()
status = Router()


@form.get("/")
def home() -> Response:
    return redirect("/requests/new")


@form.get("/requests/new")
def new_request() -> Response:
    return html(pages.request_form())


@form.post("/requests")
def create_request() -> Response:
    event = form.current_event
    kind = event.headers.get("content-type") or ""
    if kind.startswith("multipart/form-data"):  # the form with its images
        raw = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
        if len(raw) > forms.MAX_MULTIPART:
            raise Refused(413, "Too large", "The images are too large together: send at most 4 MB in all.")
        try:
            fields, files = forms.multipart(raw, kind)
        except ValueError as error:
            raise Refused(400, "Unreadable form", "Send the form again from the page.") from error
    elif "application/x-www-form-urlencoded" in kind:
        body = event.decoded_body or ""
        if len(body) > forms.MAX_BODY:
            raise Refused(413, "Too long", "This request is too large to accept.")
        fields, files = forms.url_encoded(body), {}
    else:
        raise Refused(415, "Unsupported form", "Send the form as a web form.")
    typed, request, errors = forms.request_from_form(fields, files)
    if request is None:
        return html(pages.request_form(typed, errors, typed.get("submission_id")), status=422)
    created = submit_idempotent(request, base_url(event), typed.get("submission_id"), form.lambda_context)
    return redirect(created["status_url"])


@status.get("/requests/<request_id>")
def request_status(request_id: str) -> Response:
    token = status.current_event.get_query_string_value("token")
    stored, history = request_for_token(store(), request_id, token)
    from greenlight.result_report import page_context  # Pillow only for pages that draw a chart

    return html(pages.request_status(stored, history, page_context(store(), stored)["measurement"]))
