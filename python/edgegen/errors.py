"""Exceptions raised by edgegen.

Every failure of the runtime arrives as an :class:`Error` (or a subclass)
carrying the runtime's own message, which names the file, graph, tensor or
option at fault, and ``code``: the runtime's status name ("invalid model",
"unsupported op", ...). Mistakes in the arguments of a Python call (wrong
shape, wrong dtype, unknown option) are plain :class:`ValueError`; a file
that cannot be opened is an :class:`OSError` (``FileNotFoundError``).
"""


class Error(RuntimeError):
    """A failed edgegen runtime call. ``code`` is the runtime's status name."""

    def __init__(self, message, code="internal error"):
        super().__init__(message)
        self.code = code


class InvalidModelError(Error):
    """The model file is malformed, corrupt or of an unsupported version."""


class UnsupportedError(Error):
    """The model cannot do what was asked (score with a GAN, an unknown operator)."""


class InvalidArgumentError(Error, ValueError):
    """The runtime refused an argument (e.g. MADE data outside its support)."""


class OutOfMemoryError(Error, MemoryError):
    """The runtime could not get the memory it needs."""


class CancelledError(Error):
    """A run was cancelled (a progress callback returned False)."""


_BY_CODE = {
    "invalid model": InvalidModelError,
    "unsupported format version": InvalidModelError,
    "unsupported operator": UnsupportedError,
    "invalid argument": InvalidArgumentError,
    "shape mismatch": InvalidArgumentError,
    "arena too small": OutOfMemoryError,
    "out of memory": OutOfMemoryError,
    "cancelled": CancelledError,
}


def from_status(code, message):
    """The exception for a runtime status (called by the C++ extension)."""
    if code == "I/O error":
        return FileNotFoundError(message) if "No such file" in message else OSError(message)
    return _BY_CODE.get(code, Error)(message, code)
