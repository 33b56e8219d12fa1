"""The error of a training or evaluation data file, kept apart from data.py so that the command line can
name it without importing `datasets` and torch."""


class DataError(ValueError):
    """A data file that cannot be trained on, naming the file (and row): one line on the command line."""
