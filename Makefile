# Key-account care: `make run` starts the product on embedded defaults, `make test` runs every test.
# Each target installs only what is missing: the venv is rebuilt only when requirements.txt changes,
# the assistant is retrained only when its data or config changed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
MODEL := models/keycare.tar.gz
BASE_PYTHON ?= $(shell pyenv which python 2>/dev/null || command -v python3.10)
CUSTOMERS ?= 200
PYTEST_ARGS ?=
BENCH_ARGS ?=
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

SYSTEM_PACKAGES := fonts-noto-cjk chromium nodejs npm redis-server haproxy
CHAT_CLIENT := node_modules/socket.io-client/dist/socket.io.min.js
.PHONY: venv system-deps chat-client run cluster shell test test-bot lint validate train seed nlu-report loc import-templates bench-import bench-kpis bench-select bench-churn bench-dispatch bench-bot bench-long-chat drills cluster-drills check-env clean

venv: $(STAMP)

# Debian packages the product needs outside Python: a CJK font (charts, console screenshots),
# Chromium for the browser tests (driven by Playwright with executable_path; never `playwright install`)
# Node.js with npm for the chat page's socket.io client (a Node.js that brings its own npm will do), and
# Redis and HAProxy for `make cluster` (each cluster runs its own Redis; Debian's stays on 6379).
system-deps:
	@missing="$$(for p in $(SYSTEM_PACKAGES); do \
		case $$p in nodejs) command -v node >/dev/null && continue;; npm) command -v npm >/dev/null && continue;; esac; \
		dpkg -s $$p >/dev/null 2>&1 || echo $$p; done)"; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing Debian packages:" $$missing; \
		$$sudo apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): requirements.txt .python-version
	@test -n "$(BASE_PYTHON)" || { echo "Python 3.10 not found: install it with pyenv (see .python-version)"; exit 1; }
	@$(BASE_PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 10), f"need Python 3.10, got {sys.version}"'
	@test -x $(PY) || $(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip check
	@touch $(STAMP)

# The web chat page's socket.io client, from the npm registry at the version package-lock.json pins.
chat-client: $(CHAT_CLIENT)

$(CHAT_CLIENT): package.json package-lock.json | system-deps
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(CHAT_CLIENT)

run: venv system-deps chat-client
	$(PY) -m localrun.supervisor

# Past one machine, on this one: 3-member replica set, Redis lock store, 2 Rasa, 2 action and 2 care
# services behind HAProxy (docs/cluster.md). `make run` stays the one-process default.
cluster: venv system-deps chat-client
	$(PY) -m localrun.cluster

shell: venv
	$(PY) -m localrun.supervisor --shell

validate: venv
	$(RASA) data validate --domain domain --data data

# Rasa compares fingerprints: this is quick when nothing changed.
train: venv
	$(RASA) train --domain domain --data data --config config.yml --out models --fixed-model-name keycare

test-bot: validate train
	@mkdir -p results
	@echo "rasa test core --fail-on-prediction-errors (tests/test_stories.yml), with the product's Rasa fixes"
	@$(PY) -m bot test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors \
		--out results/core > results/rasa-test-core.log 2>&1 || { tail -60 results/rasa-test-core.log; exit 1; }
	@grep -E "Evaluating [0-9]+ stories|Correct:|Accuracy:" results/rasa-test-core.log | head -3 | sed 's/.*rasa.core.test  - //'

test: system-deps chat-client test-bot
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .

seed: venv
	$(PY) -m localrun.seed --customers $(CUSTOMERS)

nlu-report: venv
	$(PY) -m tools.nlu_report

# The import templates under docs/import/ (CSV and XLSX, English and Chinese headers).
import-templates: venv
	$(PY) -m tools.import_templates

# Lines of product code (tests and benchmarks not counted).
loc:
	@find carecore care_scheduler actions bot localrun -name '*.py' -exec cat {} + | wc -l

# Benchmarks print their figures and write results/*.json; none is part of `make test`.
bench-select: venv
	$(PY) benchmarks/bench_select.py

bench-import: venv
	$(PY) benchmarks/bench_import.py $(BENCH_ARGS)

# KPIs: group's figures over 200,000 accounts, 100,000 tickets and 5,000,000 messages (goal <= 2 s).
bench-kpis: venv
	$(PY) benchmarks/bench_kpis.py $(BENCH_ARGS)

# The churn watch for group and one province over 200,000 accounts' year of bills (no goal).
bench-churn: venv
	$(PY) benchmarks/bench_churn.py $(BENCH_ARGS)

bench-dispatch: venv
	$(PY) benchmarks/bench_dispatch.py

# Bot latency against a bare Rasa baseline it builds and trains in a temporary folder.
bench-bot: venv train
	$(PY) benchmarks/bench_bot.py $(BENCH_ARGS)

# One 120-turn chat: median round trip of turns 111-120 over turns 1-10 (goal <= 1.5), and what MongoDB keeps.
bench-long-chat: venv train chat-client
	$(PY) benchmarks/bench_long_chat.py $(BENCH_ARGS)

# Fault drills: each prints PASS/FAIL with its counts (results/drills.json); exit 1 if any fails.
drills: venv train
	$(PY) benchmarks/drills.py

# Failover drills on `make cluster`'s topology (results/cluster-drills.json); exit 1 if any fails.
cluster-drills: venv system-deps train
	$(PY) benchmarks/cluster_drills.py $(BENCH_ARGS)

check-env: venv
	$(PY) -m pip check

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .rasa models results node_modules
