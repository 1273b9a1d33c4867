"""Helpers for the RLHF loop tests: a tiny base model and a chat server that also judges."""
from __future__ import annotations

import re
import time

import pytest

from tests.openai_server import ChatServer


def loop_args(*argv: str):
    """(LoopConfig, parsed args) for run_loop, exactly as the command line builds them."""
    from interface.rlhf_loop import LoopConfig, build_parser
    from utils.cli import config_from_args
    args = build_parser().parse_args(list(argv))
    return config_from_args(LoopConfig, args), args


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A 2-layer, 32-wide BERT saved as a local HF folder (the vote predictor's base model)."""
    from tests.vote_predictor_helpers import make_tiny_base
    return make_tiny_base(tmp_path_factory.mktemp("tiny_bert"))


class JudgingChatServer(ChatServer):
    """The project's test chat server; judge requests get a verdict: the response that sorts first wins.

    The rule does not depend on the order of the responses, so the position-swapped second
    question agrees with the first; ``position_bias`` makes the judge always answer "A"
    instead (pure position bias), which the loop must turn into ties.
    """

    def __init__(self, position_bias: bool = False, **kw):
        super().__init__(**kw)
        self.position_bias = position_bias
        self.judged = 0

    def _chat(self, handler, body):
        prompt = next((m.get("content", "") for m in reversed(body.get("messages") or []) if m.get("role") == "user"), "")
        m = re.search(r"\[Response A\]\n(.*)\n\n\[Response B\]\n(.*)\n\nReply with", prompt, re.S)
        if m is None:
            return super()._chat(handler, body)
        with self._lock:
            self.judged += 1
        verdict = "A" if self.position_bias or (len(m.group(1)), m.group(1)) <= (len(m.group(2)), m.group(2)) else "B"
        return self._send(handler, 200, {
            "id": "chatcmpl-judge", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"**{verdict}**"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 1, "total_tokens": 1}})
