import pytest

from jiebang.errors import Invalid
from jiebang.names import clean_name, name_key


def test_names_are_normalised():
    assert clean_name("  Ｂｌｕｅ\u00a0\u3000Team ") == "Blue Team"
    assert clean_name("慧眼 Sharp Eyes") == "慧眼 Sharp Eyes"
    assert clean_name("Café") == clean_name("Cafe\u0301")  # one form of é


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\x1b", "\x7f"])
def test_invisible_and_control_characters_are_named(char):
    with pytest.raises(Invalid) as refused:
        clean_name(f"ab{char}cd", field="title")
    assert refused.value.field == "title"
    assert f"U+{ord(char):04X}" in refused.value.message
    assert refused.value.params["position"] == 3


def test_length_is_counted_after_normalising():
    with pytest.raises(Invalid, match="2 to 5"):
        clean_name(" \u00a0a ", low=2, high=5)
    with pytest.raises(Invalid, match="1 to 100"):
        clean_name("")
    assert clean_name("ab", low=2, high=5) == "ab"


def test_keys_of_names_that_look_alike_are_equal():
    keys = {name_key(n) for n in ("Team A", "team a", "team\u00a0a", "ｔｅａｍ ａ", "TEAM  A")}
    assert keys == {"team a"}
    assert name_key("Straße") == name_key("STRASSE")
    assert name_key("Team A") != name_key("Team B")
