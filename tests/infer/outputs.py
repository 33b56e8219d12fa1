"""Reading a batch job's output back, whatever its format, for the tests' checks."""

import csv
import json

import pyarrow.parquet as pq


def read_output(path) -> list[dict]:
    if path.suffix == ".jsonl":
        # Records end in "\n" only: splitlines() would also cut a record at a "\x85" or "\u2028" inside a string.
        return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    if path.suffix == ".csv":
        with open(path, newline="") as file:
            return list(csv.DictReader(file))
    return pq.read_table(path).to_pylist()
