# Only python3 is assumed: it bootstraps a pinned uv, which installs the locked environment.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON ?= $(shell $(PYTHON) -c "import sys; print(sys.executable)")
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: run test sync codegen codegen-check lint format bench clean

# A venv with pip where the machine has one; else (Debian without python3-venv) pip's
# --target, which needs no venv.
$(UV):
	$(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION) \
	|| { rm -rf $(TOOLS) && $(PYTHON) -m pip install --quiet --target $(TOOLS)/pkgs uv==$(UV_VERSION) \
	     && mkdir -p $(TOOLS)/bin && ln -sf ../pkgs/bin/uv $(UV); }

sync: $(UV)
	$(UV) sync --frozen --quiet

run: sync ## start the whole platform on the embedded default (SQLite)
	$(UV) run --frozen --no-sync platos serve

test: sync codegen-check lint ## the whole suite, on SQLite and PostgreSQL
	$(UV) run --frozen --no-sync pytest -q $(PYTEST_ARGS)

codegen: sync ## regenerate generated/ from spec/openapi.yaml
	$(UV) run --frozen --no-sync python scripts/codegen.py

codegen-check: sync
	$(UV) run --frozen --no-sync python scripts/codegen.py --check

lint: sync
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .

format: sync
	$(UV) run --frozen --no-sync ruff check --fix .
	$(UV) run --frozen --no-sync ruff format .

bench: sync ## print throughput numbers (see bench/)
	$(UV) run --frozen --no-sync python bench/rest_bench.py
	$(UV) run --frozen --no-sync python bench/invoke_bench.py

clean:
	rm -rf $(TOOLS) .venv .pytest_cache
