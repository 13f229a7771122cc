# loadtests/: Locust scenarios with SLO gates and a zero-loss ledger (loadtests/README.md).
# Like `make bench`, it provisions what it needs: the locked Python environment and a local
# PostgreSQL (set TEST_DATABASE_URL to use another server). The app is started with
# `python -m app serve` and the environment's settings (APP_WORKERS, APP_THREADS...).
#   make loadtest SCENARIO=rentree_wave                       local app, headless, torn down
#   make loadtest SCENARIO=exam_rush USERS=300 RUN_TIME=300   bigger, longer
#   make loadtest SCENARIO=furlough_surge USERS=1000 RUN_TIME=1800   the curve's peak, length
#   make loadtest PROCESSES=2                                  Locust master and workers here
#   make loadtest KILL_AT=30                                   kill -9 the app at 30 s (lost = 0?)
#   make loadtest LOADTEST_HOST=https://... LOADTEST_STAFF_TOKEN=...   an existing deployment
#   make check-loadtests                                      every scenario imports (no run)
SCENARIO ?= rentree_wave
USERS ?= 50
SPAWN_RATE ?= 10
RUN_TIME ?= 60
STUDENTS ?= 200
PROCESSES ?= 1
KILL_AT ?= 0
SLO ?= enforce
LOADTEST_HOST ?=
LOADTEST_OUT ?= var/loadtests
LOADTEST_ARGS ?=
LOADTEST_SCENARIOS := rentree_wave furlough_surge exam_rush

LINT_TARGETS += check-loadtests
.PHONY: loadtest check-loadtests

loadtest: install $(if $(LOADTEST_HOST),,test-postgres)
	$(BIN)/python -m loadtests.run_local --scenario $(SCENARIO) --users $(USERS) \
		--spawn-rate $(SPAWN_RATE) --run-time $(RUN_TIME) --students $(STUDENTS) \
		--processes $(PROCESSES) --kill-at $(KILL_AT) --slo $(SLO) --out $(LOADTEST_OUT) \
		$(if $(LOADTEST_HOST),--host $(LOADTEST_HOST)) $(LOADTEST_ARGS)

# Each scenario through the entry point infra/ runs: imports, users and shape are found.
check-loadtests: install
	@for s in $(LOADTEST_SCENARIOS); do \
	  LOADTEST_SCENARIO=$$s $(BIN)/locust -f loadtests/locustfile.py --list >/dev/null || exit 1; \
	done
