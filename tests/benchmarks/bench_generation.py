#!/usr/bin/env python3
"""Local generation speed of the embedded SmolLM2 at several batch sizes (tokens/s).

    python tests/benchmarks/bench_generation.py --batch-sizes 1 8 --max-tokens 64 --out gen.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from prompts.generator import GeneratorConfig, generate_template_prompts  # noqa: E402
from utils.backends import BackendConfig, GenParams, get_backend  # noqa: E402
from utils.completions import messages_for  # noqa: E402
from utils.paths import Paths  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--models-dir", default=None, help="where the dequantised cache lives (default models/)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    import torch

    paths = Paths.resolve(models_dir=args.models_dir)
    t0 = time.perf_counter()
    rows = []
    for bs in args.batch_sizes:
        backend = get_backend(BackendConfig(batch_size=bs), paths)
        load_s = time.perf_counter() - t0
        prompts = generate_template_prompts(GeneratorConfig(num_prompts=bs, seed=5), set())
        msgs = [messages_for(x["text"], "You are a helpful assistant.") for x in prompts]
        params = [GenParams(temperature=0.7, max_tokens=args.max_tokens, seed=0)] * len(msgs)
        backend.generate(msgs[:1], params[:1])  # warm-up
        start, cpu = time.perf_counter(), time.process_time()
        gens = backend.generate(msgs, params)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        toks = sum(g.usage["completion_tokens"] for g in gens)
        rows.append({"batch_size": bs, "tokens": toks, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                     "tokens_per_s": round(toks / wall, 1), "load_seconds": round(load_s, 1),
                     "threads": torch.get_num_threads()})
        t0 = time.perf_counter()
    print(f"{'batch':>5} {'tokens':>7} {'seconds':>8} {'tokens/s':>9}")
    for r in rows:
        print(f"{r['batch_size']:>5} {r['tokens']:>7} {r['seconds']:>8} {r['tokens_per_s']:>9}")
    if args.out:
        Path(args.out).write_text(json.dumps({"model": backend.model_name, "results": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
