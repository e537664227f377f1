"""The one exception type for bad user input anywhere in the project.

The CLI turns it into a one-line message and exit code 2. It lives in `nas_common`, the bottom layer
that imports nothing of the project, so every package may import it without importing another's.
"""


class UserInputError(ValueError):
    """Input a person gave us is wrong; the message says what and where, in one line."""
