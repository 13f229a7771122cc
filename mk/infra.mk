# infra/: the Pulumi program (tested under Pulumi's mocks), its rendered manifests, the
# container image and the GitOps pipeline.
#   make render [IMAGE=registry/campus/app@sha256:...]   build/manifests/<stack>/ for every stack
#   make check-manifests                                 schemas and checkov over build/manifests
#   make test-infra                                      the infra tests alone
#   make refresh-schemas [GIT_MIRRORS=DIR]               re-vendor infra/schemas/ (SOURCES.yaml)
CHECKOV_VENV := $(TOOLS)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_REQUIREMENTS := infra/tools/checkov-requirements.txt

SETUP_TARGETS += $(CHECKOV_VENV)/.installed
LINT_TARGETS += lint-infra

# Kubernetes version whose schemas the manifests must match (kubernetes-validate ships it):
# the cluster's minor, from the one value shared with the playbooks.
KUBERNETES_VERSION = $(shell sed -n 's/^campus_kubernetes_version: "\(1\.[0-9]*\)\..*"/\1.0/p' \
	playbooks/group_vars/all/kubernetes.yml)

.PHONY: render check-manifests test-infra lint-infra checkov-requirements refresh-schemas

# checkov pins an old `packaging` that pulumi cannot share: it gets its own venv, rebuilt
# only when its pinned requirements change. `--python` names the venv: the main Makefile
# exports UV_PYTHON, which would otherwise point uv at the system interpreter.
$(CHECKOV_VENV)/.installed: $(CHECKOV_REQUIREMENTS) | $(UV)
	rm -rf $(CHECKOV_VENV)
	$(UV) venv -q $(CHECKOV_VENV)
	$(UV) pip sync -q --python $(CHECKOV_VENV)/bin/python $(CHECKOV_REQUIREMENTS)
	touch $@

# Re-pin checkov and its dependencies (exact versions) after editing the .in file.
checkov-requirements: | $(UV)
	$(UV) pip compile -q --python-version 3.11 --no-header \
		--custom-compile-command "make checkov-requirements" \
		infra/tools/checkov-requirements.in -o $(CHECKOV_REQUIREMENTS)

render: install
	PYTHONPATH=infra $(BIN)/python -m campus_infra.render $(if $(IMAGE),--app-image $(IMAGE))

# What the tests check, by hand on the rendered tree: schemas (custom resources are checked
# by the tests' own assertions) and checkov, offline.
check-manifests: render $(CHECKOV_VENV)/.installed
	$(BIN)/kubernetes-validate --strict -k $(KUBERNETES_VERSION) --quiet --no-warn \
		$$(find build/manifests build/platform -name '*.yaml' | sort)
	for stack in $$(ls build/manifests); do \
		BC_SKIP_MAPPING=TRUE $(CHECKOV) -d build/manifests/$$stack -d build/platform/$$stack \
			--framework kubernetes --quiet --compact --skip-download || exit 1; \
	done

# The upstream CRD schemas, chart values and kube-bench mapping the tests check against,
# at the versions charts.py pins (edit infra/schemas/SOURCES.yaml with a pin, then run this).
# GIT_MIRRORS=DIR reads local clones (DIR/<owner>+<name>/repo) instead of GitHub.
refresh-schemas: install
	$(BIN)/python infra/tools/refresh_schemas.py $(if $(GIT_MIRRORS),--git-mirrors $(GIT_MIRRORS))

lint-infra: install
	$(BIN)/hadolint Containerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

test-infra: install $(CHECKOV_VENV)/.installed
	$(BIN)/pytest -m infra $(PYTEST_ARGS)
