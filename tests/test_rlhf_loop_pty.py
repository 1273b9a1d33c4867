"""`make run`'s path in a real pseudo-terminal: default flags, the real SmolLM2, a person voting."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pexpect

from interface.loop_state import read_history
from utils.store import read_records

LOOP = str(Path(__file__).resolve().parents[1] / "interface" / "rlhf_loop.py")
# The dequantised SmolLM2 (about 0.5 GB, a minute or more to build) is kept between test runs
# in the system temp folder, outside the repo; the backend checks it against the GGUF's size
# and mtime and rebuilds it (atomically, via a .partial folder) when it does not match.
SHARED_LLM_CACHE = Path(tempfile.gettempdir()) / "rlhf_loop_test_cache" / "local_llm"


def test_default_run_reaches_the_vote_and_finishes_the_cycle(paths):
    SHARED_LLM_CACHE.mkdir(parents=True, exist_ok=True)
    paths.local_llm_cache.symlink_to(SHARED_LLM_CACHE, target_is_directory=True)
    # Default flags except a smaller cycle: 1 prompt, 8 new tokens (the first use of SmolLM2
    # dequantises its GGUF into models/local_llm/, about a minute on a busy 2-core machine).
    child = pexpect.spawn(sys.executable, [LOOP, "--num-prompts", "1", "--max-tokens", "8", "--annotator-name", "tester"],
                          encoding="utf-8", timeout=600, dimensions=(40, 120), env=dict(os.environ))
    try:
        child.expect(r"1/12 prompts\s+1 new prompts")
        child.expect(r"2/12 completions\s+2 completions generated")
        child.expect(r"no checkpoint yet: every pair goes to a human")
        child.expect(r"Pair 1 of 1")                     # the voting screen, with the pair
        child.expect(r"\[1/a\] first  \[2/b\] second")   # ... and its key line: waiting for a key
        child.send("1")
        child.expect(r"cycle 1 summary", timeout=120)
        child.expect(r"no\s*\r?\n.*none yet", timeout=30)  # retrained: no; model version: none yet
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    votes = read_records(paths.votes, "vote")
    assert len(votes) == 1 and votes[0]["annotator"] == "tester" and votes[0]["annotator_type"] == "human"
    comps = read_records(paths.completions, "completion")
    assert len(comps) == 2 and {c["model"] for c in comps} == {"SmolLM2-135M-Instruct"}
    h = read_history(paths)
    assert len(h) == 1 and h[0]["pairs"] == 1 and h[0]["to_human"] == 1 and h[0]["retrained"] is False
