PYTHON ?= python3
# torch first, pinned: on these CPU machines 2.13.0 is the wheel on disk; an unpinned torch pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: install test demo

install:
	$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q "$(TORCH)"
	$(PYTHON) -m pip install -q -e ".[dev]"

test: install
	$(PYTHON) -m pytest -q

# The embedded default model briefs the example articles (a rerun of predict would skip ids already briefed).
demo: install
	rm -f runs/demo/briefs.jsonl
	newsbrief predict --input examples/articles.jsonl --output runs/demo/briefs.jsonl
	$(PYTHON) examples/show_briefs.py runs/demo/briefs.jsonl
