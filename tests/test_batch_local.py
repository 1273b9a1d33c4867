"""--backend local: the batch runs on the embedded-model path, batched on the model (tiny model)."""
from __future__ import annotations

import json

import pytest

from utils.batch_processor import main


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory):
    """A 1-layer Llama with the MiniLM tokenizer and a minimal chat template: loads and generates in seconds."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from utils.model_files import minilm_path

    torch.set_num_threads(1)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny_chat")
    # A BERT tokenizer adds token_type_ids, which a causal LM's generate() refuses.
    tok = AutoTokenizer.from_pretrained(minilm_path(), model_input_names=["input_ids", "attention_mask"])
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                         "{% if add_generation_prompt %}assistant:{% endif %}")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id, bos_token_id=tok.cls_token_id)
    LlamaForCausalLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def test_local_backend_batched(rlhf_home, tmp_path, tiny_chat_model, capsys):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"system_prompt": "Be brief.", "prompts": [
        {"id": f"q{i}", "prompt": f"Say something about number {i}."} for i in range(5)] + [
        {"id": "greedy", "prompt": "Override me.", "temperature": 0, "max_tokens": 3}]}))
    rc = main(["--input", str(f), "--backend", "local", "--model", str(tiny_chat_model), "--batch-size", "4",
               "--max-tokens", "5", "--device", "cpu", "-q"])
    assert rc == 0, capsys.readouterr().err
    run = next((rlhf_home / "data" / "batch_results").iterdir())
    results = json.loads((run / "results.json").read_text())
    assert [r["id"] for r in results] == ["q0", "q1", "q2", "q3", "q4", "greedy"]
    assert all(r["status"] == "ok" and r["backend"] == "local" for r in results)
    assert all(0 < r["usage"]["completion_tokens"] <= 5 for r in results if r["finish_reason"] == "length")
    greedy = results[-1]
    assert greedy["params"]["temperature"] == 0 and greedy["params"]["max_tokens"] == 3
    assert greedy["usage"]["completion_tokens"] <= 3
    summary = json.loads((run / "summary.json").read_text())
    assert summary["ok"] == 6 and summary["backend"] == "local" and summary["model"] == tiny_chat_model.name
    # Resume: nothing left to do, nothing duplicated.
    assert main(["--resume", str(run), "-q"]) == 0
    assert len((run / "results.jsonl").read_text().splitlines()) == 6
