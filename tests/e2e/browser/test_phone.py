"""The public on a 360-px phone, with a screen reader, and from a shared link (issue 16).

One test per fix of the issue, each at 360 px in both languages, on the world of the
``everyone`` fixture. Screenshots of each challenge tab on a phone go to
test-artifacts/screenshots/<lang>-phone-<tab>.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 360, "height": 740}
HAN = "[\\u2e80-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef]"

# How many lines a range's text is drawn on: its boxes' tops, apart by more than half a
# line (glyphs from different fonts on one line start a few pixels apart).
LINES = """(range => Array.from(range.getClientRects()).map(r => r.top).sort((a, b) => a - b)
  .reduce((n, top, i, all) => n + (i > 0 && top - all[i - 1] > 8 ? 1 : 0), 1))"""

# Each run of Chinese characters in the matched elements' visible text that is drawn on
# more than one line: a word split across lines (名次 as 名/次).
SPLIT_WORDS = (
    (
        """(selector) => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    if (!cell.offsetParent) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/HAN+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        if (LINES(range) > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""
    )
    .replace("HAN", HAN)
    .replace("LINES", LINES)
)

# Visible text with Chinese in it whose nearest lang attribute is not Chinese.
UNTAGGED = (
    """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!/HAN/.test(node.data) || el.closest('script, style')) continue;
    const tagged = el.closest('[lang]');
    if (!tagged || !tagged.lang.startsWith('zh')) out.push(node.data.trim());
  }
  return out;
}"""
).replace("HAN", HAN)


def _phone(pages, *, login=None, as_user: str | None = None, **options):
    page = pages.new(width=PHONE["width"], **options)
    page.set_viewport_size(PHONE)
    if as_user:
        login(page, as_user)
    return page


def test_every_challenge_tab_is_whole_on_a_phone(pages, everyone, lang, login, shot, tr):
    """Fix 1: the seven tabs fit (wrapped) in 360 px; none is cut off or scrolled away."""
    page = _phone(pages, login=login, as_user="ada@example.com")
    slug = everyone["digits"].slug
    for key, path in [
        ("overview", ""),
        ("data", "/data"),
        ("rules", "/rules"),
        ("leaderboard", "/leaderboard"),
        ("announcements", "/announcements"),
        ("questions", "/questions"),
        ("team", "/team"),
    ]:
        page.goto(f"/challenges/{slug}{path}")
        tabs = page.get_by_role("navigation", name=tr("Challenge sections"))
        expect(tabs.get_by_role("link")).to_have_count(7)
        assert tabs.evaluate("n => n.scrollWidth <= n.clientWidth"), "the tab bar scrolls"
        cut = tabs.evaluate(
            """n => Array.from(n.querySelectorAll('a')).filter(a => {
                 const r = a.getBoundingClientRect(), box = n.getBoundingClientRect();
                 return r.left < box.left || r.right > box.right + 0.5
                   || a.scrollWidth > a.clientWidth; }).map(a => a.textContent)"""
        )
        assert cut == [], f"tabs cut off on {path or 'overview'}: {cut}"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, f"phone-{key}")


def test_tables_are_labelled_regions_a_keyboard_scrolls(
    pages, everyone, world, session, lang, tr, login
):
    """Fix 2: each table's wrapper is a named region in the tab order; the hall of winners
    fits a phone; an empty board is a sentence, not a table of headers."""
    world.challenge(
        slug="empty-board",
        opens_at="2020-01-01T00:00:00+08:00",
        closes_at="2099-01-01T00:00:00+08:00",
    )
    session.commit()
    page = _phone(pages)
    page.goto("/winners")
    region = page.get_by_role("region", name=tr("Decided challenges, latest first"))
    expect(region).to_be_visible()
    assert region.get_attribute("tabindex") == "0"
    assert region.evaluate("n => n.scrollWidth <= n.clientWidth"), "the winners table overflows"

    page.goto(f"/challenges/{everyone['digits'].slug}/leaderboard")
    wraps = page.locator(".table-wrap")
    expect(wraps).to_have_count(1)
    for wrap in wraps.all():
        assert wrap.get_attribute("role") == "region" and wrap.get_attribute("tabindex") == "0"
        label = wrap.get_attribute("aria-labelledby")
        assert label and page.locator(f"#{label}").evaluate("n => n.tagName") == "CAPTION"
    # Made wider than the phone, the region scrolls from the keyboard.
    wrap = wraps.first
    wrap.evaluate("n => { n.querySelector('table').style.minWidth = '900px'; }")
    wrap.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    assert wrap.evaluate("n => n.scrollLeft") > 0, "the arrow key did not scroll the table"

    # The team's own table keeps the columns that fit a phone.
    team = _phone(pages, login=login, as_user="ada@example.com")
    team.goto(f"/challenges/{everyone['digits'].slug}/team")
    region = team.get_by_role("region", name=tr("Latest first; public scores only"))
    assert region.evaluate("n => n.scrollWidth <= n.clientWidth"), "the team's table overflows"

    page.goto("/challenges/empty-board/leaderboard")
    expect(page.locator("table.board")).to_have_count(0)
    expect(page.get_by_text(tr("No scored submissions yet."))).to_be_visible()


def _text_sizes(page) -> list[tuple[str, float]]:
    """Each visible chart text and the size it is drawn at on the screen, in pixels."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('svg.chart text'))
          .filter(t => t.closest('svg').getBoundingClientRect().width > 0)
          .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize)
                     * t.closest('svg').getScreenCTM().a])"""
    )


def test_chart_text_is_legible_on_a_phone(pages, everyone, lang, login):
    """Fix 3: the team's progress chart and both dashboard charts draw their text at 12 px
    or more on a 360-px phone (the desktop drawing shrunk to 6.7-7.8 px)."""
    page = _phone(pages, login=login, as_user="ada@example.com")
    page.goto(f"/challenges/{everyone['digits'].slug}/team")
    sizes = _text_sizes(page)
    assert sizes and min(size for _, size in sizes) >= 11.5, sizes
    sponsor = _phone(pages, login=login, as_user="sponsor@example.com")
    sponsor.goto(f"/sponsor/challenges/{everyone['judged'].slug}")
    expect(sponsor.locator("svg.chart.narrow")).to_have_count(2)
    sizes = _text_sizes(sponsor)
    assert sizes and min(size for _, size in sizes) >= 11.5, sizes
    sponsor.set_viewport_size({"width": 1280, "height": 900})
    expect(sponsor.locator("svg.chart.wide").first).to_be_visible()
    expect(sponsor.locator("svg.chart.narrow").first).to_be_hidden()


def test_a_failed_form_says_error_and_focuses_the_field(pages, everyone, lang, tr):
    """Fix 4: a wrong password: "Error:" opens the title and the focus is on the field."""
    page = _phone(pages)
    page.goto("/login")
    title = page.title()
    page.get_by_label(tr("Email")).fill("ada@example.com")
    page.get_by_label(tr("Password"), exact=True).fill("wrong password")
    page.get_by_role("button", name=tr("Log in")).click()
    page.wait_for_load_state()
    expected = tr("Error: %(title)s", title=tr("Log in"))
    assert page.title().startswith(expected) and page.title() != title, page.title()
    assert page.evaluate("document.activeElement.id") == "password"
    error = page.locator("#password-error")
    expect(error).to_have_text(tr("Wrong email or password."))
    expect(page.get_by_label(tr("Password"), exact=True)).to_have_attribute(
        "aria-describedby", re.compile("password-error")
    )
    # Sign-up with two mistakes: the first field in error takes the focus.
    page.goto("/register")
    page.get_by_label(tr("Display name")).fill("Cy")
    page.get_by_label(tr("Email")).fill("not an address")
    page.get_by_label(tr("Password"), exact=True).fill("password123")
    page.get_by_label(tr("Repeat password")).fill("another one")
    page.evaluate("document.querySelector('main form').noValidate = true")
    page.get_by_role("button", name=tr("Sign up")).click()
    page.wait_for_load_state()
    assert page.title().startswith(tr("Error: %(title)s", title=tr("Sign up")))
    first = page.locator("main [aria-invalid=true]").first
    assert page.evaluate("document.activeElement.id") == first.get_attribute("id")


def test_chinese_words_stay_whole_in_narrow_cells(pages, everyone, lang, login):
    """Fix 5: no Chinese word (名次, 达到指标, 公开得分, 最终选择, ☆ 选择, 慧眼) is split."""
    page = _phone(pages, login=login, as_user="ada@example.com")
    slug = everyone["digits"].slug
    for path in [f"/challenges/{slug}/team", f"/challenges/{slug}/leaderboard", "/winners"]:
        page.goto(path)
        assert page.locator("table.board").count() > 0
        assert page.evaluate(SPLIT_WORDS, "table.board th, table.board td") == [], path
        # Buttons stay on one line, and Chinese headers (English ones wrap at spaces).
        tall = page.evaluate(
            """(selector) => Array.from(document.querySelectorAll(selector))
              .filter(e => e.offsetParent).filter(e => {
                const range = document.createRange();
                range.selectNodeContents(e);
                return LINES(range) > 1; }).map(e => e.textContent.trim())""".replace(
                "LINES", LINES
            ),
            "table.board th, table.board button" if lang == "zh" else "table.board button",
        )
        assert tall == [], f"{path}: {tall}"


def test_chinese_on_english_pages_is_tagged(pages, everyone, lang, login):
    """Fix 6: the brand, organization, team and people's names written in Chinese carry
    lang="zh-CN" on English pages (WCAG 3.1.2); Chinese pages say so on <html>."""
    page = _phone(pages, login=login, as_user="ada@example.com")
    slug = everyone["digits"].slug
    for path in [
        "/",
        "/winners",
        f"/challenges/{slug}",
        f"/challenges/{slug}/leaderboard",
        f"/challenges/{slug}/team",
        "/profile",
    ]:
        page.goto(path)
        assert page.evaluate(UNTAGGED) == [], path
    expect(page.locator("header .brand [lang=zh-CN]")).to_have_text("揭榜")


def test_pages_are_compressed_and_static_files_cached(pages, everyone, lang):
    """Fix 7: pages, styles and scripts arrive compressed; the stylesheet and the script
    have hashed URLs cached for a year."""
    page = _phone(pages)
    seen = {}
    page.on("response", lambda r: seen.__setitem__(r.url, r))
    response = page.goto(f"/challenges/{everyone['digits'].slug}")
    page.wait_for_load_state("networkidle")
    assert response.headers.get("content-encoding") in {"br", "zstd", "gzip"}
    assets = {url: r for url, r in seen.items() if "/static/" in url}
    assert {re.sub(r"\?.*", "", url.rsplit("/", 1)[1]) for url in assets} == {
        "style.css",
        "app.js",
    }
    for url, got in assets.items():
        assert re.search(r"\?v=[0-9a-f]{16}$", url), url
        headers = got.headers
        assert headers.get("cache-control") == "public, max-age=31536000, immutable", url
        assert headers.get("content-encoding") in {"br", "zstd", "gzip"}, url


def _meta(page, name: str) -> str | None:
    found = page.locator(f"meta[name='{name}'], meta[property='{name}']")
    return found.first.get_attribute("content") if found.count() else None


def test_shared_links_describe_the_page(pages, everyone, lang, tr):
    """Fix 8: each challenge, board and winners page has a meta description and Open Graph
    tags in the reader's language (title, sponsor, prize, deadline); and the other parts
    of Lighthouse's SEO audit hold: lang, title, descriptive and crawlable links."""
    digits, won = everyone["digits"], everyone["won"]
    page = _phone(pages)
    for path, facts in [
        (f"/challenges/{digits.slug}", [digits.sponsor.name, "100,000 CNY", digits.summary(lang)]),
        (f"/challenges/{digits.slug}/rules", [digits.sponsor.name, digits.summary(lang)]),
        (f"/challenges/{digits.slug}/leaderboard", ["100,000 CNY", digits.summary(lang)]),
        ("/winners", [won.title(lang), "起重 Lifters"]),
    ]:
        page.goto(path)
        description = _meta(page, "description")
        assert description, f"{path} has no meta description"
        for fact in facts:
            assert fact in description, f"{path}: {fact!r} not in {description!r}"
        assert _meta(page, "og:description") == description
        assert page.title().startswith(_meta(page, "og:title") or "-")
        assert _meta(page, "og:url") == page.url
        assert _meta(page, "og:locale") == ("zh_CN" if lang == "zh" else "en_US")
        assert _meta(page, "og:site_name") == tr("Jiebang")
        if lang == "zh":
            assert re.search(HAN, description), description
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
        vague = page.evaluate(
            """() => Array.from(document.querySelectorAll('a'))
              .filter(a => !a.getAttribute('href')
                || a.getAttribute('href').startsWith('javascript:')
                || /^(click here|here|more|read more|link|这里|更多)$/i.test(a.textContent.trim()))
              .map(a => a.outerHTML)"""
        )
        assert vague == [], f"{path}: {vague}"


def test_the_font_stack_names_open_chinese_fonts(pages, everyone, lang):
    """Fix 9: the stack names Noto Sans SC / Noto Sans CJK SC, Source Han Sans SC and
    WenQuanYi Micro Hei, and the Chinese drawn here is in a font the stack names."""
    page = _phone(pages)
    page.goto("/")
    stack = page.evaluate("getComputedStyle(document.body).fontFamily")
    for name in ("Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei"):
        assert f'"{name}"' in stack, stack
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    brand = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "header .brand [lang]"})
    used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": brand["nodeId"]})["fonts"]
    families = {font["familyName"] for font in used}
    assert families and all(f'"{family}"' in stack for family in families), (families, stack)
