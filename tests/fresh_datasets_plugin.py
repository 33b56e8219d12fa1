"""A pytest plugin for `make mutants` (pyproject.toml, [tool.mutmut]): `datasets` recomputes every map.

`datasets` caches a map's result under a hash of the mapped function's code. Under mutmut every
mutant of a function has the same code (a trampoline that picks the mutant at run time), so a mutant
would be handed the cached result of the real code and survive untested.
"""

import datasets


def pytest_configure(config):
    datasets.disable_caching()
