# ramguard — the commands the README names.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help demo test standin-env tools-env test-standin test-rust lint lint-template build-lambda build-cli standin preflight member-template

help:
	@echo "make demo      the main job on a sample organization, on the local stand-in, with a report"
	@echo "make test      run every test (stand-in, fmt, clippy, Rust tests, template lint and tests, Lambda build)"
	@echo "make build-lambda  build the three functions for Lambda (release, arm64) into target/lambda/"
	@echo "make build-cli     build the ramguard command (release) into target/release/ramguard"
	@echo "make standin   start the local AWS stand-in on 127.0.0.1:4566 in the foreground"
	@echo "make preflight ARGS=\"--scope Organization --regions eu-west-1,us-east-1\"  check a deploy's prerequisites with your credentials"
	@echo "make member-template  write the member stack to target/cfn/member-template.yaml"

## The main job end to end on the stand-in: seeds a sample organization, runs the three built
## functions through the Lambda Runtime API (cargo lambda watch/invoke), prints a report.
demo: standin-env
	@echo "==> building the demo and the three functions (debug; the first build on a new machine takes several minutes)"
	cargo build --locked -p ramguard-testkit --bin ramguard-demo -p ramguard-config-rule -p ramguard-findings-importer -p ramguard-remediator -p ramguard-cli
	@echo "==> running the demo"
	cargo run --locked --quiet -p ramguard-testkit --bin ramguard-demo

## Every test: what .ci/run runs.
test: standin-env tools-env test-standin lint lint-template test-rust build-lambda

## The ramguard command for this machine (cargo install --path cli puts it on the PATH).
build-cli:
	cargo build --release --locked -p ramguard-cli

standin-env:
	@scripts/standin-env

tools-env:
	@scripts/tools-env

test-standin: standin-env
	cd tests/standin && ../../$(PY) -m pytest

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

## template.yaml: sam validate --lint and cfn-lint on the source; then the SAM transform that
## CloudFormation runs (aws-sam-translator, pinned) for every parameter combination that changes
## the resources, cfn-lint on what it produces, checkov on all of it and on the member stack; then
## the tests of what the template means (tests/template).
lint-template: tools-env
	SAM_CLI_TELEMETRY=0 .venv-sam/bin/sam validate --lint --region us-east-1
	.venv-sam/bin/cfn-lint template.yaml
	rm -rf target/cfn && mkdir -p target/cfn
	cd tests/template && ../../.venv-sam/bin/python cfn.py ../../target/cfn
	.venv-sam/bin/cfn-lint -- target/cfn/transformed/*.json
	.venv-sam/bin/cfn-lint --ignore-checks W2001 -- target/cfn/resolved/*.json
	$(MAKE) --no-print-directory member-template
	.venv-checkov/bin/checkov --quiet --compact --skip-download --framework cloudformation \
	  -f template.yaml -d target/cfn
	cd tests/template && ../../.venv-sam/bin/python -m pytest

build-lambda: standin-env
	scripts/build-lambda

test-rust: standin-env
	cargo test --workspace --locked

## With the deploying credentials: what the deploy and the functions need, what is missing, and
## the command that fixes it. ARGS: --scope Account|Organization, --deployed-from
## ManagementAccount|DelegatedAdministrator, --regions a,b.
preflight: standin-env
	$(PY) scripts/preflight.py $(ARGS)

## The member stack the StackSet deploys, for deploying it by hand (e.g. in the management account).
member-template: tools-env
	mkdir -p target/cfn
	.venv-sam/bin/python -c "from cfnlint.decode import decode; t, _ = decode('template.yaml'); \
	  open('target/cfn/member-template.yaml', 'w').write(str(t['Resources']['MemberStackSet']['Properties']['TemplateBody']))"
	@echo "target/cfn/member-template.yaml"

standin: standin-env
	cd tests/standin && ../../$(PY) -m ramguard_standin --port 4566 --verbose
