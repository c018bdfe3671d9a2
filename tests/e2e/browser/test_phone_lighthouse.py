"""Lighthouse 12 on the public pages, as a phone sees them (its default: a 412-px Moto G
Power, throttled), in both languages: SEO 100 and accessibility 100 (issue 16).

Lighthouse comes from the npm registry and drives Debian's Chromium (CHROME_PATH); the
test runs where ``lighthouse`` is on the PATH or named by JIEBANG_LIGHTHOUSE (see
docs/web.md), and is skipped elsewhere. Reports go to test-artifacts/lighthouse/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
REPORTS = ROOT / "test-artifacts" / "lighthouse"
CHROMIUM = os.environ.get("JIEBANG_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def lighthouse() -> str:
    found = os.environ.get("JIEBANG_LIGHTHOUSE") or shutil.which("lighthouse")
    if not found:
        pytest.skip("Lighthouse is not installed: see docs/web.md (npm install lighthouse@12)")
    return found


def _audit(lighthouse: str, url: str, lang: str, name: str) -> dict:
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = REPORTS / f"{lang}-{name}.json"
    subprocess.run(
        [
            lighthouse,
            url,
            "--only-categories=seo,accessibility,best-practices",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
            f"--locale={'zh' if lang == 'zh' else 'en'}",
            # The language switch's cookie: the page in the story's language.
            "--extra-headers=" + json.dumps({"Cookie": f"lang={lang}"}),
            "--chrome-flags=--headless --no-sandbox --disable-gpu",
        ],
        env=dict(os.environ, CHROME_PATH=CHROMIUM),
        check=True,
        timeout=240,
        capture_output=True,
    )
    return json.loads(report.read_text())


def test_public_pages_score_100_for_seo_and_accessibility(everyone, server, lang, lighthouse):
    slug = everyone["digits"].slug
    failed = []
    for name, path in [
        ("home", "/"),
        ("challenge", f"/challenges/{slug}"),
        ("rules", f"/challenges/{slug}/rules"),
        ("leaderboard", f"/challenges/{slug}/leaderboard"),
        ("winners", "/winners"),
    ]:
        result = _audit(lighthouse, f"{server}{path}", lang, name)
        for category in ("seo", "accessibility"):
            score = result["categories"][category]["score"]
            if score != 1:
                audits = [
                    ref["id"]
                    for ref in result["categories"][category]["auditRefs"]
                    if ref["weight"] and result["audits"][ref["id"]]["score"] not in (1, None)
                ]
                failed.append(f"{path}: {category} {score * 100:.0f} ({', '.join(audits)})")
    assert failed == [], "\n".join(failed)
