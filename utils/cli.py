"""Shared command-line plumbing: dataclass-driven flags, path flags, one-line errors.

Every script is ``build_parser()`` + ``main(argv=None) -> int``; ``main`` wraps its body
in :func:`run_cli`, which turns :class:`UserError` (and the store's record errors) into
one line on stderr and exit code 2, and Ctrl-C into exit code 130.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import typing
from typing import Any, Callable

# Nothing in this project may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("rlhf_loop")


class UserError(Exception):
    """A mistake the user can fix: bad flag, bad input file, missing model.

    The message is shown as-is on one line, so it should name the bad value and the fix.
    """


def field(default: Any = dataclasses.MISSING, help: str = "", *, default_factory: Any = dataclasses.MISSING,
          choices: Any = None, flag: str | None = None, cli: bool = True):
    """A dataclass field carrying its argparse help (and optional choices / flag name)."""
    meta = {"help": help, "choices": choices, "flag": flag, "cli": cli}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _flag_name(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def add_config_args(parser: argparse.ArgumentParser, config_cls: type, group: str | None = None,
                    exclude: tuple[str, ...] = ()) -> None:
    """Add one ``--flag`` per dataclass field, with the field's default and help."""
    target = parser.add_argument_group(group) if group else parser
    hints = typing.get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        if f.name in exclude or not f.metadata.get("cli", True):
            continue
        typ = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        kwargs: dict[str, Any] = {"dest": f.name, "default": default, "help": f.metadata.get("help", "")}
        origin = typing.get_origin(typ)
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
            typ, origin = args[0], typing.get_origin(args[0])
        if typ is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin in (list, tuple):
            kwargs["nargs"] = "+"
            kwargs["type"] = (typing.get_args(typ) or (str,))[0]
        else:
            kwargs["type"] = typ if typ in (int, float, str) else str
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        if default not in (None, False, "", [], ()) and "%(default)" not in kwargs["help"]:
            kwargs["help"] += " (default: %(default)s)"
        target.add_argument(_flag_name(f), **kwargs)


def config_from_args(config_cls: type, args: argparse.Namespace, **overrides: Any):
    """Build the dataclass from parsed args (fields missing from args keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_cls) if hasattr(args, f.name)}
    values.update(overrides)
    try:
        cfg = config_cls(**values)
    except (TypeError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    return cfg


def add_path_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("locations")
    g.add_argument("--root", default=None, help="move every data/models/prompts file under this folder (env RLHF_HOME)")
    g.add_argument("--data-dir", default=None, help="folder for JSONL data files (default: ROOT/data, env RLHF_DATA_DIR)")
    g.add_argument("--models-dir", default=None, help="folder for checkpoints and logs (default: ROOT/models, env RLHF_MODELS_DIR)")


def script_parser(doc: str | None, *configs, paths: bool = True) -> argparse.ArgumentParser:
    """The parser every step script starts from.

    ``doc`` is the module docstring: its first line is the description and the rest (the
    example invocations) the epilog. Each of ``configs`` is a dataclass or ``(dataclass,
    group title)``; then come the location flags and -q/-v. Scripts add their extra
    flags to the returned parser.
    """
    head, _, rest = (doc or "").strip().partition("\n")
    parser = argparse.ArgumentParser(description=head, epilog=rest.strip() or None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for cfg in configs:
        cls, group = cfg if isinstance(cfg, tuple) else (cfg, None)
        add_config_args(parser, cls, group=group)
    if paths:
        add_path_args(parser)
    add_verbosity_args(parser)
    return parser


def add_verbosity_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (tests swap it), not the one at creation."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def setup_logging(args: argparse.Namespace | None = None) -> None:
    """One stderr handler on the project's logger; other loggers keep their handlers."""
    level = logging.INFO
    if args is not None and getattr(args, "quiet", False):
        level = logging.WARNING
    if args is not None and getattr(args, "verbose", False):
        level = logging.DEBUG
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        log.addHandler(handler)
    log.setLevel(level)
    for noisy in ("httpx", "httpx2", "httpcore", "openai", "urllib3", "transformers", "filelock", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run_cli(body: Callable[[], int | None], prog: str | None = None) -> int:
    """Run a CLI body; user mistakes become one stderr line and a non-zero exit."""
    from utils.store import RecordError  # local: store imports cli for UserError

    prog = prog or os.path.basename(sys.argv[0] or "rlhf_loop")
    try:
        rc = body()
        return 0 if rc is None else int(rc)
    except (UserError, RecordError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"{prog}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; everything written so far is kept, rerun to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
