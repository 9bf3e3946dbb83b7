.PHONY: help demo test check bench bench-quick
PY := .venv/bin/python

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

demo:  ## Install and run the demo (synthetic data, default model, data home)
	bash scripts/demo.sh

test:  ## Install with dev extras and run the tests (same command as CI)
	bash scripts/test.sh

check:  ## Layout check (import circles, module sizes), lint and type-check (as CI)
	bash scripts/check.sh

bench:  ## Run every benchmark at full size (1-2 h on 2 cores; JSON: benchmarks/README.md)
	$(PY) -m benchmarks.run_all

bench-quick:  ## Run every benchmark on small inputs and check each wrote its JSON (minutes)
	$(PY) -m benchmarks.run_all --quick
