# Thin aliases for ./dev, which works on machines without make.
.PHONY: run test install lint
run:
	./dev run
test:
	./dev test
install:
	./dev install
lint:
	./dev install dev
	.venv/bin/ruff check .
