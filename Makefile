.PHONY: help demo test check bench
PY := .venv/bin/python

help:  ## List the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

demo:  ## Install and run the demo (synthetic data, default model, data home)
	bash scripts/demo.sh

test:  ## Install with dev extras and run the tests (same command as CI)
	bash scripts/test.sh

check:  ## Layout check (import circles, module sizes), lint and type-check (as CI)
	bash scripts/check.sh

bench:  ## Run the benchmarks (minutes; figures go to benchmarks/RESULTS.md by hand)
	$(PY) benchmarks/run_all.py
