# 社区服务助手 — `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := $(PY) -m rasa
TRAIN_INPUTS := config.yml community/textnorm.py community/dialect.py $(shell find domain nlu_data nlu_components -type f -name "*.y*ml" -o -type f -name "*.py" -o -type f -name "*.txt" 2>/dev/null | sort)
MODEL := models/community.tar.gz
# The residents' outcome sets `make eval` reads besides nlu_data_holdout/residents.yml, oldest first.
OUTCOME_SETS := fresh gaps fresh2 dev3 fresh3 fresh4 dev5 fresh5 fresh6 fresh7 fresh8 fresh9 fresh10 fresh11 fresh12 fresh13 fresh14 fresh15 fresh16 fresh17 fresh18 fresh19 fresh20 fresh21 fresh22 fresh23 fresh24 fresh25 fresh26 fresh27 fresh28
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONWARNINGS := ignore
# pytest-xdist workers for `make test`: one test file per worker at a time (the end-to-end files
# start their own servers on free ports, so two run side by side).
TEST_WORKERS ?= 2

.PHONY: help install run train test test-fast lint eval bench validate voice-model kiosk clean \
	run-cluster loadtest validate-deploy

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: .venv/bin/python ## Create (or link) the Python 3.10 environment; install espeak-ng, ffmpeg
.venv/bin/python: requirements.txt requirements.lock tools/ensure_venv.sh
	@bash tools/ensure_system_packages.sh
	@bash tools/ensure_venv.sh
	@touch -h .venv

$(MODEL): $(TRAIN_INPUTS) | .venv/bin/python
	$(RASA) train --config config.yml --domain domain --data nlu_data \
	  --out models --fixed-model-name community --force
	@touch $(MODEL)

train: install $(MODEL) ## Train the model when training data, domain or config changed

run: install $(MODEL) ## Run everything (Rasa 5005, actions 5055, web chat 8000); Ctrl-C stops all
	@bash tools/fetch_voice_model.sh --optional
	$(PY) -m bot

run-cluster: install $(MODEL) ## Rasa x2 + actions x2 behind HAProxy on 5005/5055, PostgreSQL, Redis locks, model server
	$(PY) -m bot.cluster

test: install $(MODEL) ## Run all tests (pytest, rasa data validate, test stories, end to end, browser)
	@sh tools/ensure_axe.sh
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --max-worker-restart=0

test-fast: install ## Unit tests only (tests/unit, no model, no servers)
	$(PY) -m pytest tests/unit -m "not slow"

validate: install ## Check training data and domain
	$(RASA) data validate --config config.yml --domain domain --data nlu_data

lint: install ## ruff
	$(PY) -m ruff check .

eval: install $(MODEL) ## Held-out NLU evaluation + residents' outcomes end to end (per domain, per style) + SMP2017
	$(PY) -m tools.eval_nlu
	$(PY) -m tools.eval_outcomes
	set -e; for set in $(OUTCOME_SETS); do $(PY) -m tools.eval_outcomes --holdout nlu_data_holdout/$$set; done
	$(PY) -m tools.eval_faq
	$(PY) -m tools.eval_smp2017

bench: install $(MODEL) ## Turn cost over a long conversation; latency, throughput, training time, cold start, memory
	$(PY) -m tools.turn_cost
	$(PY) -m tools.bench
	$(PY) -m tools.bench_voice
	$(PY) -m tools.bench_phone

loadtest: install $(MODEL) ## locust: make run vs make run-cluster (closed-loop capacity, open-loop p50/p95/p99, a replica killed)
	@bash tools/ensure_system_packages.sh
	$(PY) -m tools.loadtest

validate-deploy: ## Check deploy/: Kubernetes manifests (kubernetes-validate, in .venv-tools), HAProxy and Compose files
	@test -x .venv-tools/bin/kubernetes-validate || { python3 -m venv .venv-tools && \
	  .venv-tools/bin/pip install --quiet -r tools/requirements-deploy.txt; }
	.venv-tools/bin/kubernetes-validate --strict deploy/kubernetes/*.yaml
	haproxy -c -q -f deploy/compose-haproxy.cfg 2>&1 | grep -v "could not resolve" || true
	$(PY) -c "import yaml; [yaml.safe_load(open(f)) for f in ('deploy/compose.yaml', 'deploy/compose-endpoints.yml')]"

voice-model: ## Download Vosk's Chinese model (needs internet; checks its sha256) into var/models/ (make run tries too)
	bash tools/fetch_voice_model.sh

kiosk: install ## Run the voice kiosk (microphone and speaker; see --help for files and keys)
	$(PY) -m voice

clean: ## Remove models and local state
	rm -rf models var results
