"""Uses a client generated from Querent's OpenAPI document the way a new user would:
first-boot setup, login, list connections, ask the demo database a question (JSON and
server-sent events). Run by scripts/client-smoke.sh, which generates the client first.

    PYTHONPATH=<dir with querent_api_client> python scripts/client_smoke.py http://127.0.0.1:PORT
"""

import json
import sys

from querent_api_client import AuthenticatedClient, Client
from querent_api_client.api.auth import auth_login, auth_setup, auth_setup_status
from querent_api_client.api.chat import chat_ask
from querent_api_client.api.connections import connections_list
from querent_api_client.api.sessions import sessions_get
from querent_api_client.models import (
    ChatRequest,
    ChatResponse,
    Dialect,
    ErrorBody,
    LoginRequest,
    MessageStatus,
    SetupRequest,
)


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base_url: str) -> None:
    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    status = auth_setup_status.sync(client=public)
    print("setup needed:", status.needs_setup)

    auth_setup.sync(
        client=public,
        body=SetupRequest(username="admin", password="smoke-test-password"),
    )
    tokens = auth_login.sync(
        client=public,
        body=LoginRequest(username="admin", password="smoke-test-password"),
    )
    if isinstance(tokens, ErrorBody):
        sys.exit(f"login failed: {tokens.code}: {tokens.detail}")
    client = AuthenticatedClient(
        base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True
    )

    page = connections_list.sync(client=client, limit=200)
    names = [c.name for c in page.items]
    print("connections:", names)
    demo = next((c for c in page.items if c.name == "demo"), None)
    if demo is None or demo.dialect != Dialect.SQLITE:
        sys.exit(f"no demo SQLite connection in {names}")

    question = "how many customers are there?"
    answer = chat_ask.sync(
        client=client.with_headers({"Accept": "application/json"}),
        body=ChatRequest(connection_id=demo.id, message=question),
    )
    answer = expect(answer, ChatResponse, "chat (JSON)")
    if answer.status != MessageStatus.EXECUTED or not answer.results.rows:
        sys.exit(f"unexpected answer: {answer.to_dict()}")
    print(f"JSON answer: {answer.query} -> {answer.results.rows}")

    # The default variant is a server-sent event stream (the generated functions read the
    # JSON variant); its `done` event carries the complete ChatResponse, which the generated
    # model reads. Sent through the generated client's HTTP client, with its token.
    raw = client.get_httpx_client().post(
        "/api/v1/chat",
        json=ChatRequest(connection_id=demo.id, message=question).to_dict(),
        headers={"Accept": "text/event-stream"},
    )
    if raw.status_code != 200:
        sys.exit(f"chat (SSE): {raw.status_code} {raw.text}")
    events = []
    for block in raw.text.split("\n\n"):
        lines = [l for l in block.splitlines() if l and not l.startswith(":")]
        if lines:
            event = next(l[6:].strip() for l in lines if l.startswith("event:"))
            data = "".join(l[5:].strip() for l in lines if l.startswith("data:"))
            events.append((event, json.loads(data)))
    if not events or events[-1][0] != "done":
        sys.exit(f"the stream did not end with done: {events}")
    done = ChatResponse.from_dict(events[-1][1])
    print("SSE events:", [e for e, _ in events], "->", done.status.value)
    # The same question again: answered from the semantic cache (and run again).
    if done.status not in (MessageStatus.EXECUTED, MessageStatus.CACHED) or not done.results.rows:
        sys.exit(f"unexpected done: {done.to_dict()}")

    session = sessions_get.sync(client=client, id=done.session_id)
    print("session messages:", len(session.messages))


if __name__ == "__main__":
    main(sys.argv[1])
