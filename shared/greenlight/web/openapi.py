"""The JSON API's OpenAPI document, generated from its routes: `make openapi` writes it to
docs/openapi.json (a contract test fails when that copy is stale); the API serves it live at
GET /api/openapi.json."""

from greenlight.web.routes.api import document

if __name__ == "__main__":
    print(document())
