"""Issue 14's "done when" as one story: a sponsor lists a challenge for verified
organizations and consortia, with approval and a proposal stage; five organizations
register on the web with real credit codes and an administrator verifies them (one is
sent back for a wrong detail first); two consortia and one company alone apply, are
approved, hand in proposals, are reviewed and two are shortlisted; only a shortlisted
team submits (and is scored by the worker), the third is refused with the reason on the
page; the open example challenge still lets anyone form a team and submit.

One story, not one per language: the administrator, the Tencent consortium and the
reviewer read English; the sponsor, the Alibaba consortium and China Mobile read
Chinese. Every step runs against `jiebang serve` and `jiebang worker`."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SLUG = "digits-consortia"
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
CRITERIA = [
    {"name": "technical", "title": {"en": "Technical approach", "zh": "技术方案"}, "weight": 60},
    {"name": "plan", "title": {"en": "Plan and deliverables", "zh": "实施计划"}, "weight": 40},
]
# Real unified social credit codes (统一社会信用代码) of real companies; each person
# registers their company and is its administrator. "lang" is the language they read.
ORGS = {
    "tencent": ("91440300708461136T", "深圳市腾讯计算机系统有限公司", "Tencent", "en"),
    "baidu": ("91110000802100433B", "北京百度网讯科技有限公司", "Baidu", "en"),
    "alibaba": ("91330100799655058B", "阿里巴巴（中国）有限公司", "Alibaba", "zh"),
    "xiaomi": ("91110108551385082Q", "小米科技有限责任公司", "Xiaomi", "zh"),
    "china-mobile": ("91110000710925462X", "中国移动通信集团有限公司", "China Mobile", "zh"),
}
TERMS_EN = "Play fair: one team per organization, results published with the team's name."
TERMS_ZH = "公平竞赛：每个单位一个团队，成绩以团队名义公布。"


@pytest.fixture
def lang() -> str:
    """One story (the module's pages choose their language one by one)."""
    return "en"


@pytest.fixture
def shot():
    """Full-page screenshots as the other stories take them, named by the language the
    page is in (this story mixes them)."""

    def take(page, name: str) -> None:
        lang = "zh" if page.evaluate("document.documentElement.lang").startswith("zh") else "en"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{lang}-{name}.png", full_page=True)

    return take


@pytest.fixture
def zh(catalog):
    """The words a Chinese page shows for an English message."""

    def translate(message: str, **params) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

    return translate


@pytest.fixture
def listed(world, session, digits, digits_bundle, tmp_path, server, cli):
    """The example challenge stays open to anyone (as before). Its sponsor loads a
    second bundle with `jiebang challenges load`, a draft: verified consortia only,
    approval, terms in both languages and a proposal stage with a shortlist of two. The
    people: the sponsor's member, an administrator, an outside expert, one person per
    company and one participant."""
    root = tmp_path / "consortia"
    shutil.copytree(digits_bundle, root)
    spec = yaml.safe_load((root / "challenge.yaml").read_text())
    closes = dt.datetime.fromisoformat(spec["closes_at"])
    spec.update(
        slug=SLUG,
        title={"en": "Digit recognition for consortia", "zh": "联合体手写数字识别"},
        applicants={"who": "consortia", "max_partners": 2, "verified": True},
        registration={
            "mode": "approval",
            "closes_at": (closes - dt.timedelta(days=7)).isoformat(),
            "terms": {"en": "TERMS.md", "zh": "TERMS.zh.md"},
        },
        proposal={
            "due": (closes - dt.timedelta(days=10)).isoformat(),
            "max_mb": 5,
            "shortlist": 2,
            "criteria": CRITERIA,
        },
    )
    (root / "challenge.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
    (root / "TERMS.md").write_text(TERMS_EN + "\n")
    (root / "TERMS.zh.md").write_text(TERMS_ZH + "\n")
    assert cli("challenges", "load", str(root)) == f"loaded {SLUG} (draft)"
    world.user("sponsor@example.com", "sponsor", org=digits.sponsor)
    world.user("admin@example.com", "admin")
    world.user("expert@example.com")
    world.user("open@example.com")
    for slug in ORGS:
        world.user(f"lead@{slug}.example.com")
    session.commit()


def _team_ids(session) -> dict[str, int]:
    from sqlalchemy import select

    from challenges.models import Challenge, Team

    session.expire_all()
    rows = session.execute(
        select(Team.name, Team.id).join(Challenge, Challenge.id == Team.challenge_id)
        .where(Challenge.slug == SLUG)
    ).all()  # fmt: skip
    return dict(rows)


def test_consortia_apply_are_shortlisted_and_only_the_shortlisted_submit(
    pages, listed, session, tr, zh, check, login, shot, good_bundle_zip, tmp_path
):
    from tests.challenges.test_proposals import make_pdf

    def person(slug: str):
        """The page of the person of ``slug``'s company, in their language, and their words."""
        pages.lang = ORGS[slug][3]
        page = pages.new()
        login(page, f"lead@{slug}.example.com")
        return page, (tr if ORGS[slug][3] == "en" else zh)

    # 1. Five companies register on the web; Xiaomi types Baidu's English name.
    people = {}
    for slug, (code, name_zh, name_en, _lang) in ORGS.items():
        page, words = person(slug)
        people[slug] = (page, words)
        page.goto("/organization/new")
        page.get_by_label(words("Legal name in Chinese")).fill(name_zh)
        page.get_by_label(words("Legal name in English")).fill(
            "Baidu" if slug == "xiaomi" else name_en
        )
        page.get_by_label(words("Unified social credit code")).fill(code)
        page.get_by_role("button", name=words("Register"), exact=True).click()
        expect(page.locator("#verification")).to_contain_text(words("waiting for an administrator"))
    xiaomi, xiaomi_words = people["xiaomi"]
    expect(xiaomi.locator("h1")).to_have_text("小米科技有限责任公司")  # read in Chinese
    check(xiaomi)

    pages.lang = "en"
    admin = pages.new()
    login(admin, "admin@example.com")
    admin.goto("/admin/orgs")
    check(admin)
    row = admin.locator("tr", has_text=ORGS["xiaomi"][0])
    row.get_by_label(tr("Note (needed to refuse or request changes)")).fill(
        "The English name is Baidu's; give Xiaomi's legal name."
    )
    row.get_by_role("button", name=tr("Request changes")).click()
    expect(admin.get_by_text("The English name is Baidu's")).to_be_visible()

    xiaomi.reload()
    expect(xiaomi.get_by_text("The English name is Baidu's")).to_be_visible()
    xiaomi.get_by_label(xiaomi_words("Legal name in English")).fill("Xiaomi")
    xiaomi.get_by_role("button", name=xiaomi_words("Submit for verification")).click()
    expect(xiaomi.locator("#verification")).to_contain_text(
        xiaomi_words("waiting for an administrator")
    )

    admin.reload()
    for code, *_ in ORGS.values():
        admin.locator("tr", has_text=code).get_by_role(
            "button", name=tr("Verify"), exact=True
        ).click()
        expect(admin.locator("tr", has_text=code)).to_contain_text(tr("verified"))
    shot(admin, "applicants-orgs-verified")

    # 2. The sponsor (in Chinese) asks for review; the administrator publishes.
    pages.lang = "zh"
    sponsor = pages.new()
    login(sponsor, "sponsor@example.com")
    sponsor.goto(f"/sponsor/challenges/{SLUG}")
    sponsor.get_by_role("button", name=zh("Request review")).click()
    expect(sponsor.locator(".status.in_review")).to_be_visible()
    admin.goto("/admin")
    admin.locator("tr", has_text=SLUG).get_by_role("button", name=tr("Approve and publish")).click()
    admin.get_by_role("button", name=tr("Publish the challenge")).click()
    expect(admin.get_by_text(tr("Published."))).to_be_visible()

    # 3. Two consortia (a lead and a partner who confirms) and China Mobile alone.
    teams = {
        "tencent": ("腾讯百度联合体 Tencent-Baidu", "baidu"),
        "alibaba": ("阿里小米联合体", "xiaomi"),
        "china-mobile": ("中国移动 China Mobile", None),
    }
    for lead, (team_name, partner) in teams.items():
        page, words = people[lead]
        page.goto(f"/challenges/{SLUG}/team")
        page.get_by_label(words("Team name")).fill(team_name)
        page.get_by_role("button", name=words("Create a team")).click()
        expect(
            page.get_by_role("heading", name=words("Team %(name)s", name=team_name))
        ).to_be_visible()
        page.goto(f"/challenges/{SLUG}/registration")
        expect(page.locator(".terms")).to_contain_text(
            TERMS_EN if ORGS[lead][3] == "en" else TERMS_ZH
        )
        if partner:
            # The partner's administrator tells the lead its short name: Xiaomi's was made
            # from the English name it first typed, and stays.
            other, other_words = people[partner]
            other.goto("/organization")
            short = other.locator("#org-slug code").text_content().strip()
            assert short == ("baidu-2" if partner == "xiaomi" else partner)
            page.get_by_label(words("Partner organization (its short name on the platform)")).fill(
                short
            )
            page.get_by_role("button", name=words("Add partner")).click()
            expect(page.locator("#team-orgs")).to_contain_text(
                words("waiting for its confirmation")
            )
            # Unconfirmed, the partner keeps the team from registering, and is named.
            page.get_by_label(
                words("I have read the terms (version %(v)s) and accept them for my team.", v=1)
            ).check()
            page.get_by_role("button", name=words("Register the team")).click()
            expect(page.get_by_role("main")).to_contain_text(
                words(
                    "Waiting for these partners to confirm: %(orgs)s; or remove them.",
                    orgs=ORGS[partner][2],
                )
            )
            other.goto("/consortium-invitations")
            expect(other.locator("#invitations")).to_contain_text(team_name)
            check(other)
            other.get_by_role("button", name=other_words("Confirm"), exact=True).click()
            expect(other.get_by_text(other_words("Partnership confirmed."))).to_be_visible()
            page.reload()
        page.get_by_label(
            words("I have read the terms (version %(v)s) and accept them for my team.", v=1)
        ).check()
        page.get_by_role("button", name=words("Register the team")).click()
        expect(page.get_by_text(words("Your team's registration is in."))).to_be_visible()
        expect(page.locator("#registration-state")).to_contain_text(
            words("waiting for the sponsor")
        )
    check(people["tencent"][0])
    shot(people["alibaba"][0], "applicants-registration")

    # 4. The sponsor approves the three on the web.
    ids = _team_ids(session)
    sponsor.goto(f"/challenges/{SLUG}/registrations")
    check(sponsor)
    for team_name, _partner in teams.values():
        sponsor.locator(f"#registration-{ids[team_name]}").get_by_role(
            "button", name=zh("Approve")
        ).click()
        expect(sponsor.get_by_text(zh("Registration approved."))).to_be_visible()
    expect(sponsor.locator(f"#registration-{ids['腾讯百度联合体 Tencent-Baidu']}")).to_contain_text(
        "北京百度网讯科技有限公司"
    )
    shot(sponsor, "applicants-registrations")

    # 5. Each team hands in its proposal PDF.
    for lead in teams:
        page, words = people[lead]
        pdf = tmp_path / f"{lead}.pdf"
        pdf.write_bytes(make_pdf(lead))
        page.goto(f"/challenges/{SLUG}/proposal")
        page.get_by_label(words("PDF file")).set_input_files(pdf)
        page.get_by_role("button", name=words("Upload")).click()
        expect(page.get_by_text(words("Proposal received."))).to_be_visible()

    # 6. The sponsor assigns an outside expert, who scores the three in English.
    sponsor.goto(f"/challenges/{SLUG}/proposals")
    sponsor.get_by_label(zh("Reviewer’s email")).fill("expert@example.com")
    sponsor.get_by_role("button", name=zh("Assign reviewer")).click()
    expect(sponsor.get_by_text(zh("Reviewer assigned."))).to_be_visible()
    pages.lang = "en"
    expert = pages.new()
    login(expert, "expert@example.com")
    expert.goto(f"/review/{SLUG}")
    check(expert)
    marks = {"tencent": ("90", "80"), "alibaba": ("75", "85"), "china-mobile": ("60", "50")}
    for lead, (technical, plan) in marks.items():
        team_id = ids[teams[lead][0]]
        expert.fill(f"#s-{team_id}-technical", technical)
        expert.fill(f"#s-{team_id}-plan", plan)
        expert.locator(f"section[aria-labelledby=p-{team_id}]").get_by_role(
            "button", name=tr("Save scores")
        ).click()
        expect(expert.get_by_text(tr("Scores saved."))).to_be_visible()

    # 7. The due date passes (the clock, not a page); the sponsor shortlists two.
    from challenges.models import Challenge
    from jiebang.db import utcnow

    item = session.query(Challenge).filter_by(slug=SLUG).one()
    item.proposal = dict(item.proposal, due=(utcnow() - dt.timedelta(minutes=1)).isoformat())
    session.commit()
    sponsor.reload()
    rows = sponsor.locator("table.board tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("86.00")  # 90·0.6 + 80·0.4
    expect(rows.nth(1)).to_contain_text("79.00")  # 75·0.6 + 85·0.4
    expect(rows.nth(2)).to_contain_text("56.00")
    for lead in ("tencent", "alibaba"):
        sponsor.get_by_label(zh("Shortlist %(team)s", team=teams[lead][0])).check()
    sponsor.get_by_role("button", name=zh("Make the shortlist final")).click()
    expect(sponsor.get_by_text(zh("The shortlist is final; the teams are told."))).to_be_visible()
    check(sponsor)
    shot(sponsor, "applicants-shortlist")

    # 8. A shortlisted team submits and is scored; China Mobile is refused, with why.
    for lead in ("tencent", "china-mobile"):
        page, words = people[lead]
        shortlisted = lead == "tencent"
        page.goto(f"/challenges/{SLUG}/proposal")
        expect(page.locator("#shortlist-result")).to_contain_text(
            words(
                "Your team is shortlisted: it may submit solutions."
                if shortlisted
                else "Your team was not shortlisted."
            )
        )
        page.goto(f"/challenges/{SLUG}/team")
        refusal = page.locator("#submit-refusal")  # said before any upload
        if shortlisted:
            expect(refusal).to_have_count(0)
        else:
            expect(refusal).to_contain_text(
                words("Your team was not shortlisted for this challenge, so it cannot submit.")
            )
        page.get_by_label(words("Code bundle (zip)")).check()
        page.get_by_label(words("File"), exact=True).set_input_files(good_bundle_zip)
        page.get_by_role("button", name=words("Submit"), exact=True).click()
        if shortlisted:
            page.wait_for_url("**/submissions/*", timeout=120_000)
            page.goto(f"/challenges/{SLUG}/team")
            status = page.locator("table.board tbody tr").first.locator("[data-field=status]")
            expect(status).to_have_text(words("scored"), timeout=240_000)
        else:
            expect(page.locator(".upload-error")).to_contain_text(
                words("Your team was not shortlisted for this challenge, so it cannot submit.")
            )
            assert page.url.endswith("/team")
            shot(page, "applicants-not-shortlisted")

    # 9. Meanwhile the open challenge, with none of these keys, is as before: anyone,
    # in no organization, forms a team and submits.
    pages.lang = "en"
    anyone = pages.new()
    login(anyone, "open@example.com")
    anyone.goto("/challenges/handwritten-digits/team")
    anyone.get_by_label(tr("Team name")).fill("Solo 独行")
    anyone.get_by_role("button", name=tr("Create a team")).click()
    expect(anyone.locator("#registration-panel")).to_have_count(0)
    expect(anyone.locator("#submit-refusal")).to_have_count(0)
    anyone.get_by_label(tr("Code bundle (zip)")).check()
    anyone.get_by_label(tr("File"), exact=True).set_input_files(good_bundle_zip)
    anyone.get_by_role("button", name=tr("Submit"), exact=True).click()
    anyone.wait_for_url("**/submissions/*", timeout=120_000)
    expect(
        anyone.get_by_text(tr("Submission received; it is queued for evaluation."))
    ).to_be_visible()
    anyone.goto("/challenges/handwritten-digits/team")
    status = anyone.locator("table.board tbody tr").first.locator("[data-field=status]")
    expect(status).to_have_text(tr("scored"), timeout=240_000)
