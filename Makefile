# One entry point for every workflow. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
# The stacks hold no secrets: an empty passphrase unless you set one (the CLI prefers this variable, even empty,
# over PULUMI_CONFIG_PASSPHRASE_FILE, so leave it unset when that is set).
ifeq ($(origin PULUMI_CONFIG_PASSPHRASE_FILE),undefined)
export PULUMI_CONFIG_PASSPHRASE ?=
endif

REQUIREMENTS := requirements.txt requirements-dev.txt apps/recipe-api/requirements.txt apps/web-api/requirements.txt

.PHONY: help venv deploy test cluster-test doctor history rollback e2e bench bench-engine destroy

help:
	@echo "make deploy            start minikube if needed, build both images into it, 'pulumi up' the $(STACK) stack"
	@echo "make test              run the test suite (stack, apps, containers, toolchain; cluster and e2e skip without a cluster)"
	@echo "make cluster-test      the real-cluster suite: starts the local cluster (scripts/local-cluster) when none runs"
	@echo "make doctor            check the prerequisites and print the fix for any that is missing"
	@echo "make history           the stack's updates: revision, time, result, versions, replicas"
	@echo "make rollback TO=N     put revision N's versions and replicas back and run 'pulumi up' (YES=1: no prompt)"
	@echo "make e2e               the end-to-end suite against minikube; fails, naming what is missing, when it cannot run"
	@echo "make bench             the benchmarks in bench/: program, chain, images"
	@echo "make bench-engine      bench/engine: the real engine beside kubectl on the local cluster (Linux, root)"
	@echo "make destroy           delete everything the $(STACK) stack deployed (YES=1: no prompt)"

$(VENV)/.installed: $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest

# tests/cluster alone; when no local cluster runs it starts one, and stops it at the end (Linux, root, Docker).
cluster-test: venv
	$(PY) -m pytest -m cluster -rs tests/cluster

deploy:
	@scripts/deploy $(STACK)

doctor: venv
	@$(PY) -m ops.doctor --stack $(STACK)

history: venv
	@$(PY) -m ops.history --stack $(STACK)

# Every target that runs the engine (deploy, rollback, destroy) checks the Pulumi CLI first and, for the minikube
# context, points Docker at minikube's daemon (ops/engine.py; scripts/deploy does the same in bash).
rollback: venv
	@[[ "$(TO)" =~ ^[0-9]+$$ ]] || { echo "usage: make rollback TO=<revision> [YES=1]   (see 'make history')" >&2; exit 2; }
	@$(PY) -m ops.rollback --stack $(STACK) $(if $(YES),--yes) $(TO)

# Run on purpose, the suite fails (exit 1, with the reason) when it cannot run; `make test` lets it skip.
e2e: venv
	@$(PY) -c 'import sys; from tests.e2e.prerequisites import missing_prerequisites as missing; \
	  reason = missing(); sys.exit(f"make e2e: cannot run: {reason}" if reason else 0)'
	$(PY) -m pytest tests/e2e -rs

bench: venv
	bench/program
	bench/chain
	bench/images

bench-engine: venv
	bench/engine

destroy: venv
	@$(PY) -m ops.destroy --stack $(STACK) $(if $(YES),--yes)
