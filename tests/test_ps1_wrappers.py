"""The PowerShell wrappers forward every parameter to a flag the Python script accepts.

PowerShell is not installed here, so the .ps1 text is parsed: its param() block, its
``$...FlagFor`` tables (parameter -> flag) and ValidateSet lists are checked against the
target scripts' ``build_parser()``, and a call with every parameter bound is replayed
the way the wrapper builds its command line.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def param_block(text: str) -> str:
    start = re.search(r"^param\s*\(", text, re.M | re.I).end()
    depth, i = 1, start
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start:i - 1]


def ps1_params(path: Path) -> dict[str, dict]:
    """name -> {"type": "int"/"double"/"string"/"switch"/..., "choices": [...] or None, "rest": bool}."""
    params = {}
    for decl in re.split(r",\s*\n", param_block(path.read_text())):
        m = re.search(r"\[(\w+(?:\[\])?)\]\s*\$(\w+)\s*(?:=.*)?$", decl.strip(), re.S)
        assert m, f"{path.name}: cannot read parameter declaration {decl!r}"
        choices = re.search(r"ValidateSet\(([^)]*)\)", decl)
        params[m.group(2)] = {"type": m.group(1).lower(), "rest": "ValueFromRemainingArguments" in decl,
                              "choices": re.findall(r'"([^"]+)"', choices.group(1)) if choices else None}
    return params


def flag_table(path: Path, name: str) -> dict[str, str]:
    m = re.search(rf"\${name}\s*=\s*\[ordered\]@\{{(.*?)\}}", path.read_text(), re.S)
    assert m, f"{path.name}: no ${name} table"
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"(--[\w-]+)"', m.group(1), re.M))


def load_parser(rel: str):
    path = REPO / rel
    assert path.is_file(), f"{rel} not found: the wrapper calls it"
    return importlib.import_module(rel[:-3].replace("/", ".")).build_parser()


def sample_value(info: dict):
    if info["choices"]:
        return info["choices"][-1]
    return {"int": 3, "double": 0.25, "switch": True}.get(info["type"], "some/value")


def forward(table: dict[str, str], bound: dict) -> list[str]:
    """What the wrapper's loop over its table produces for these bound parameters."""
    argv = []
    for name, flag in table.items():
        if name in bound:
            argv += [flag] if bound[name] is True else [flag, str(bound[name])]
    return argv


def check_mapping(ps1: str | Path, tables: dict[str, str], not_forwarded: set[str] = frozenset()):
    """Every parameter is in a table (or declared not forwarded) and every table entry names a real flag."""
    path = Path(ps1) if Path(ps1).is_absolute() else REPO / ps1
    params = ps1_params(path)
    mapped = set()
    for table_name, script in tables.items():
        table = flag_table(path, table_name)
        parser = load_parser(script)
        options = parser._option_string_actions
        for name, flag in table.items():
            assert name in params, f"{ps1}: ${table_name} maps unknown parameter -{name}"
            assert flag in options, f"{ps1}: -{name} -> {flag}, which {script} does not accept"
            action = options[flag]
            if params[name]["choices"]:
                assert set(params[name]["choices"]) == set(action.choices), f"{ps1}: -{name} ValidateSet != {flag} choices"
            if params[name]["type"] == "switch":
                assert action.nargs == 0, f"{ps1}: switch -{name} maps to {flag}, which takes a value"
        # Replay a call with every mapped parameter bound: the target parser takes it as typed.
        bound = {n: sample_value(params[n]) for n in table}
        args = parser.parse_args(forward(table, bound))
        for name, flag in table.items():
            got = getattr(args, options[flag].dest)
            want = bound[name]
            assert got == (want if want is True else options[flag].type(want) if options[flag].type else want), \
                f"{ps1}: -{name} {want!r} arrived as {got!r}"
        mapped |= set(table)
    rest = {n for n, info in params.items() if info["rest"]}
    assert len(rest) <= 1, f"{ps1}: more than one pass-through parameter"
    unmapped = set(params) - mapped - rest - set(not_forwarded)
    assert not unmapped, f"{ps1}: parameters that reach no Python flag: {sorted(unmapped)}"
    return params


def test_run_batch_processor_maps_every_parameter():
    params = check_mapping("run_batch_processor.ps1", {"FlagFor": "utils/batch_processor.py"})
    for required in ("InputFile", "MaxWorkers", "Temperature", "MaxTokens", "Backend", "Model", "OutputDir"):
        assert required in params
    assert params["MaxWorkers"]["type"] == "int" and params["Temperature"]["type"] == "double"


def test_run_batch_processor_forwards_sample_call_end_to_end():
    """-InputFile prompts\\sample_batch.json -MaxWorkers 16 ... parses to the values a user expects."""
    from utils.batch_processor import build_parser

    table = flag_table(REPO / "run_batch_processor.ps1", "FlagFor")
    argv = forward(table, {"InputFile": "prompts/sample_batch.json", "MaxWorkers": 16, "Temperature": 0.7,
                           "MaxTokens": 128, "Backend": "openai", "Provider": "deepseek", "Resume": "latest"})
    args = build_parser().parse_args(argv)
    assert (args.input, args.max_workers, args.temperature, args.max_tokens, args.backend, args.provider,
            args.resume) == ("prompts/sample_batch.json", 16, 0.7, 128, "openai", "deepseek", "latest")


def test_run_with_deepseek_setup_flags():
    check_mapping("run_with_deepseek.ps1", {"SetupFlagFor": "utils/setup_deepseek.py"},
                  not_forwarded={"Dashboard", "Model", "NumPrompts", "Cycles", "Annotator"})


def test_run_with_deepseek_loop_flags():
    """Needs interface/rlhf_loop.py (issue 5): fails loudly until the loop exists with these flags."""
    path = REPO / "run_with_deepseek.ps1"
    check_mapping("run_with_deepseek.ps1", {"LoopFlagFor": "interface/rlhf_loop.py"},
                  not_forwarded={"Dashboard", "CheckOnly"})
    fixed = re.search(r"\$LoopFixedArgs\s*=\s*@\(([^)]*)\)", path.read_text()).group(1)
    args = load_parser("interface/rlhf_loop.py").parse_args(re.findall(r'"([^"]+)"', fixed))
    assert (args.backend, args.provider) == ("openai", "deepseek")
    dash = re.search(r'\$DashboardScript\s*=\s*"([^"]+)"', path.read_text()).group(1)
    assert (REPO / dash).is_file(), f"-Dashboard starts {dash}, which does not exist"


@pytest.mark.parametrize("edit, complaint", [
    (('"--max-workers"', '"--max-worker"'), "does not accept"),
    (('[int]$MaxTokens,', '[int]$MaxTokens,\n    [int]$Orphan,'), "reach no Python flag: ['Orphan']"),
    (('"local", "openai"', '"local", "openai", "vllm"'), "ValidateSet"),
])
def test_mapping_check_catches_mistakes(tmp_path, edit, complaint):
    bad = tmp_path / "run_batch_processor.ps1"
    text = (REPO / "run_batch_processor.ps1").read_text()
    assert edit[0] in text
    bad.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(AssertionError, match=re.escape(complaint)):
        check_mapping(bad, {"FlagFor": "utils/batch_processor.py"})


@pytest.mark.parametrize("ps1", ["run_batch_processor.ps1", "run_with_deepseek.ps1"])
def test_wrappers_stay_simple_and_portable(ps1):
    text = (REPO / ps1).read_text()
    assert "InvariantCulture" in text  # 0.7 must not be forwarded as "0,7" on a localised Windows
    assert "exit $LASTEXITCODE" in text and "$PSScriptRoot" in text
    assert ".SYNOPSIS" in text and ".EXAMPLE" in text
