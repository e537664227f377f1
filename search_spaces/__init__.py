"""What an architecture is: `Arch`, presets, search spaces, exact parameter and FLOP counts."""

from nas_common.errors import UserInputError
from search_spaces.arch import Arch
from search_spaces.presets import PRESETS, resolve_arch
from search_spaces.space import SearchSpace

__all__ = ["Arch", "PRESETS", "SearchSpace", "UserInputError", "resolve_arch"]
