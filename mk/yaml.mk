# yamllint strict over the whole repository's YAML.
LINT_TARGETS += lint-yaml
.PHONY: lint-yaml
lint-yaml: install
	$(BIN)/yamllint --strict .
