"""The base image: Python 3.11 with the scientific stack, non-root by default."""

from __future__ import annotations

import pytest

import sandboxes

pytestmark = pytest.mark.docker


def test_base_image_config(client, base_image):
    config = client.images.get(base_image).attrs["Config"]
    assert config["User"] == "10001"
    assert config["WorkingDir"] == "/tmp"
    assert sandboxes.base_image_id(client) == base_image
    assert sandboxes.base_image_id(client, "jiebang/no-such-image:0") is None


def test_existing_base_image_is_not_rebuilt(client, base_image):
    assert sandboxes.build_base_image(client) == base_image


def test_base_image_runs_the_stack(client, base_image, tmp_path):
    code = (
        "import sys, numpy, pandas, sklearn.linear_model as lm\n"
        "x = pandas.DataFrame({'a': [0.0, 1.0, 2.0, 3.0]})\n"
        "model = lm.LogisticRegression().fit(x, [0, 0, 1, 1])\n"
        "print(sys.version_info[:2], model.predict(x.tail(1)))\n"
    )
    (tmp_path / "input").mkdir()
    with sandboxes.run(
        client,
        image_id=base_image,
        input_dir=tmp_path / "input",
        command=["python", "-c", code],
        limits=sandboxes.Limits(memory_mb=512, time_limit_s=60),
        scratch_dir=tmp_path / "scratch",
    ) as result:
        pass
    assert result.exit_code == 0, result.log
    assert result.log.strip() == "(3, 11) [1]"
