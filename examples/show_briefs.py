"""Print the briefings of a `newsbrief predict` output file, one article per block."""

import json
import sys

for line in open(sys.argv[1], encoding="utf-8"):
    record = json.loads(line)
    if "error" in record:
        print(f"[{record['id']}] error: {record['error']}\n")
        continue
    topics = ", ".join(f"{label} ({score:.2f})" for label, score in record["topics"]) or "-"
    print(f"[{record['id']}] {record['summary']}\n  topics: {topics}\n")
