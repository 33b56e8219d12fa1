PYTHON ?= python3
# torch first, pinned: on these CPU machines 2.13.0 is the wheel on disk; an unpinned torch pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: install test demo mutants

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

# Mutation testing of the core modules ([tool.mutmut] in pyproject.toml): on demand, never in CI.
# Niced, MUTANTS_JOBS workers, one torch thread each, stopped after MUTANTS_TIMEBOX seconds; results stay
# in mutants/, so a rerun resumes where the last one stopped. MUTANTS picks modules, e.g.
# `make mutants MUTANTS='newsbrief.infer.readers*'`; the score per module is printed at the end.
MUTANTS ?= newsbrief.data* newsbrief.models.* newsbrief.metrics.* newsbrief.train.checkpointing* \
	newsbrief.infer.readers* newsbrief.infer.writers* newsbrief.infer.batching*
MUTANTS_JOBS ?= 2
MUTANTS_TIMEBOX ?= 3600
mutants:
	$(PYTHON) -c "import mutmut" 2>/dev/null || $(PYTHON) -m pip install -q -e ".[mutation]"
	-nice -n 10 env HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 timeout $(MUTANTS_TIMEBOX) \
		mutmut run --max-children $(MUTANTS_JOBS) $(foreach m,$(MUTANTS),'$(m)')
	mutmut results --all true | $(PYTHON) scripts/mutation_score.py
