"""The template's HTTP API on a local port: each request becomes an API Gateway HTTP API
(payload format 2.0) event for the route's function, invoked through Lambda like on AWS.
Also serves the local-only pages under /_local/."""

import base64
import contextlib
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from local.outbox import raw_message, read_outbox

if TYPE_CHECKING:
    from local.runtime import LocalRuntime

MAX_BODY = 10 * 1024 * 1024  # API Gateway HTTP APIs take 10 MB
# API Gateway HTTP APIs pass these bodies as text; others (form posts included) arrive base64-encoded.
TEXT_TYPES = ("text/", "application/json", "application/xml")


class Route:
    def __init__(self, method: str, template: str, function: str):
        self.method = method
        self.template = template
        self.function = function
        self.pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
        # API Gateway prefers the most specific route: fewer parameters first.
        self.specificity = (template.count("{"), -len(template))

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.match(path)
        return found.groupdict() if found else None


def http_api_event(
    route: Route,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    params: dict[str, str],
    host: str,
    source_ip: str,
) -> dict[str, Any]:
    path, _, query = target.partition("?")
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered and key != "cookie" else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    query_params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        query_params[name] = f"{query_params[name]},{value}" if name in query_params else value
    content_type = lowered.get("content-type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    if is_text and body:
        try:
            body.decode()
        except UnicodeDecodeError:
            is_text = False  # bytes that are not UTF-8 reach the function base64-encoded, as on AWS
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.template}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.template}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query_params:
        event["queryStringParameters"] = query_params
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 resets connections when a browser or a test sends a burst.
    request_queue_size = 128
    daemon_threads = True


class LocalHttpServer:
    def __init__(self, runtime: "LocalRuntime", host: str, port: int):
        self.runtime = runtime
        self.routes = sorted(
            (
                Route(method, path, runtime.function_name(fn))
                for method, path, fn in runtime.stack.http_routes()
            ),
            key=lambda r: r.specificity,
        )
        handler = type("Handler", (_Handler,), {"server_app": self})
        self.server = _Server((host, port), handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-http", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route, params
        return None


class _Handler(BaseHTTPRequestHandler):
    server_app: LocalHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the CLI prints what matters

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")  # link previews check a tracked link (/r/{code}) with HEAD first

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY:
            self._send(413, {"content-type": "application/json"}, b'{"message":"Request Entity Too Large"}')
            return
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if path.startswith("/_local/"):
            self._local(method, path, body)
            return
        if path.split("/")[1] in self.server_app.runtime.buckets:
            if method == "GET":
                self._object(path)
            elif method == "POST":
                self._upload(path, body)
            return
        found = self.server_app.find(method, path)
        if found is None:
            self._send(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
            return
        route, params = found
        host = self.headers.get("host") or f"127.0.0.1:{self.server_app.port}"
        event = http_api_event(
            route, method, self.path, dict(self.headers.items()), body, params, host, self.client_address[0]
        )
        status, headers, payload = self._invoke(route.function, event)
        self._send(status, headers, payload)

    def _invoke(self, function: str, event: dict[str, Any]) -> tuple[int, dict[str, Any], bytes]:
        answer = self.server_app.runtime.client("lambda").invoke(
            FunctionName=function, Payload=json.dumps(event)
        )
        document = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError") or not isinstance(document, dict) or "statusCode" not in document:
            # What API Gateway answers when the integration fails.
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        headers = {k.lower(): str(v) for k, v in (document.get("headers") or {}).items()}
        for name, values in (document.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ", ".join(values)
        cookies = document.get("cookies") or []
        body = document.get("body") or ""
        raw = base64.b64decode(body) if document.get("isBase64Encoded") else body.encode()
        headers.setdefault("content-type", "application/json")
        return int(document["statusCode"]), headers | ({"set-cookie": cookies} if cookies else {}), raw

    def _send(self, status: int, headers: dict[str, Any], body: bytes) -> None:
        # The client may have gone away (a browser cancelling a submit): nothing to answer then.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._write(status, headers, body)

    def _write(self, status: int, headers: dict[str, Any], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, one)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # ---- /_local/ ----

    def _local(self, method: str, path: str, body: bytes) -> None:
        runtime = self.server_app.runtime
        if path.startswith(("/_local/networks/", "/_local/channels/")):
            status, headers, answer = runtime.networks.handle(
                method, self.path, dict(self.headers.items()), body
            )
            self._send(status, headers, answer)
        elif method == "GET" and path == "/_local/outbox.json":
            since = dict(parse_qsl(urlsplit(self.path).query)).get("since", "0")
            self._json(200, read_outbox(since=int(since) if since.isdecimal() else 0))
        elif method == "GET" and path == "/_local/outbox":
            self._html(200, outbox_page(read_outbox()))
        elif method == "GET" and (found := re.fullmatch(r"/_local/outbox/(\d+)\.eml", path)):
            raw = raw_message(int(found.group(1)))
            if raw is None:
                self._json(404, {"error": f"no mail number {found.group(1)}"})
            else:
                self._send(200, {"content-type": "message/rfc822"}, raw)
        elif method == "GET" and path.startswith("/_local/executions/"):
            try:
                self._json(200, runtime.where_is(path.rsplit("/", 1)[1]))
            except Exception as error:  # an unknown execution, a bad name
                self._json(404, {"error": str(error)})
        elif path == "/_local/faults" and method in ("GET", "POST", "DELETE"):
            self._faults(method, body)
        elif method == "GET" and path == "/_local/iam":
            self._json(200, runtime.iam.report())
        elif method == "GET" and path == "/_local/clock":
            self._json(200, {"now": runtime.clock.now().isoformat(), "scale": runtime.clock.scale})
        elif method == "POST" and path == "/_local/clock/advance":
            try:
                seconds = float(json.loads(body or b"{}")["seconds"])
                if seconds < 0:
                    raise ValueError("time only moves forward")
            except (ValueError, KeyError, TypeError) as error:
                self._json(400, {"error": f'send {{"seconds": N}} with N >= 0 ({error})'})
                return
            self._json(200, {"now": runtime.clock.advance(seconds).isoformat()})
            time.sleep(0)  # let woken waits run before the caller looks
        else:
            self._json(404, {"error": f"no local endpoint {method} {path}"})

    def _faults(self, method: str, body: bytes) -> None:
        faults = self.server_app.runtime.faults
        if method == "GET":
            self._json(200, faults.listing())
        elif method == "DELETE":
            self._json(200, faults.clear())
        else:
            try:
                self._json(200, faults.add(json.loads(body or b"null")))
            except (
                ValueError
            ) as error:  # bad JSON (JSONDecodeError) or a shape not documented (FaultRequestError)
                self._json(400, {"error": str(error)})

    def _object(self, path: str) -> None:
        """A presigned GET (S3 path style at this runtime's address, see runtime.py): the object from
        moto's S3. The signature is not checked here; the functions signed it with the fake keys."""
        _, bucket, key = path.split("/", 2)
        try:
            found = self.server_app.runtime.client("s3").get_object(Bucket=bucket, Key=key)
        except Exception:  # NoSuchKey
            self._send(404, {"content-type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>")
            return
        self._send(
            200, {"content-type": found.get("ContentType") or "binary/octet-stream"}, found["Body"].read()
        )

    def _upload(self, path: str, body: bytes) -> None:
        """A browser's presigned POST: the file stored under the form's key in moto's S3, and 204 as
        S3 answers. The policy (expiry, size range) is not checked here; on AWS, S3 checks it."""
        from local.networks import _multipart

        fields = _multipart(self.headers.get("content-type") or "", body)
        key, file = fields.get("key"), fields.get("file")
        if not isinstance(key, str) or not isinstance(file, tuple):
            self._send(
                400, {"content-type": "application/xml"}, b"<Error><Code>InvalidArgument</Code></Error>"
            )
            return
        bucket = path.split("/")[1]
        self.server_app.runtime.client("s3").put_object(
            Bucket=bucket, Key=key, Body=file[1], ContentType=file[0]
        )
        self._send(204, {}, b"")

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, {"content-type": "application/json"}, json.dumps(payload, indent=1).encode())

    def _html(self, status: int, page: str) -> None:
        self._send(
            status, {"content-type": "text/html; charset=utf-8", "cache-control": "no-store"}, page.encode()
        )


def outbox_page(mails: list[dict[str, Any]]) -> str:
    rows = []
    for mail in reversed(mails):
        links = "".join(f'<li><a href="{escape(link)}">{escape(link)}</a></li>' for link in mail["links"])
        rows.append(
            f"<article><h2>{escape(mail['subject'])}</h2><p>To: {escape(', '.join(mail['to']))} · "
            f"{escape(mail['sent_at'])}</p><ul>{links}</ul><pre>{escape(mail['text'])}</pre></article>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Outbox · Greenlight local</title>'
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:auto;padding:1rem}"
        "article{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem;margin:1rem 0}"
        "pre{white-space:pre-wrap}</style></head><body><h1>Outbox</h1>"
        f"<p>{len(mails)} mail(s) sent by this local runtime, newest first.</p>{''.join(rows)}</body></html>"
    )
