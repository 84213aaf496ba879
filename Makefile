# The only commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint clean

$(BIN)/supportdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/supportdesk
	$(BIN)/supportdesk serve --demo-if-empty

test: $(BIN)/supportdesk
	$(BIN)/pytest

bench: $(BIN)/supportdesk
	$(BIN)/python bench/tickets.py

lint: $(BIN)/supportdesk
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .data .pytest_cache
