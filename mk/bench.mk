# bench/: benchmarks that print the figure, its ratio to a baseline and to the physical limit,
# measured in the same run. Like `make test`, it provisions what it needs: the locked Python
# environment and a local PostgreSQL (playbooks/database.yml; set TEST_DATABASE_URL to use
# another server).
#   make bench                                   every size (S, M, L) on SQLite and PostgreSQL
#   make bench BENCH_ARGS="--sizes S M"          fewer sizes (or --engines, --scenarios)
BENCH_ARGS ?=
.PHONY: bench
bench: install test-postgres
	$(BIN)/python bench/propagation.py --database-url "$(TEST_DATABASE_URL)" $(BENCH_ARGS)

# bench/serving.py: the candidate HTTP servers side by side (hello world, /healthz, a read, a
# write), then the shipped server past its capacity. wrk (Debian package) drives the load; the
# benchmark's smoke test in `make test` needs it too.
#   make bench-serving                                  both runs
#   make bench-serving SERVING_ARGS="--seconds 5"       shorter runs (see bench/serving.py -h)
SERVING_ARGS ?=
SETUP_TARGETS += /usr/bin/wrk
.PHONY: bench-serving
/usr/bin/wrk:
	$(MAKE) --no-print-directory apt-update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

bench-serving: install test-postgres /usr/bin/wrk
	$(BIN)/python bench/serving.py --database-url "$(TEST_DATABASE_URL)" $(SERVING_ARGS)
	$(BIN)/python bench/serving.py --database-url "$(TEST_DATABASE_URL)" --overload $(SERVING_ARGS)
