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
# Niced (MUTANTS_NICE), MUTANTS_JOBS workers, one torch thread each, stopped after MUTANTS_TIMEBOX
# seconds; results stay in mutants/, and a run without MUTANTS checks only the mutants that have none
# yet, so it resumes where the last one stopped. MUTANTS names modules to check again in full
# (mutmut reruns every mutant it is named), e.g. `make mutants MUTANTS='newsbrief.infer.readers*'`.
# The score per module is printed at the end.
MUTANTS ?=
MUTANTS_NICE ?= 10
MUTANTS_JOBS ?= 2
MUTANTS_TIMEBOX ?= 3600
mutants:
	$(PYTHON) -c "import mutmut" 2>/dev/null || $(PYTHON) -m pip install -q -e ".[mutation]"
	-nice -n $(MUTANTS_NICE) env HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 timeout $(MUTANTS_TIMEBOX) \
		mutmut run --max-children $(MUTANTS_JOBS) $(foreach m,$(MUTANTS),'$(m)')
	mutmut results --all true | $(PYTHON) scripts/mutation_score.py
