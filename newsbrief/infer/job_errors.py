"""The one kind of error that stops `newsbrief predict`; everything else becomes an error record."""


class BatchJobError(Exception):
    """A fatal problem of the batch job (no input, an unreadable file, a full disk), phrased to name
    the file, so that the command line can exit with it as one line."""
