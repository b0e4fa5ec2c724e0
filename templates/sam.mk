# SAM template pack: build the 15 rotation functions without Docker, validate the templates.
# Included from the root Makefile (`-include templates/sam.mk`).
#
#   make sam-venv        aws-sam-cli + cfn-lint + serverless rules in $(SAM_VENV) (own venv:
#                        aws-sam-cli pins boto3 exactly)
#   make build           sam build of template.yaml (SAM_RUNTIME, SAM_ARCH, CA_BUNDLE below)
#   make validate        sam validate --lint and cfn-lint (+ serverless rules) on every template
#   make package-sizes   each built artifact's size and its database driver, with and without
#                        the AWS SDK (boto3, botocore, ...) that the Lambda runtime also carries
#   make sam-test-build  the build `make test` needs, offline, in $(SAM_TEST_BUILD_DIR); skipped
#                        while nothing it depends on changed
#   make sam-templates   regenerate template.yaml and templates/<engine>/ (templates/generate.py)
#   make sam-ci          what CI runs: validate, the test build, and the artifact tests (tests/sam)
#   make build-<LogicalId>  what `sam build` calls per function, with ARTIFACTS_DIR set
#
# SAM_RUNTIME and SAM_ARCH choose the wheels; `make build` pins them as the only allowed values
# of the PythonRuntime and Architecture parameters in .aws-sam/build/template.yaml, so that a
# later `sam deploy` cannot pick a runtime or architecture the artifacts were not built for.

SAM_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
SAM_VENV ?= .venv-sam
SAM_VENV_PYTHON ?= python3
SAM := $(SAM_VENV)/bin/sam
SAM_CFN_LINT := $(SAM_VENV)/bin/cfn-lint
SAM_VENV_STAMP := $(SAM_VENV)/.installed-sam
SAM_BUILD_DIR ?= .aws-sam/build
SAM_BUILD_ARGS ?= --parallel

# Target of the artifacts. SAM_PIP_PYTHON only runs pip (any Python >= 3.11 with pip).
SAM_RUNTIME ?= python3.13
SAM_ARCH ?= x86_64
SAM_PIP_PYTHON ?= python3
# The CA bundle every artifact carries as certs/ca-bundle.pem, which the handler uses when
# ROTATION_TLS_CA_FILE is unset (templates/ca_bundle.py). Empty: the RDS global bundle and the
# Amazon Trust Services roots (Redshift), fetched from AWS once and cached in SAM_CA_CACHE.
# A path, file:// or https:// URL: that PEM bundle instead (offline builds). none: no bundle.
CA_BUNDLE ?=
SAM_CA_CACHE ?= $(SAM_ROOT)/.aws-sam/ca-cache
# The documentdb extra pins PyMongo < 4.11 (the last to speak to DocumentDB 3.6 and 4.0), which
# has no Python 3.14 wheels; a python3.14 build takes this driver instead, and the function then
# refuses DocumentDB 3.6/4.0 at connect with an error that names the driver's minimum.
SAM_PYMONGO_PY314 ?= pymongo>=4.15.2,<5
# 1: every artifact carries its own boto3/botocore (about 25 MB of each artifact), so the AWS SDK
# it runs with is the one it was built and tested with, including PutSecretValue's RotationToken.
# 0: leave out boto3, botocore, s3transfer and what only they need (templates/runtime_sdk.py);
# the function then uses the SDK of the Lambda runtime: smaller artifacts, but the runtime's
# botocore may be older, and one that lacks RotationToken makes createSecret store the pending
# value without it (cross-account and assumed-role rotations need it; see README "Deploy").
SAM_BUNDLE_BOTO3 ?= 1
# 1: precompile .pyc for SAM_RUNTIME when that interpreter is on PATH (faster cold starts;
# /var/task is read-only, so Lambda would otherwise compile on every cold start).
SAM_COMPILE ?= 1
# The interpreter of SAM_RUNTIME's version, for compileall: on PATH, or a pyenv version.
SAM_RUNTIME_PYTHON ?= $(shell for c in $(SAM_RUNTIME) $$(pyenv root 2>/dev/null)/versions/$(patsubst python%,%,$(SAM_RUNTIME))*/bin/$(SAM_RUNTIME); do "$$c" -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
export SAM_RUNTIME SAM_ARCH SAM_PIP_PYTHON CA_BUNDLE SAM_CA_CACHE SAM_PYMONGO_PY314 SAM_COMPILE SAM_RUNTIME_PYTHON SAM_BUNDLE_BOTO3
export SAM_CLI_TELEMETRY ?= 0

# LogicalId:engine -- the functions of template.yaml (tests/sam checks this table against it).
SAM_FUNCTIONS := \
	SecretsManagerRDSPostgreSQLRotationSingleUser:postgresql \
	SecretsManagerRDSPostgreSQLRotationMultiUser:postgresql \
	SecretsManagerRDSMySQLRotationSingleUser:mysql \
	SecretsManagerRDSMySQLRotationMultiUser:mysql \
	SecretsManagerRDSMySQLRotationDualPasswords:mysql \
	SecretsManagerRDSMariaDBRotationSingleUser:mariadb \
	SecretsManagerRDSMariaDBRotationMultiUser:mariadb \
	SecretsManagerRDSOracleRotationSingleUser:oracle \
	SecretsManagerRDSOracleRotationMultiUser:oracle \
	SecretsManagerRDSSQLServerRotationSingleUser:sqlserver \
	SecretsManagerRDSSQLServerRotationMultiUser:sqlserver \
	SecretsManagerMongoDBRotationSingleUser:documentdb \
	SecretsManagerMongoDBRotationMultiUser:documentdb \
	SecretsManagerRedshiftRotationSingleUser:redshift \
	SecretsManagerRedshiftRotationMultiUser:redshift

sam_id = $(word 1,$(subst :, ,$(1)))
sam_engine = $(word 2,$(subst :, ,$(1)))
SAM_IDS := $(foreach f,$(SAM_FUNCTIONS),$(call sam_id,$(f)))
# pip's platform tags: Lambda arm64 is aarch64; manylinux_2_28 first (Lambda's glibc is 2.34),
# or pip silently picks older pymssql / psycopg2-binary releases that still ship manylinux2014.
sam_machine = $(if $(filter arm64,$(SAM_ARCH)),aarch64,$(if $(filter x86_64,$(SAM_ARCH)),x86_64,$(error SAM_ARCH must be x86_64 or arm64, not $(SAM_ARCH))))
sam_pyversion = $(patsubst python%,%,$(SAM_RUNTIME))

# Every template under templates/ (the per-engine examples and any added later).
SAM_TEMPLATES := template.yaml $(sort $(shell find templates -name '*.yaml' -o -name '*.yml' 2>/dev/null))

.PHONY: build validate package-sizes sam-venv sam-templates sam-ci sam-clean sam-test-build $(addprefix build-,$(SAM_IDS))

# build-<LogicalId>: pip installs the project with only that engine's extra, as wheels for the
# target runtime and architecture, and copies the result into $(ARTIFACTS_DIR). The install is
# cached per runtime, architecture, extra, source checksum and SAM_COMPILE / SAM_BUNDLE_BOTO3
# under $(SAM_CACHE), so the single
# and alternating users functions of an engine share one install (a mkdir lock serialises
# parallel builds); `make sam-clean` empties it. The project is copied to a scratch directory
# first so that builds never share setuptools' build/ directory.
SAM_CACHE ?= $(SAM_ROOT)/.aws-sam/rotation-cache
define sam_build_function
build-$(1):
	@test -n "$$(ARTIFACTS_DIR)" || { echo "build-$(1): ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	@set -e; \
	sum=$$$$(cd "$(SAM_ROOT)" && find pyproject.toml README.md rotation templates/runtime_sdk.py -type f ! -path '*/__pycache__/*' 2>/dev/null | LC_ALL=C sort | xargs cat | cksum | cut -d' ' -f1); \
	cache="$$(SAM_CACHE)/$$(SAM_RUNTIME)-$$(SAM_ARCH)-$(2)-$$$$sum-c$$(SAM_COMPILE)-b$$(SAM_BUNDLE_BOTO3)"; \
	mkdir -p "$$(SAM_CACHE)"; waited=0; \
	until mkdir "$$$$cache.lock" 2>/dev/null; do \
		waited=$$$$((waited + 1)); if [ $$$$waited -gt 900 ]; then echo "build-$(1): $$$$cache.lock held for 15 min; remove it if no build runs" >&2; exit 1; fi; sleep 1; done; \
	src=$$$$(mktemp -d); trap 'rm -rf "$$$$src"; rmdir "$$$$cache.lock"' EXIT; \
	if [ -f "$$$$cache/.complete" ]; then \
		echo "build-$(1): rotation[$(2)] for $$(SAM_RUNTIME) $$(SAM_ARCH), cached"; \
	else \
		echo "build-$(1): rotation[$(2)] for $$(SAM_RUNTIME) $$(SAM_ARCH)"; \
		rm -rf "$$$$cache"; \
		cp -R "$(SAM_ROOT)/pyproject.toml" "$(SAM_ROOT)/rotation" "$$$$src/"; \
		if [ -f "$(SAM_ROOT)/README.md" ]; then cp "$(SAM_ROOT)/README.md" "$$$$src/"; else touch "$$$$src/README.md"; fi; \
		find "$$$$src" -name __pycache__ -prune -exec rm -rf {} +; \
		spec="$$$$src[$(2)]"; \
		if [ "$(2)" = documentdb ] && [ "$$(sam_pyversion)" = 3.14 ]; then \
			spec="$$$$src $$(SAM_PYMONGO_PY314)"; \
			echo "build-$(1): no PyMongo that speaks to DocumentDB 3.6/4.0 has Python 3.14 wheels; installing $$(SAM_PYMONGO_PY314) (DocumentDB 5.0 and 8.0 only)" >&2; \
		fi; \
		if ! $$(SAM_PIP_PYTHON) -m pip install --disable-pip-version-check --no-warn-conflicts \
			--no-compile --target "$$$$cache.tmp" \
			--only-binary=:all: --implementation cp --python-version $$(sam_pyversion) \
			--platform manylinux_2_28_$$(sam_machine) --platform manylinux2014_$$(sam_machine) \
			$$$$spec >"$$$$src/pip.log" 2>&1; then cat "$$$$src/pip.log" >&2; rm -rf "$$$$cache.tmp"; exit 1; fi; \
		test -d "$$$$cache.tmp/rotation"; \
		rm -rf "$$$$cache.tmp/bin"; \
		if [ "$$(SAM_BUNDLE_BOTO3)" = 0 ]; then \
			$$(SAM_PIP_PYTHON) "$(SAM_ROOT)/templates/runtime_sdk.py" prune "$$$$cache.tmp"; fi; \
		if [ "$$(SAM_COMPILE)" != 1 ]; then :; \
		elif [ -n "$$(SAM_RUNTIME_PYTHON)" ]; then \
			"$$(SAM_RUNTIME_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$$$$cache.tmp" >/dev/null || true; \
		else echo "build-$(1): no $$(SAM_RUNTIME) interpreter found, no .pyc precompiled"; fi; \
		touch "$$$$cache.tmp/.complete"; mv "$$$$cache.tmp" "$$$$cache"; \
	fi; \
	mkdir -p "$$(ARTIFACTS_DIR)"; \
	cp -R "$$$$cache/." "$$(ARTIFACTS_DIR)/"; rm -f "$$(ARTIFACTS_DIR)/.complete"; \
	$$(SAM_PIP_PYTHON) "$(SAM_ROOT)/templates/ca_bundle.py" "$$(ARTIFACTS_DIR)/certs/ca-bundle.pem" --cache "$$(SAM_CA_CACHE)" $$(CA_BUNDLE)
endef
$(foreach f,$(SAM_FUNCTIONS),$(eval $(call sam_build_function,$(call sam_id,$(f)),$(call sam_engine,$(f)))))

sam-venv: $(SAM_VENV_STAMP)

$(SAM_VENV_STAMP):
	$(SAM_VENV_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		"aws-sam-cli>=1.140" "cfn-lint>=1.20" "cfn-lint-serverless>=0.3"
	touch $@

build: $(SAM_VENV_STAMP)
	$(SAM) build --template-file template.yaml --build-dir $(SAM_BUILD_DIR) $(SAM_BUILD_ARGS) \
		--parameter-overrides PythonRuntime=$(SAM_RUNTIME) Architecture=$(SAM_ARCH)
	$(SAM_VENV)/bin/python templates/generate.py --pin $(SAM_BUILD_DIR)/template.yaml $(SAM_RUNTIME) $(SAM_ARCH)

validate: $(SAM_VENV_STAMP)
	$(SAM_VENV)/bin/python templates/generate.py --check
	@set -e; for t in $(SAM_TEMPLATES); do \
		echo "sam validate --lint $$t"; $(SAM) validate --lint --template-file $$t >/dev/null; done
	$(SAM_CFN_LINT) --append-rules cfn_lint_serverless.rules -- $(SAM_TEMPLATES)

package-sizes:
	@$(SAM_PIP_PYTHON) templates/package_sizes.py $(SAM_BUILD_DIR)

sam-templates:
	$(SAM_PIP_PYTHON) templates/generate.py

# The build `make test` runs before the suite (tests/sam imports and invokes its artifacts). It
# goes to its own directory, so that a deployable `make build` in $(SAM_BUILD_DIR) is never
# replaced by it. Tests run offline, so its CA bundle is the system's CA certificates (any PEM
# bundle of CA certificates; `make build` would fetch the RDS and Amazon Trust bundles from AWS):
# the tests check that every artifact carries a bundle and uses it, not which CAs it holds. The
# runtime is the first Lambda Python version installed here, so its artifacts can be imported.
# A stamp over everything the build depends on skips `sam build` entirely when nothing changed.
SAM_TEST_BUILD_DIR ?= .aws-sam/test-build
SAM_TEST_CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
SAM_TEST_RUNTIME ?= $(shell for v in 3.13 3.12 3.14; do for c in python$$v $$(pyenv root 2>/dev/null)/versions/$$v*/bin/python$$v; do "$$c" -c "" 2>/dev/null && { echo python$$v; exit 0; }; done; done; echo python3.13)
SAM_TEST_STAMP = $(SAM_TEST_BUILD_DIR)/.rotation-test-build

sam-test-build: $(SAM_VENV_STAMP)
	@set -e; \
	key=$$( { echo "$(SAM_TEST_RUNTIME) $(SAM_ARCH) $(SAM_COMPILE) $(SAM_BUNDLE_BOTO3) $(SAM_TEST_CA_BUNDLE)"; \
		cat "$(SAM_TEST_CA_BUNDLE)"; \
		find pyproject.toml README.md template.yaml templates/sam.mk templates/*.py rotation -type f \
			! -path '*/__pycache__/*' | LC_ALL=C sort | xargs cat; } | cksum | cut -d' ' -f1); \
	if [ -f "$(SAM_TEST_STAMP)" ] && [ "$$(cat "$(SAM_TEST_STAMP)")" = "$$key" ]; then \
		echo "sam-test-build: $(SAM_TEST_BUILD_DIR) is up to date, no sam build"; \
	else \
		$(MAKE) --no-print-directory build SAM_BUILD_DIR=$(SAM_TEST_BUILD_DIR) \
			SAM_RUNTIME=$(SAM_TEST_RUNTIME) CA_BUNDLE=$(SAM_TEST_CA_BUNDLE); \
		echo "$$key" > "$(SAM_TEST_STAMP)"; \
	fi

# CI: fail (not skip) when a SAM test cannot run.
sam-ci: install validate sam-test-build
	CI=true ROTATION_SAM_BUILD_DIR=$(SAM_TEST_BUILD_DIR) $(PY) -m pytest tests/sam -p no:cacheprovider $(PYTEST_ARGS)
	@$(SAM_PIP_PYTHON) templates/package_sizes.py $(SAM_TEST_BUILD_DIR)

sam-clean:
	rm -rf .aws-sam
