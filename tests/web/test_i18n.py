from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


def _key(value):
    """Plural messages have a tuple (or, read from a .mo, a list) of forms."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _translated(string) -> bool:
    return all(string) if isinstance(string, list | tuple) else bool(string)


def test_every_message_has_a_chinese_translation_and_the_mo_is_current():
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", "rb") as f:
        po = read_po(f)
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = read_po(f)
    untranslated = [m.id for m in po if m.id and not _translated(m.string)]
    assert untranslated == []
    assert {_key(m.id) for m in pot if m.id} <= {_key(m.id) for m in po if m.id}, (
        "run scripts/translations.py"
    )
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = read_mo(f)
    compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
    assert compiled == {_key(m.id): _key(m.string) for m in po if m.id}


def test_placeholders_survive_translation():
    """A translation keeps every %(name)s of its message, or formatting it fails."""
    import re

    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", "rb") as f:
        po = read_po(f)
    names = re.compile(r"%\((\w+)\)")
    for message in po:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert set(names.findall(string)) == set(names.findall(ids[0])), message.id
