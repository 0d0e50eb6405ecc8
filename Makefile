# The two commands of the README: `make demo` (main job on the shipped defaults) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,molecules]"
	$(BIN)/python -m pip install -q --no-deps molsets==0.3.1 fcd-torch==1.0.7
	$(BIN)/python -c "from agents.step import native; native.main()"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/rl-tuner demo

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m benchmarks.readme --check
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
