"""A challenge's description in English and Chinese (issue 15, friction 2)."""

from __future__ import annotations

import pytest

from challenges import service
from challenges.bundle import ChallengeBundleError, open_bundle
from tests.conftest import write_bundle


def _bundle(root, description):
    folder = write_bundle(root, overrides={"description": description})
    (folder / "README.zh.md").write_text("# 测试\n\n预测奇偶。\n", "utf-8")
    return folder


def test_a_bundle_gives_a_description_per_language(tmp_path, session, blobs, world):
    world.org()
    folder = _bundle(tmp_path / "b", {"en": "README.md", "zh": "README.zh.md"})
    with open_bundle(folder) as bundle:
        assert bundle.description_md_zh.startswith("# 测试")
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    assert item.description("zh-CN").startswith("# 测试")
    assert item.description("en").startswith("# Test challenge")


def test_one_file_is_the_english_and_chinese_falls_back(tmp_path, session, blobs, world):
    world.org()
    with open_bundle(_bundle(tmp_path / "b", "README.md")) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    assert item.description_md_zh == ""
    assert item.description("zh") == item.description_md


@pytest.mark.parametrize(
    "description",
    [{"en": "README.md", "zh": "MISSING.md"}, {"zh": "README.zh.md"}, {"en": "../x.md"}],
)
def test_bad_descriptions_name_the_key(tmp_path, description):
    folder = _bundle(tmp_path / "b", description)
    with pytest.raises(ChallengeBundleError) as refused, open_bundle(folder):
        pass
    assert any(p.startswith("description") for p in refused.value.problems), refused.value
