"""Load (section 5 of RESULTS.md): N requests submitted at once and driven to publication through the
local runtime's HTTP API by scripted people, then checked for loss and duplication: every request
published, exactly one sandbox post and one "Live:" mail each, none failed.

Each of `workers` threads plays the people for its requests: POST /api/requests (one requester,
with the rate limits the tests use), a confirmation link followed (GET, POST), the triager accepts
through the emailed link, the on-duty approver approves through theirs, until the lifecycle waits
for its publish time. Mail is read from moto's SES backend (each person's inbox), parsed once. Then
the business clock moves past the publish times, once, and the posts go out together. Wall time
counts from the first submission to the last publication; CPU time is the whole process's, the
figure a busy machine does not change."""

import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from benchmarks import calls
from benchmarks.stats import percentile
from local.outbox import sent_mail
from local.runtime import LocalRuntime
from tests.support import CONFIRM_SUBJECT, TEST_PARAMETERS, Http, hidden, sample_request

TITLE = "## 5. Load: requests driven to publication at once"
DAY = 86400
ID = re.compile(r"\b\d{8}-[a-z2-9]{8}\b")
TRIAGER, APPROVER = "sam@example.org", "kim@example.org"  # kim is on duty: the fast lane
REQUESTER = "ana@example.org"
JSON = {"content-type": "application/json"}


class Inbox:
    """Decision links by (request id, person, subject prefix), from every mail sent so far."""

    def __init__(self) -> None:
        self._mails = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        self._seen = 0
        self._links: dict[tuple[str, str, str], str] = {}
        self._confirmations: list[str] = []  # links of confirmation mails nobody has followed yet
        self.mails: dict[str, list[tuple[str, str]]] = {}  # request id -> (subject, to) of each mail
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        while self._seen < len(self._mails):
            mail = sent_mail(self._seen)
            self._seen += 1
            if mail is None:
                continue
            if mail["subject"] == CONFIRM_SUBJECT:
                self._confirmations += [link for link in mail["links"] if "/l/" in link][:1]
                continue
            found = ID.search(mail["text"])
            if not found:
                continue
            links = [link for link in mail["links"] if "/l/" in link]
            for person in mail["to"]:
                self.mails.setdefault(found[0], []).append((mail["subject"], person))
                if links:
                    self._links[(found[0], person, mail["subject"].split(":")[0])] = links[0]

    def link(self, request_id: str, person: str, kind: str, deadline: float) -> str:
        while time.monotonic() < deadline:
            with self._lock:
                self._refresh()
                link = self._links.get((request_id, person, kind))
            if link:
                return link
            time.sleep(0.05)
        raise TimeoutError(f"no '{kind}:' mail to {person} about {request_id}")

    def confirmation(self, deadline: float) -> str:
        """A confirmation link nobody has followed yet. The mail names no request (by design), so
        each submitter confirms the next one: one mail per submission, so every request is
        confirmed once, and none waits for another's confirmation."""
        while time.monotonic() < deadline:
            with self._lock:
                self._refresh()
                if self._confirmations:
                    return self._confirmations.pop(0)
            time.sleep(0.05)
        raise TimeoutError("no confirmation mail")

    def refresh(self) -> None:
        with self._lock:
            self._refresh()


@dataclass
class Run:
    request_id: str = ""
    submitted: float = 0.0
    answered: float = 0.0  # the POST's answer
    waiting: float = 0.0  # accepted, approved, and waiting for its publish time
    error: str = ""
    cpu: float = 0.0  # this person's own CPU seconds: their HTTP client, mail parsing, reads
    timings: dict[str, float] = field(default_factory=dict)


def _decide(http: Http, link: str, decision: str, **fields: str) -> None:
    page = http.get(link)
    form = [("csrf", hidden(page.text, "csrf"))]
    if 'name="version"' in page.text:
        form.append(("version", hidden(page.text, "version")))
    form += [("decision", decision), ("comment", ""), *fields.items()]
    answer = http.post_form(link, form)
    if answer.status != 200:
        title = re.search(r"<title>([^<]*)</title>", answer.text)
        raise RuntimeError(f"{decision}: {answer.status} {title[1] if title else answer.text[:100]!r}")


def _drive(
    runtime: LocalRuntime,
    http: Http,
    inbox: Inbox,
    start: threading.Barrier,
    deadline: float,
    counted: calls.Calls,
) -> Run:
    run = Run()
    cpu = time.thread_time()
    with counted.people():
        _play(run, runtime, http, inbox, start, deadline)
    run.cpu = time.thread_time() - cpu
    return run


def _play(
    run: Run, runtime: LocalRuntime, http: Http, inbox: Inbox, start: threading.Barrier, deadline: float
) -> None:
    try:
        start.wait()
        run.submitted = time.perf_counter()
        # Not Http.post_json: it confirms every request under one lock, one after the other.
        answer = http.request(
            "POST", "/api/requests", json.dumps(sample_request(title="Load")).encode(), JSON
        )
        run.answered = time.perf_counter()
        if answer.status != 201:
            raise RuntimeError(f"POST /api/requests: {answer.status} {answer.text[:100]!r}")
        run.request_id = answer.json()["id"]
        link = inbox.confirmation(deadline)
        page = http.get(link)
        confirmed = http.post_form(link, [("csrf", hidden(page.text, "csrf"))])
        if confirmed.status != 200:
            raise RuntimeError(f"confirm: {confirmed.status} {confirmed.text[:100]!r}")
        _decide(http, inbox.link(run.request_id, TRIAGER, "Triage", deadline), "accept", channels="sandbox")
        _decide(http, inbox.link(run.request_id, APPROVER, "Review", deadline), "approve")
        while time.monotonic() < deadline:
            where = runtime.where_is(run.request_id)
            if where["state"] == "Wait for publish time" and where["waiting"]:
                run.waiting = time.perf_counter()
                return
            time.sleep(1)  # where_is reads the whole history: a figure to the second
        raise TimeoutError(f"{run.request_id} never waited for its publish time")
    except Exception as error:  # recorded: a lost request is a result, not a crash of the benchmark
        run.error = f"{type(error).__name__}: {error}"


def run(count: int = 200, workers: int = 25, deadline_seconds: float = 1800) -> list[str]:
    deadline = time.monotonic() + deadline_seconds
    counted = calls.Calls()
    cpu = time.process_time()  # every thread of this process: the runtime, its functions, the people
    # One requester sends them all: the rate limits raised as the tests raise them.
    with LocalRuntime(port=0, schedules=False, parameters=TEST_PARAMETERS) as runtime:
        uninstall = counted.install()
        # A slow answer under load is a figure, not a lost request: wait as long as the run may.
        http = Http(runtime.base_url, timeout=deadline_seconds)
        inbox = Inbox()
        start = threading.Barrier(min(workers, count))
        with ThreadPoolExecutor(workers) as pool:
            runs = list(
                pool.map(lambda _: _drive(runtime, http, inbox, start, deadline, counted), range(count))
            )
        first = min(r.submitted for r in runs)
        ready = [r for r in runs if not r.error]
        if not ready:
            raise RuntimeError(f"no request reached its publish wait: {runs[0].error}")
        # Each publish wait holds two timers on the clock (moto's task timeout and its token wait):
        # move the clock only once all of them have started, or a late one waits two more days.
        while runtime.clock.waiting() < 2 * len(ready) and time.monotonic() < deadline:
            time.sleep(0.1)
        moved = time.perf_counter()
        runtime.clock.advance(2 * DAY + 60)
        watching = time.thread_time()
        with counted.people():
            ended = _wait_for_the_end(runtime, {r.request_id for r in ready}, deadline)
            last = time.perf_counter()
            posts = http.get("/_local/channels/sandbox/posts.json").json()
            time.sleep(1)
            inbox.refresh()
        watching = time.thread_time() - watching
        cpu = time.process_time() - cpu
        per_request = {op: n / count for (_, op), n in counted.counts.items()}
        sample = ready[0].request_id
        items = calls.partition(runtime, sample)
        uninstall()
        in_process = calls.in_process(runtime, sample, items)
    on_server = calls.moto_server(items)
    people = sum(r.cpu for r in runs) + watching
    lines = _results(count, workers, runs, ready, ended, posts, inbox, first, moved, last)
    return lines + _floor(count, cpu, people, counted, per_request, in_process, on_server)


def _wait_for_the_end(runtime: LocalRuntime, pending: set[str], deadline: float) -> dict[str, str]:
    sfn = runtime.client("stepfunctions")
    arn = runtime.state_machine_arn().replace(":stateMachine:", ":execution:")
    ended: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        for request_id in list(pending):
            status = sfn.describe_execution(executionArn=f"{arn}:{request_id}")["status"]
            if status != "RUNNING":
                ended[request_id] = status
                pending.discard(request_id)
        time.sleep(0.2)
    return ended


def _results(
    count: int,
    workers: int,
    runs: list[Run],
    ready: list[Run],
    ended: dict[str, str],
    posts: list[dict[str, str]],
    inbox: Inbox,
    first: float,
    moved: float,
    last: float,
) -> list[str]:
    per_request: dict[str, int] = {}
    for post in posts:
        per_request[post.get("request_id", "")] = per_request.get(post.get("request_id", ""), 0) + 1
    ids = [r.request_id for r in ready]
    published = [i for i in ids if ended.get(i) == "SUCCEEDED" and per_request.get(i) == 1]
    duplicated = [i for i in ids if per_request.get(i, 0) > 1]
    live = [i for i in ids if inbox.mails.get(i, []).count(("Live: Load", REQUESTER)) == 1]
    failed = [r for r in runs if r.error] + [r for r in ready if ended.get(r.request_id) != "SUCCEEDED"]
    wall = last - first
    first_error = f": {failed[0].error}" if failed and failed[0].error else ""
    intake = sorted((r.answered - r.submitted) * 1000 for r in ready)
    to_wait = sorted(r.waiting - r.submitted for r in ready)
    return [
        TITLE,
        "",
        f"{count} requests submitted at once by {workers} threads over HTTP (`POST /api/requests`), each "
        "accepted and approved through its emailed links as soon as the mail arrived, then published "
        "together when the business clock passed their publish time (`python -m benchmarks --only load`).",
        "",
        "| what | result |",
        "|---|---|",
        f"| published, exactly one sandbox post each | {len(published)} of {count} |",
        f'| one "Live:" mail to the requester each | {len(live)} of {count} |',
        f"| not published | {count - len(published)} |",
        f"| duplicated (two posts or more) | {len(duplicated)} |",
        f"| failed along the way | {len(failed)}{first_error} |",
        f"| wall time, first submission to last publication | {wall:.1f} s |",
        f"| throughput end to end | **{count / wall:.2f} requests a second** |",
        f"| intake answer (POST) median / p95 | {percentile(intake, 50):.0f} ms / "
        f"{percentile(intake, 95):.0f} ms |",
        f"| submission to waiting for the publish time, median / p95 | {percentile(to_wait, 50):.1f} s / "
        f"{percentile(to_wait, 95):.1f} s |",
        f"| clock moved to all {len(ended)} executions ended | {last - moved:.1f} s |",
    ]


def _floor(
    count: int,
    cpu: float,
    people: float,
    counted: calls.Calls,
    per_request: dict[str, float],
    in_process: dict[str, float],
    on_server: dict[str, float],
) -> list[str]:
    system = (cpu - people) / count * 1000
    floor = calls.floor_ms(per_request, in_process)
    server = calls.floor_ms(per_request, on_server)
    made = sum(counted.counts.values()) / count
    by_op = ", ".join(
        f"{service} {op} {n / count:.1f}"
        for (service, op), n in sorted(counted.counts.items(), key=lambda c: -c[1])
    )
    rows = [
        f"| {op} | {per_request.get(op, 0):.1f} | {in_process[op]:.2f} ms | "
        + (f"{on_server[op]:.2f} ms |" if op in on_server else "— |")
        for op in sorted(in_process, key=lambda op: -per_request.get(op, 0) * in_process[op])
    ]
    return [
        f"| CPU time of the whole process (runtime, functions, scripted people, start-up) | {cpu:.1f} s, "
        f"**{cpu / count * 1000:.0f} ms a request** |",
        f"| of which the scripted people's own threads (HTTP clients, mail parsing, reads) "
        f"| {people:.1f} s |",
        f"| CPU a request without the people (the system and its start-up) | **{system:.0f} ms** |",
        "",
        f"**The floor, measured in the same run.** The system made {made:.0f} AWS calls a request "
        f"through boto3 ({by_op}). Each DynamoDB and SES operation replayed alone on the same runtime and "
        "table, as small as the storage layer's usual calls (an item of the median size the run "
        "stored, `benchmarks/calls.py`: a floor), costs on moto:",
        "",
        "| operation | calls a request | CPU a call, in process (botocore + moto) "
        "| CPU a call in `moto_server`'s own process |",
        "|---|---|---|---|",
        *rows,
        f"| **a request's replayed calls** | | **{floor:.0f} ms** | **{server:.0f} ms** (DynamoDB only) |",
        "",
        "Those calls alone, with no Greenlight code, no Step Functions interpreter, no HTTP and no "
        f"people, allow at most **{1000 / floor:.1f} requests a second** on one core. With the functions "
        f"in processes of their own calling `moto_server`, its process alone would need {server:.0f} ms "
        f"a request: at most {1000 / server:.1f} a second, before the interpreter and its own Lambda "
        "invocations.",
    ]
