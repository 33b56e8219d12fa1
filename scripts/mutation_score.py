"""The mutation score per module, from `mutmut results --all true` on stdin (run by `make mutants`).

A mutant counts as killed when a test failed or timed out on it; one that no test ran ("no tests")
counts as a survivor, since nothing would catch that change. Mutants not yet checked (a run cut short
by its time box) are left out and counted apart, so a partial run reports what it did measure.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
UNCHECKED = {"not checked", "check was interrupted by user", "skipped"}
# `newsbrief.infer.readers.x_read_jsonl__mutmut_12: survived` or, for a method,
# `newsbrief.infer.writers.xǁJsonlWriterǁwrite__mutmut_3: killed`
RESULT_LINE = re.compile(r"^\s*(?P<module>[\w.]+?)\.x\S*__mutmut_\d+: (?P<status>.+?)\s*$")


def scores(lines) -> dict[str, Counter]:
    by_module: dict[str, Counter] = defaultdict(Counter)
    for line in lines:
        match = RESULT_LINE.match(line)
        if match:
            status = match["status"]
            kind = "killed" if status in KILLED else "unchecked" if status in UNCHECKED else "survived"
            by_module[match["module"]][kind] += 1
    return by_module


def main() -> None:
    by_module = scores(sys.stdin)
    if not by_module:
        sys.exit("mutation_score: no mutmut results on stdin (run `make mutants` first)")
    total = Counter()
    print(f"{'module':<36} {'killed':>6} {'survived':>8} {'score':>6} {'unchecked':>9}")
    for module, counts in sorted(by_module.items()):
        total += counts
        print(row(module, counts))
    print(row("all", total))


def row(name: str, counts: Counter) -> str:
    checked = counts["killed"] + counts["survived"]
    score = f"{counts['killed'] / checked:.1%}" if checked else "-"
    return f"{name:<36} {counts['killed']:>6} {counts['survived']:>8} {score:>6} {counts['unchecked']:>9}"


if __name__ == "__main__":
    main()
