"""The batch engine: many prompts through one backend, each result appended as it arrives.

The ``openai`` backend runs ``complete()`` on ``max_workers`` threads (a bounded window of
in-flight requests, so memory stays flat for huge inputs) behind an optional token
bucket; the ``local`` backend generates ``batch_size`` prompts at a time on the model.
A prompt whose request still fails after the backend's retries becomes a ``failed``
record with its error. Only a rejected API key stops the batch: every other prompt would
fail the same way.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable

from utils.backends import BackendError, Generation, GenParams
from utils.batch_io import BatchItem, load_results, write_outputs
from utils.batch_stats import summarize
from utils.rate_limit import RateLimiter, estimate_tokens
from utils.store import append_records, utc_now

log = logging.getLogger("rlhf_loop.batch")


def shared_client_backend(cfg):
    """The OpenAI backend for a batch (its worker threads share one pooled HTTP client)."""
    from utils.backends.openai_backend import OpenAIBackend

    return OpenAIBackend(cfg.resolved())


def item_params(item: BatchItem, base: GenParams) -> GenParams:
    """The item's per-prompt overrides on top of the run's parameters."""
    return replace(base, **{k: v for k, v in item.overrides.items() if k != "model"})


def make_result(item: BatchItem, params: GenParams, backend: str, model: str, run_id: str,
                gen: Generation | None = None, error: str | None = None) -> dict:
    rec = {"id": item.id, "status": "ok" if error is None else "failed", "prompt": item.prompt,
           "system_prompt": item.system_prompt, "text": gen.text if gen else "", "error": error,
           "model": gen.model if gen else model, "backend": backend, "params": asdict(params),
           "usage": gen.usage if gen else {}, "latency_s": round(gen.latency_s, 4) if gen else None,
           "attempts": gen.attempts if gen else None, "finish_reason": gen.finish_reason if gen else None,
           "run_id": run_id, "created_at": utc_now()}
    if item.metadata:
        rec["metadata"] = item.metadata
    return rec


def _auth_error(exc: BaseException) -> bool:
    cause = exc.__cause__
    return cause is not None and type(cause).__name__ in ("AuthenticationError", "PermissionDeniedError")


def _threads(items, backend, base, run_id, limiter: RateLimiter, max_workers: int,
             emit: Callable[[list[dict]], None]):
    model = backend.model_name

    def one(item: BatchItem) -> dict:
        params = item_params(item, base)
        est = estimate_tokens((item.system_prompt or "") + item.prompt, params.max_tokens)
        limiter.acquire(est)
        try:
            gen = backend.complete(item.messages(), params, model=item.overrides.get("model"))
        except BackendError as exc:
            if _auth_error(exc):
                raise
            limiter.settle(est, est)
            return make_result(item, params, "openai", item.overrides.get("model", model), run_id, error=str(exc))
        limiter.settle(est, sum(v or 0 for v in gen.usage.values()) if gen.usage else None)
        return make_result(item, params, "openai", model, run_id, gen=gen)

    # Each worker builds its HTTP client before the first request, not in the middle of the batch.
    pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="batch",
                              initializer=lambda: getattr(backend, "client", None))
    queue = iter(items)
    pending: set = set()
    try:
        while True:
            for item in queue:
                pending.add(pool.submit(one, item))
                if len(pending) >= 2 * max_workers:
                    break
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            emit([fut.result() for fut in done])  # one locked+fsynced append for all that finished
    finally:
        # Ctrl-C or a bad key: drop what has not started; requests in flight end on their own.
        pool.shutdown(wait=False, cancel_futures=True)


def _local(items, backend, base, run_id, emit: Callable[[list[dict]], None]):
    size = max(1, getattr(getattr(backend, "cfg", None), "batch_size", 4))
    for s in range(0, len(items), size):
        chunk = items[s:s + size]
        params = [item_params(i, base) for i in chunk]
        gens = backend.generate([i.messages() for i in chunk], params)
        emit([make_result(item, p, "local", backend.model_name, run_id, gen=g) for item, p, g in zip(chunk, params, gens)])


def run_batch(items: list[BatchItem], backend, base: GenParams, results_path: str | Path, run_id: str = "",
              rpm: float | None = None, tpm: float | None = None, max_workers: int = 4,
              progress: bool = False) -> list[dict]:
    """Process ``items``; append each result to ``results_path`` the moment it exists.

    Returns this call's results in completion order. Ctrl-C (KeyboardInterrupt) propagates
    after everything finished so far is on disk.
    """
    from tqdm import tqdm

    out: list[dict] = []
    counts = {"ok": 0, "failed": 0}
    start = time.perf_counter()
    bar = tqdm(total=len(items), desc=f"{backend.name}:{backend.model_name}", unit="req", disable=not progress,
               dynamic_ncols=True)

    def emit(recs: list[dict]) -> None:
        append_records(results_path, recs)
        out.extend(recs)
        for rec in recs:
            counts[rec["status"]] += 1
            if rec["status"] != "ok":
                log.warning("prompt %s failed: %s", rec["id"], rec["error"])
        bar.update(len(recs))
        bar.set_postfix(ok=counts["ok"], failed=counts["failed"],
                        rps=f"{len(out) / max(time.perf_counter() - start, 1e-9):.1f}", refresh=False)

    try:
        if backend.name == "local":
            _local(items, backend, base, run_id, emit)
        else:
            _threads(items, backend, base, run_id, RateLimiter(rpm, tpm), max_workers, emit)
    finally:
        bar.close()
    return out


def process_batch(items: list[BatchItem], backend, base: GenParams, run_dir: str | Path, run_id: str = "",
                  rpm: float | None = None, tpm: float | None = None, max_workers: int = 4,
                  progress: bool = False, price_input: float | None = None,
                  price_output: float | None = None) -> dict:
    """Resumable batch into ``run_dir``: skip ids already ``ok`` there, run the rest, write outputs.

    Returns the summary (also written to summary.json). The outputs are written even when
    interrupted, marked ``"interrupted": true``, and the interruption is re-raised.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    done = load_results(run_dir)
    todo = [i for i in items if done.get(i.id, {}).get("status") != "ok"]
    if len(todo) < len(items):
        log.info("resuming %s: %d of %d prompts already done", run_dir, len(items) - len(todo), len(items))
    start = time.perf_counter()
    processed: list[dict] = []
    interrupted = True
    try:
        processed = run_batch(todo, backend, base, run_dir / "results.jsonl", run_id or run_dir.name,
                              rpm, tpm, max_workers, progress)
        interrupted = False
    finally:
        wall = time.perf_counter() - start
        latest = load_results(run_dir)
        results = [latest[i.id] for i in items if i.id in latest]
        n_now = len(processed) if not interrupted else sum(
            1 for i in todo if latest.get(i.id, {}).get("created_at", "") > done.get(i.id, {}).get("created_at", ""))
        summary = summarize(results, len(items), wall, n_now, price_input, price_output)
        summary.update({"run_dir": str(run_dir), "backend": backend.name, "model": backend.model_name,
                        "skipped_done": len(items) - len(todo), "interrupted": interrupted,
                        "finished_at": utc_now()})
        write_outputs(run_dir, results, summary)
    return summary
