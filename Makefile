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

.PHONY: help venv deploy test doctor history rollback e2e bench destroy

help:
	@echo "make deploy            build both images into minikube and run 'pulumi up' on the $(STACK) stack"
	@echo "make test              run the test suite (stack, apps, containers; e2e skips without a cluster)"
	@echo "make doctor            check the prerequisites and print the fix for any that is missing"
	@echo "make history           the stack's updates: revision, time, result, versions, replicas"
	@echo "make rollback TO=N     put revision N's versions and replicas back and run 'pulumi up' (YES=1: no prompt)"
	@echo "make e2e               the end-to-end suite against minikube (needs the Pulumi CLI and a cluster)"
	@echo "make bench             the benchmarks in bench/"
	@echo "make destroy           delete everything the $(STACK) stack deployed"

$(VENV)/.installed: $(REQUIREMENTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

test: venv
	$(PY) -m pytest

deploy:
	@scripts/deploy $(STACK)

doctor: venv
	@$(PY) -m ops.doctor --stack $(STACK)

history: venv
	@$(PY) -m ops.history --stack $(STACK)

rollback: venv
	@test -n "$(TO)" || { echo "usage: make rollback TO=<revision> [YES=1]   (see 'make history')" >&2; exit 2; }
	@$(PY) -m ops.rollback --stack $(STACK) $(if $(YES),--yes) $(TO)

e2e: venv
	$(PY) -m pytest tests/e2e -rs

bench: venv
	bench/program
	bench/chain

destroy: venv
	pulumi destroy --stack $(STACK)
