"""GB 32100-2015 codes: real ones pass, each kind of mistake is named."""

import pytest

from jiebang import uscc
from jiebang.errors import Invalid

# Printed on the companies' own sites and licences (营业执照); each passes both checks.
REAL = {
    "914403001922038216": "华为技术有限公司",
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "91110000802100433B": "北京百度网讯科技有限公司",
    "91330100799655058B": "阿里巴巴（中国）有限公司",
    "91110108551385082Q": "小米科技有限责任公司",
    "91110000710925462X": "中国移动通信集团有限公司",
    "91350100M000100Y43": "the example of GB 32100's guides (a letter in the organization code)",
}


@pytest.mark.parametrize("code", sorted(REAL))
def test_real_codes_pass(code):
    assert uscc.validate(code) == code


@pytest.mark.parametrize(
    "typed",
    [
        " 9144 0300 7084 6113 6t ",
        "９１４４０３００７０８４６１１３６Ｔ",  # full-width, as some input methods type
        "91440300-708461136-T",
    ],
)
def test_what_people_paste_is_normalized(typed):
    assert uscc.validate(typed) == "91440300708461136T"


def _error(code: str) -> str:
    with pytest.raises(Invalid) as caught:
        uscc.validate(code)
    assert caught.value.field == "uscc"
    return caught.value.message


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("91440300708461136", "18 characters; this one has 17"),
        ("91440300708461136TT", "this one has 19"),
        ("", "this one has 0"),
        ("9144030070846113OT", "O cannot appear"),
        ("91440300708461136I", "I cannot appear"),
        ("S1440300708461136T", "S cannot appear"),
        ("Z1440300708461136T", "Z cannot appear"),
        ("V1440300708461136T", "V cannot appear"),
        ("B1440300708461136T", "1st character (the registration authority) cannot be B"),
        ("95440300708461136T", "2nd character (the kind of organization) cannot be 5 after 9"),
        ("9144A300708461136T", "Characters 3 to 8 (the area code) must be digits"),
        # One digit of the organization code changed (the check at 17 catches it).
        ("91440300708461137T", "Characters 9 to 17 (the organization code)"),
        ("91440300718461136T", "Characters 9 to 17 (the organization code)"),
        # Only the last character wrong.
        ("91440300708461136U", "The last character (the check character)"),
        ("914403001922038217", "The last character (the check character)"),
        # An area digit changed: only the final check can notice.
        ("91440301708461136T", "The last character (the check character)"),
    ],
)
def test_mistakes_are_named(code, says):
    assert says in _error(code)


def test_the_check_characters_are_computed_as_the_standard_says():
    assert uscc.WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert uscc.check_character("91440300708461136") == "T"
    assert uscc.org_check_character("19220382") == "1"
    assert uscc.org_check_character("80210043") == "3"  # Baidu's 80210043-3
    # 6 x 2 = 12: 11 - 1 = 10, written X; a sum of 0 gives 11, written 0.
    assert uscc.org_check_character("00000006") == "X"
    assert uscc.org_check_character("00000000") == "0"
    # A sum that is a multiple of 31 gives 31, written 0.
    assert uscc.check_character("0" * 17) == "0"
