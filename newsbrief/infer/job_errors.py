"""The errors that stop `newsbrief predict`; everything else becomes an error record."""


class BatchJobError(Exception):
    """A fatal problem of the batch job (no input, an unreadable file, a full disk), phrased to name
    the file, so that the command line can exit with it as one line."""


class InputError(BatchJobError):
    """An --input that names no file, or a file that cannot be read."""


class OutputError(BatchJobError):
    """An --output that cannot be written: not ours to append to, unwritable, full, or locked by another run."""


class UsageError(BatchJobError):
    """Options that do not go together."""
