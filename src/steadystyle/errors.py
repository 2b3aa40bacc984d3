"""The one exception type for problems a user can cause and fix."""


class SteadyStyleError(Exception):
    """A problem with the user's input, files or parameters.

    The message is meant for people: one line that names the file or value at fault.
    The CLI prints it as ``steadystyle: error: <message>`` and exits with status 2.
    """


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) raised as an exception in the main thread.

    It is a :class:`KeyboardInterrupt`, so every cleanup path written for Ctrl-C (writers
    deleting their temporary files, the frame loop aborting its sink) runs for it too.
    ``signum`` is the signal's number; the CLI exits with ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = int(signum)
