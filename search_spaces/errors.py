"""The one exception type for bad user input anywhere in the project.

The CLI turns it into a one-line message and exit code 2. It lives in `search_spaces` because that
package sits at the bottom of the import graph (everything else may import it).
"""


class UserInputError(ValueError):
    """Input a person gave us is wrong; the message says what and where, in one line."""
