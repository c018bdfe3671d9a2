"""The worked example for sponsors (web/examples/consortia): its bundle loads as a
challenge for verified consortia with approval, terms in both languages and a proposal
stage; the data are the digits example's, made by its own script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from challenges import service
from challenges.bundle import open_bundle
from jiebang import accounts

EXAMPLE = Path(__file__).resolve().parents[2] / "web" / "examples" / "consortia"


def test_the_consortia_example_loads_with_its_rules(tmp_path, session, blobs):
    out = tmp_path / "bundle"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "make_data.py"), str(out)], check=True, timeout=120
    )
    assert {p.name for p in out.iterdir()} == {"train.csv", "test.csv", "labels.csv"}
    for name in ("challenge.yaml", "README.md", "TERMS.md", "TERMS.zh.md"):
        shutil.copy(EXAMPLE / name, out / name)
    accounts.create_org(session, slug="example-logistics", name="Example Logistics")
    with open_bundle(out) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    session.flush()
    assert item.slug == "postcode-digits-consortia"
    assert item.applicants["who"] == "consortia"
    assert item.registration["mode"] == "approval"
    assert item.proposal["shortlist"] == 5
    assert [c["weight"] for c in item.proposal["criteria"]] == [40, 30, 30]
    assert "牵头机构" in item.terms_zh and "the lead" in item.terms_en
    assert item.terms_version == 1
