"""Everything HTTP: API Gateway events in, pages and JSON out.

Layers: functions/<name>/app.py builds a resolver from greenlight.web.app and includes the routers
of greenlight.web.routes it serves; routes read requests (forms.py), check who may do what once
(security.py), call the domain modules with models and turn the result into a response
(responses.py, pages.py). Domain errors become 4xx answers in one place (errors.py, app.py).
Nothing outside this package (and functions/) imports the Powertools event handler, and no
domain module imports this package (tests/contract/test_layers.py).

This module imports nothing on purpose: each function imports only the routes it serves."""
