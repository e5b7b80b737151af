# The two commands of the README. Both set up whatever is missing first.
.PHONY: run test bootstrap lint bench

bootstrap:
	@scripts/bootstrap.sh all

run: bootstrap
	.venv/bin/assistant run

test: bootstrap
	@scripts/test-deps.sh
	.venv/bin/lint-imports
	.venv/bin/pytest $(PYTEST_ARGS)

lint:
	.venv/bin/lint-imports
	.venv/bin/ruff check accounts channels inbox escalation gateway notices tests bench
	.venv/bin/mypy
