"""`newsbrief predict --engine ray`: the batch job on Ray Data (job.py), which imports Ray only when it runs."""
