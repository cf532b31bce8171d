"""A loopback HTTP server that speaks the few Hugging Face Hub endpoints planner uses.

``GET /api/models/<org>/<name>[/revision/<rev>]`` (model info: commit and file list) and
``GET|HEAD /<org>/<name>/resolve/<rev>/<file>`` with ``Range`` support. The real
``huggingface_hub`` client talks to it through ``HF_ENDPOINT``; every request and the bytes
sent are recorded so tests can check that only configs and safetensors headers were read.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Repo:
    files: dict[str, bytes]
    sha: str = "0123456789abcdef0123456789abcdef01234567"
    ranges: bool = True
    """False: ignore Range headers and send whole files (as some proxies do)."""


@dataclass
class Hub:
    repos: dict[str, Repo]
    requests: list[str] = field(default_factory=list)
    sent: dict[str, int] = field(default_factory=dict)
    url: str = ""


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            hub.requests.append(f"{self.command} {self.path}")
            path = self.path.split("?", 1)[0]
            m = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/(.+))?$", path)
            if m:
                repo = hub.repos.get(m.group(1))
                if repo is None:
                    return self._send(404, b'{"error":"Repository not found"}')
                info = {
                    "id": m.group(1),
                    "modelId": m.group(1),
                    "sha": repo.sha,
                    "private": False,
                    "siblings": [{"rfilename": n} for n in repo.files],
                }
                body = json.dumps(info).encode()
                return self._send(200, body, {"Content-Type": "application/json"})
            m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
            if m and m.group(1) in hub.repos and m.group(3) in hub.repos[m.group(1)].files:
                data = hub.repos[m.group(1)].files[m.group(3)]
                headers = {"ETag": '"etag"', "X-Repo-Commit": hub.repos[m.group(1)].sha}
                rng = re.match(r"bytes=(\d+)-(\d+)$", self.headers.get("Range", ""))
                if not hub.repos[m.group(1)].ranges:
                    rng = None
                if rng:
                    start, end = int(rng.group(1)), min(int(rng.group(2)), len(data) - 1)
                    part = data[start : end + 1]
                    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                    hub.sent[m.group(3)] = hub.sent.get(m.group(3), 0) + len(part)
                    return self._send(206, part, headers)
                hub.sent[m.group(3)] = hub.sent.get(m.group(3), 0) + len(data)
                return self._send(200, data, headers)
            missing = {"X-Error-Code": "EntryNotFound"}
            return self._send(404, b'{"error":"Entry not found"}', missing)

    return Handler


@contextmanager
def serve(repos: dict[str, Repo]) -> Iterator[Hub]:
    """Serve ``repos`` on 127.0.0.1 (a free port) for the duration of the block."""
    hub = Hub(repos)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
