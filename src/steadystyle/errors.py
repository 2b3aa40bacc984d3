"""The one exception type for problems a user can cause and fix."""


class SteadyStyleError(Exception):
    """A problem with the user's input, files or parameters.

    The message is meant for people: one line that names the file or value at fault.
    The CLI prints it as ``steadystyle: error: <message>`` and exits with status 2.
    """
