"""The requester's pages: the request form (GET /requests/new, POST /requests) and the status page
behind the secret link (GET /requests/{id}?token=…)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from greenlight.service import store, submit_idempotent
from greenlight.status import request_for_token
from greenlight.web import forms, pages
from greenlight.web.responses import base_url, client, html, redirect

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
    fields, files = forms.posted(event)
    typed, request, errors = forms.request_from_form(fields, files)
    if request is None:
        return html(pages.request_form(typed, errors, typed.get("submission_id")), status=422)
    created = submit_idempotent(
        request, base_url(event), typed.get("submission_id"), form.lambda_context, client(event)
    )
    return redirect(created["status_url"])


@status.get("/requests/<request_id>")
def request_status(request_id: str) -> Response:
    token = status.current_event.get_query_string_value("token")
    stored, history = request_for_token(store(), request_id, token)
    from greenlight import pilot_report
    from greenlight.result_report import page_context  # Pillow only for pages that draw a chart

    measured = page_context(store(), stored)["measurement"]
    return html(pages.request_status(stored, history, measured, pilot_report.page_context(store(), stored)))
