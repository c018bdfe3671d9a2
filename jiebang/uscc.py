"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

Eighteen characters from ``0-9 A-H J-N P-R T-U W-Y`` (no I, O, Z, S, V):

=========  ===================================================================
1          registration authority (登记管理部门代码), e.g. 9 market regulation
2          kind of organization within that authority (机构类别代码)
3-8        administrative area code (登记管理机关行政区划码), six digits
9-17       organization code (组织机构代码, GB 11714), whose 9th character is its own
           check character: weights 3 7 9 10 5 8 4 2, mod 11, 10 -> X, 11 -> 0
18         check character over the first 17: weights 3^i mod 31
=========  ===================================================================

``normalize`` accepts what people paste (spaces, lower case, full-width letters);
``validate`` returns the normalized code or raises ``Invalid`` naming the wrong part.
"""

from __future__ import annotations

import unicodedata

from jiebang.errors import Invalid

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(CHARSET)}
# 3^i mod 31 for positions 1..17 (GB 32100-2015, 5.2).
WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714-1997: the organization code's check digit.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Registration authority (1st) -> the kind codes (2nd) it assigns (GB 32100-2015, annex A).
AUTHORITIES: dict[str, str] = {
    "1": "129",  # 机构编制: 机关, 事业单位, 其他
    "2": "19",  # 外交
    "3": "12345N",  # 司法行政: 律师事务所, 公证处, 基层法律服务所, 司法鉴定所, 仲裁委员会, 其他
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 (市场监管): 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业: 农村集体经济组织 ...
    "Y": "1",  # 其他
}


def normalize(code: str) -> str:
    """Half-width, upper case, without spaces or dashes."""
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(c for c in text if not c.isspace() and c != "-").upper()


def check_character(first17: str) -> str:
    """The 18th character for the first 17."""
    total = sum(VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def org_check_character(first8: str) -> str:
    """The organization code's 9th character for its first 8 (GB 11714)."""
    # GB 11714 numbers letters over the whole alphabet (A=10 ... Z=35).
    total = sum(int(c, 36) * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate(code: str, *, field: str = "uscc") -> str:
    """The normalized code, or ``Invalid`` saying which part is wrong."""
    code = normalize(code)
    if len(code) != 18:
        raise Invalid(
            field,
            "A unified social credit code has 18 characters; this one has %(n)d.",
            n=len(code),
        )
    bad = sorted({c for c in code if c not in VALUES})
    if bad:
        raise Invalid(
            field,
            "A unified social credit code uses digits and the capital letters other than "
            "I, O, Z, S and V; %(chars)s cannot appear.",
            chars=" ".join(bad),
        )
    kinds = AUTHORITIES.get(code[0])
    if kinds is None:
        raise Invalid(
            field,
            "The 1st character (the registration authority) cannot be %(char)s.",
            char=code[0],
        )
    if code[1] not in kinds:
        raise Invalid(
            field,
            "The 2nd character (the kind of organization) cannot be %(char)s after %(first)s.",
            char=code[1],
            first=code[0],
        )
    if not code[2:8].isdigit():
        raise Invalid(field, "Characters 3 to 8 (the area code) must be digits.")
    if org_check_character(code[8:16]) != code[16]:
        raise Invalid(
            field,
            "Characters 9 to 17 (the organization code) do not check out; look for a "
            "mistyped character.",
        )
    if check_character(code[:17]) != code[17]:
        raise Invalid(
            field,
            "The last character (the check character) does not match the others; look for "
            "a mistyped character.",
        )
    return code
