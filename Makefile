# ramguard — the commands the README names.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help test standin-env test-standin test-rust lint standin

help:
	@echo "make test      run every test (stand-in behaviour tests, fmt, clippy, Rust tests)"
	@echo "make standin   start the local AWS stand-in on 127.0.0.1:4566 in the foreground"

## Every test: what .ci/run runs.
test: standin-env test-standin lint test-rust

standin-env:
	@scripts/standin-env

test-standin: standin-env
	cd tests/standin && ../../$(PY) -m pytest

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

test-rust: standin-env
	cargo test --workspace --locked

standin: standin-env
	cd tests/standin && ../../$(PY) -m ramguard_standin --port 4566 --verbose
