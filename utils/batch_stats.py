"""The numbers of a batch run (counts, tokens, latency percentiles, throughput, cost); no I/O."""
from __future__ import annotations

import re
from collections import Counter

_ATTEMPTS = re.compile(r"after (\d+) attempt")


def attempts_of(rec: dict) -> int:
    """Attempts behind a result; failed ones carry the count in their error message."""
    if rec.get("attempts"):
        return int(rec["attempts"])
    m = _ATTEMPTS.search(rec.get("error") or "")
    return int(m.group(1)) if m else 1


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), ``q`` in 0-100; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize(results: list[dict], total: int, wall_s: float, processed: int,
              price_input: float | None = None, price_output: float | None = None) -> dict:
    """Summary of the final results (one per id).

    ``total``: prompts in the input; ``processed``: results produced by this invocation
    (throughput = processed / wall_s); prices are USD per million tokens.
    """
    ok = [r for r in results if r.get("status") == "ok"]
    failed = [r for r in results if r.get("status") != "ok"]
    p_tok = sum((r.get("usage") or {}).get("prompt_tokens") or 0 for r in ok)
    c_tok = sum((r.get("usage") or {}).get("completion_tokens") or 0 for r in ok)
    lat = [float(r["latency_s"]) for r in ok if r.get("latency_s") is not None]
    summary = {
        "total": total, "ok": len(ok), "failed": len(failed), "pending": total - len(ok) - len(failed),
        "tokens": {"prompt": p_tok, "completion": c_tok, "total": p_tok + c_tok},
        "latency_s": {"p50": _round(percentile(lat, 50)), "p95": _round(percentile(lat, 95)),
                      "mean": _round(sum(lat) / len(lat) if lat else None)},
        "wall_s": round(wall_s, 3),
        "processed": processed,
        "throughput_rps": round(processed / wall_s, 3) if wall_s > 0 else None,
        "retried": sum(attempts_of(r) - 1 for r in results),
        "failed_ids": [r["id"] for r in failed],
        "errors": dict(Counter(_error_kind(r.get("error")) for r in failed).most_common(10)),
        "cost_usd": None,
    }
    if price_input is not None or price_output is not None:
        summary["cost_usd"] = round(p_tok / 1e6 * (price_input or 0.0) + c_tok / 1e6 * (price_output or 0.0), 6)
        summary["prices_usd_per_1m"] = {"input": price_input, "output": price_output}
    return summary


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _error_kind(err: str | None) -> str:
    """Group errors by what happened, not by which prompt: drop the endpoint and attempt count."""
    text = (err or "unknown").split(": ", 1)[-1]
    return _ATTEMPTS.sub("after N attempt", text)[:120]
