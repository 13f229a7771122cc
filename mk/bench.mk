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
