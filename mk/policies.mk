# policies/: alert rules checked and unit-tested with Prometheus's own promtool (OS package
# `prometheus`), the Falco rules checked statically (Falco cannot run here: see
# policies/README.md), the kube-bench gate of the ops CLI.
#   make test-policies    the policies tests and the kube-bench gate tests alone
#   make check-policies   promtool and the Falco checker, without pytest
SETUP_TARGETS += policies-setup
.PHONY: policies-setup test-policies check-policies

# Only promtool is needed: RUNLEVEL=1 keeps invoke-rc.d from starting the packaged server.
policies-setup:
	@if ! command -v promtool >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory apt-update && \
	  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; \
	fi
	@promtool --version 2>&1 | head -n 1

check-policies: install policies-setup
	promtool check rules policies/prometheus/rules/*.yml
	cd policies/prometheus/tests && promtool test rules *.yml
	$(BIN)/python policies/falco/check_rules.py

test-policies: install policies-setup
	$(BIN)/pytest tests/policies tests/platform_tools/test_kube_bench_gate.py \
		tests/platform_tools/test_metrics_catalogue.py $(PYTEST_ARGS)
