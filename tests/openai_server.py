"""A real OpenAI-compatible HTTP server for tests and benchmarks, on 127.0.0.1.

It speaks ``POST /v1/chat/completions`` and ``GET /v1/models`` and can be told to be slow
(``latency``), to fail a share of requests transiently (``fail_rate``: 429 with
Retry-After, 500, or a dropped connection, in turn), to fail specific prompts forever
(``always_fail`` substrings), or to demand an API key (``api_key``).

    with ChatServer(latency=0.05, fail_rate=0.1) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="x")
"""
from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ChatServer:
    def __init__(self, latency: float = 0.0, fail_rate: float = 0.0, always_fail: tuple[str, ...] = (),
                 api_key: str | None = None, retry_after: float = 0.01, seed: int = 0, model: str = "fake-chat"):
        self.latency, self.fail_rate, self.always_fail = latency, fail_rate, always_fail
        self.api_key, self.retry_after, self.model = api_key, retry_after, model
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0        # every request that reached the handler
        self.failures = 0        # injected failures
        self.failed_kinds: list[str] = []
        self.prompts_seen: list[str] = []
        self.auth_headers: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> "ChatServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY like real servers: headers and body go out as two writes, and with
            # Nagle + the client's delayed ACK every response would stall ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    if not server._authorised(self):
                        return server._send(self, 401, {"error": {"message": "Incorrect API key", "type": "auth"}})
                    return server._send(self, 200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                server._send(self, 404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server._chat(self, body)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients that time out and hang up are expected here; keep stderr clean

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    # -- behaviour ---------------------------------------------------------------------
    def _authorised(self, handler) -> bool:
        auth = handler.headers.get("authorization", "")
        with self._lock:
            self.auth_headers.append(auth)
        return self.api_key is None or auth == f"Bearer {self.api_key}"

    @staticmethod
    def _send(handler, status: int, payload: dict, headers: dict | None = None):
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    def _chat(self, handler, body: dict):
        if not self._authorised(handler):
            return self._send(handler, 401, {"error": {"message": "Incorrect API key provided", "type": "auth"}})
        messages = body.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        with self._lock:
            self.requests += 1
            self.prompts_seen.append(prompt)
            fail = self._rng.random() < self.fail_rate
            kind = ("429", "500", "drop")[self.failures % 3] if fail else None
            if fail:
                self.failures += 1
                self.failed_kinds.append(kind)
        if self.latency:
            time.sleep(self.latency)
        if any(s in prompt for s in self.always_fail):
            return self._send(handler, 500, {"error": {"message": "permanent failure for this prompt"}})
        if kind == "429":
            return self._send(handler, 429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                              {"retry-after": str(self.retry_after)})
        if kind == "500":
            return self._send(handler, 500, {"error": {"message": "internal error"}})
        if kind == "drop":
            handler.close_connection = True
            handler.connection.shutdown(2)  # reset without a response
            return
        temp = body.get("temperature", 1.0)
        digest = hashlib.sha1(f"{prompt}|{temp}|{body.get('seed')}".encode()).hexdigest()[:8]
        text = f"Answer ({digest}) to: {prompt[:60]}"
        max_tokens = int(body.get("max_tokens") or 256)
        words = text.split()
        finish = "stop"
        if len(words) > max_tokens:
            text, finish = " ".join(words[:max_tokens]), "length"
        self._send(handler, 200, {
            "id": f"chatcmpl-{digest}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()),
                      "total_tokens": len(prompt.split()) + len(text.split())},
        })
