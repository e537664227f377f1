import pytest

from nas.search.budget import parse_budget
from nas_common.errors import UserInputError


@pytest.mark.parametrize("text, millis", [("62ms", 62.0), ("62 ms", 62.0), ("0.062s", 62.0), ("62MS", 62.0),
                                           (" 1.5ms ", 1.5), ("1s", 1000.0)])
def test_budget_forms(text, millis):
    assert parse_budget(text) == pytest.approx(millis)


@pytest.mark.parametrize("text", ["62", "fast", "", "ms", "-5ms", "0ms", "62 seconds", "62msx"])
def test_budget_errors(text):
    with pytest.raises(UserInputError):
        parse_budget(text)
