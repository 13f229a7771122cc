# Ansible playbooks: the PostgreSQL that the test suite uses comes from
# playbooks/database.yml run against this machine, like any database server.
ANSIBLE_ENV := ANSIBLE_CONFIG=$(CURDIR)/playbooks/ansible.cfg
ANSIBLE_PLAYBOOK := $(ANSIBLE_ENV) $(BIN)/ansible-playbook

# Set TEST_DATABASE_URL yourself to test against another server; the
# playbook then leaves this machine alone.
TEST_DB_USER := campus_test
TEST_DB_NAME := campus_test
TEST_DB_PASSWORD := campus-test-local-password
TEST_DATABASE_URL ?= postgresql://$(TEST_DB_USER):$(TEST_DB_PASSWORD)@127.0.0.1:5432/$(TEST_DB_NAME)
export TEST_DATABASE_URL

# The test role may create and drop databases: the app's tests make a scratch
# database per session.
TEST_DB_EXTRA_VARS := {"postgresql_users": [{"name": "$(TEST_DB_USER)", "password": "$(TEST_DB_PASSWORD)", "role_attr_flags": "CREATEDB"}], "postgresql_databases": [{"name": "$(TEST_DB_NAME)", "owner": "$(TEST_DB_USER)"}]}

SETUP_TARGETS += test-postgres
.PHONY: test-postgres test-playbooks

# The playbooks run their modules with the system Python (as on any Debian
# host): the PostgreSQL modules run as the postgres user, who cannot use a
# Python installed under root's home.
/usr/bin/python3:
	$(MAKE) apt-update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-apt

# nginx and mtail for the tests that run the single host's site and its count of refusals
# outside a converge (tests/playbooks/test_nginx_admission.py, the served granian test); the
# converge installs them too. RUNLEVEL=1 keeps invoke-rc.d from starting the packaged services:
# the converge configures and starts them.
SETUP_TARGETS += /usr/sbin/nginx /usr/bin/mtail
/usr/sbin/nginx /usr/bin/mtail:
	$(MAKE) --no-print-directory apt-update
	RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx mtail

test-postgres: install /usr/bin/python3
ifeq ($(origin TEST_DATABASE_URL),file)
	$(ANSIBLE_PLAYBOOK) -i playbooks/inventories/local playbooks/database.yml -e '$(TEST_DB_EXTRA_VARS)'
	@for i in $$(seq 1 30); do \
	  $(BIN)/python -c 'import os, psycopg; psycopg.connect(os.environ["TEST_DATABASE_URL"], connect_timeout=2).close()' 2>/dev/null && exit 0; \
	  sleep 1; \
	done; \
	echo "PostgreSQL did not answer at TEST_DATABASE_URL within 30 s" >&2; exit 1
else
	@echo "TEST_DATABASE_URL given: not provisioning a local PostgreSQL"
endif

test-playbooks: install
	$(BIN)/pytest -m playbooks $(PYTEST_ARGS)

# The single host's nginx path maps come from the app's route table; the file is committed
# (tests/playbooks/test_nginx_entries.py fails when it is stale).
.PHONY: nginx-routes
nginx-routes: install
	$(BIN)/python -m app.http.nginx_routes --out playbooks/roles/app_host/files/nginx-campus-entries.conf
