"""Why a model directory cannot be loaded: light classes, so that the command line imports them without torch."""


class ModelLoadError(Exception):
    """A model directory that cannot be loaded, phrased as one line that names it."""


class NotAModelDirectory(ModelLoadError, FileNotFoundError):
    """A folder without the files every model directory has."""


class UntrustedCodeError(ModelLoadError, PermissionError):
    """A model directory would run its own Python, and the caller did not allow it."""


class BadModelConfig(ModelLoadError, ValueError):
    """A model directory whose newsbrief.yaml does not read as a run config: the model is at fault, not the
    caller's config, so it is not a ConfigError."""
