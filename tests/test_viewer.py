"""The review viewer: every span is marked, the text survives escaping, the bytes are stable, and
the pages work in headless Chromium (selection, detail panel, side list, index timeline)."""
from __future__ import annotations

import json
import os
import re
import shutil
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

from noncoop import load
from noncoop.viewer import render_viewer

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SELECTED = "rgb(255, 154, 82)"  # var(--sel) in the viewer's CSS


class Page(HTMLParser):
    """A viewer page parsed: the text of #text, its marks as (ids, text), the embedded JSON, all tags."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.text, self.marks, self.json, self.tags = [], [], "", []
        self._depth, self._in_json = 0, False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if self._depth:
            self._depth += 1
            if tag == "mark":
                self.marks.append((attrs["data-ids"].split(" "), []))
        elif attrs.get("id") == "text":
            self._depth = 1
        self._in_json = attrs.get("id") == "viewer-data"

    def handle_endtag(self, tag):
        self._in_json = False
        if self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.text.append(data)
            if self._depth == 2:
                self.marks[-1][1].append(data)
        if self._in_json:
            self.json += data

    def spans(self) -> dict[str, str]:
        """{row ID: the concatenated text of its marks}."""
        out = {}
        for ids, parts in self.marks:
            for i in ids:
                out[i] = out.get(i, "") + "".join(parts)
        return out


@pytest.fixture(scope="module")
def tables():
    return load()


@pytest.fixture(scope="module")
def texts(tables):
    return {sid: (ROOT / "articles" / f"{sid}.txt").read_text(encoding="utf-8") for sid in tables["sources"].source_id}


@pytest.fixture(scope="module")
def pages(schema, tables, texts):
    return dict(render_viewer(schema, tables, texts))


def _rows(tables, source_id):
    """{row ID: span text} of one article's events and quotes."""
    e, q = tables["events"], tables["quotes"]
    e, q = e[e.source_id == source_id], q[q.source_id == source_id]
    return {**dict(zip(e.event_id, e.evidence)), **dict(zip(q.quote_id, q.text))}


def test_every_event_and_quote_is_marked_with_exactly_its_span(tables, texts, pages):
    assert sorted(pages) == sorted([f"docs/viewer/{s}.html" for s in texts] + ["docs/viewer/index.html"])
    for sid, text in texts.items():
        page = Page(pages[f"docs/viewer/{sid}.html"].decode("utf-8"))
        assert page.spans() == _rows(tables, sid)
        assert "".join(page.text) == text  # marks and unmarked pieces give back the article exactly
        data = json.loads(page.json)
        assert sorted(data["rows"]) == sorted(_rows(tables, sid))


def test_pages_are_self_contained(pages):
    for name, body in pages.items():
        page = Page(body.decode("utf-8"))
        assert not [t for t, a in page.tags if "src" in a or t in ("link", "iframe", "img", "object")], name
        assert "url(" not in body.decode("utf-8") and "@import" not in body.decode("utf-8")


def test_index_lists_articles_and_draws_a_bar_per_event(tables, pages):
    page = Page(pages["docs/viewer/index.html"].decode("utf-8"))
    links = {a["href"] for t, a in page.tags if t == "a"}
    assert {f"{s}.html" for s in tables["sources"].source_id} <= links
    assert {f"{e.source_id}.html#{e.event_id}" for e in tables["events"].itertuples()} <= links
    bars = [a for t, a in page.tags if t == "span" and {"bar", "off"} & set(a.get("class", "").split())]
    assert len(bars) == len(tables["events"])


def test_output_is_byte_reproducible_and_independent_of_row_order_and_dtypes(schema, tables, texts, pages):
    assert dict(render_viewer(schema, tables, texts)) == pages
    # as inside the build: enums as plain strings, rows in another order, an index that is not 0..n
    shuffled = {name: df.astype({c: "string" for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})
                .sample(frac=1, random_state=1).set_axis(range(100, 100 + len(df)))
                for name, df in tables.items()}
    assert dict(render_viewer(schema, shuffled, texts)) == pages


SPECIAL = ('Tom & Jerry <b>bold</b> "double" \'single\' 😀 a</script><script>alert(1)</script><!-- x -->\r\n\n'
           "Second paragraph\twith a tab &amp; an entity.")


def _synthetic(tables, text):
    """One article with overlapping, nested and crossing spans around markup-like text."""
    sid = "zz_special"
    span = lambda part: (text.index(part), text.index(part) + len(part))  # noqa: E731
    events = pd.concat([tables["events"].iloc[[0]]] * 2, ignore_index=True).assign(
        event_id=[f"{sid}-e01", f"{sid}-e02"], source_id=sid, summary="ends </script> & <b>")
    quotes = pd.concat([tables["quotes"].iloc[[0]]] * 2, ignore_index=True).assign(
        quote_id=[f"{sid}-q01", f"{sid}-q02"], source_id=sid, event_id=f"{sid}-e01", notes="</SCRIPT> <!--")
    for df, key, parts in ((events, "evidence", ['"double" \'single\' 😀 a</script>', "</script><script>alert(1)"]),
                           (quotes, "text", ["<b>bold</b>", "<!-- x -->\r\n\nSecond"])):
        df[["char_start", "char_end"]] = [span(p) for p in parts]
        df[key] = parts
    return {**tables, "sources": tables["sources"].iloc[[0]].assign(source_id=sid, title='A <i>"title"</i> & more'),
            "events": events, "quotes": quotes, "event_links": tables["event_links"].iloc[:0],
            "event_actors": tables["event_actors"].iloc[[0]].assign(event_id=f"{sid}-e01")}


def test_special_characters_are_escaped(schema, tables):
    frames = _synthetic(tables, SPECIAL)
    body = dict(render_viewer(schema, frames, {"zz_special": SPECIAL}))["docs/viewer/zz_special.html"].decode("utf-8")
    page = Page(body)
    assert "".join(page.text) == SPECIAL
    assert page.spans() == {**dict(zip(frames["events"].event_id, frames["events"].evidence)),
                            **dict(zip(frames["quotes"].quote_id, frames["quotes"].text))}
    assert body.lower().count("</script") == 2 and "<!-- x" not in body and "<b>" not in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body and "&amp;amp;" in body and "&#13;" in body
    assert " — A &lt;i&gt;&quot;title&quot;&lt;/i&gt; &amp; more</title>" in body
    rows = json.loads(page.json)["rows"]
    assert rows["zz_special-e01"]["row"]["summary"] == "ends </script> & <b>"
    assert rows["zz_special-q01"]["row"]["notes"] == "</SCRIPT> <!--"



def test_templates_print_values_as_escaped_text(schema, tables, texts):
    """Autoescaping: markup in an event's summary, a quote's text and a source's outlet is printed as
    text (the viewer's escaping: &quot;, &#x27;) in the side list, tooltips, index and timeline."""
    hostile = "<script>alert(\"x\")</script>'"
    frames = {**tables, "events": tables["events"].assign(summary=hostile),
              "quotes": tables["quotes"].assign(text=hostile), "sources": tables["sources"].assign(outlet=hostile)}
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;"
    for name, body in dict(render_viewer(schema, frames, texts)).items():
        body = body.decode("utf-8")
        assert "<script>alert" not in body and escaped in body, name
        assert body.count("<script") == (0 if name.endswith("index.html") else 2), name


def test_templates_mark_no_value_safe_and_ship_as_package_data():
    package = ROOT / "src" / "noncoop"
    files = [p for folder in ("templates", "static") for p in (package / folder).rglob("*") if p.is_file()]
    assert files and not [p.name for p in files if re.search(r"\|\s*safe\b", p.read_text(encoding="utf-8"))]
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert [p.name for p in files if not any(p.relative_to(package).match(g) for g in globs["noncoop"])] == []


# --- in the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory, pages):
    """The pages written to a scratch folder (docs/viewer need not exist)."""
    folder = tmp_path_factory.mktemp("site")
    for name, body in pages.items():
        (folder / Path(name).name).write_bytes(body)
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    pytest.importorskip("selenium")
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)}: apt-get install -y chromium chromium-driver")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('profile')}", "--window-size=1366,768"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shoot(browser, tmp_path_factory):
    """Save a screenshot of the viewport to a scratch folder and to $NONCOOP_SCREENSHOT_DIR if set."""
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("NONCOOP_SCREENSHOT_DIR"):
        folders.append(Path(os.environ["NONCOOP_SCREENSHOT_DIR"]))
        folders[-1].mkdir(parents=True, exist_ok=True)

    def save(name: str) -> None:
        browser.save_screenshot(str(folders[0] / name))
        for extra in folders[1:]:
            shutil.copy(folders[0] / name, extra / name)
    return save


def _errors(browser):
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def _first_solo_event(tables, source_id, page):
    """An event of the article with a mark that no other span covers (so one click selects it)."""
    solo = {ids[0] for ids, _ in Page(page).marks if len(ids) == 1}
    return next(e for e in tables["events"].itertuples() if e.source_id == source_id and e.event_id in solo)


def test_article_pages_in_chromium(browser, shoot, site, tables, texts, pages):
    from selenium.webdriver.common.by import By

    for n, (sid, text) in enumerate(sorted(texts.items())):
        browser.get((site / f"{sid}.html").as_uri())
        ids = browser.execute_script(
            "return [...new Set([...document.querySelectorAll('#text mark')].flatMap(m => m.dataset.ids.split(' ')))]")
        assert sorted(ids) == sorted(_rows(tables, sid))
        assert browser.execute_script("return document.getElementById('text').textContent") == text

        event = _first_solo_event(tables, sid, pages[f"docs/viewer/{sid}.html"].decode("utf-8"))
        browser.find_element(By.CSS_SELECTOR, f'#text mark[data-ids="{event.event_id}"]').click()
        detail = browser.find_element(By.ID, "detail")
        assert detail.get_attribute("data-id") == event.event_id
        start, end = event.date_start.strftime("%Y-%m-%d"), event.date_end.strftime("%Y-%m-%d")
        shown = detail.text
        assert event.status in shown and event.event_type in shown
        assert detail.find_element(By.CLASS_NAME, "date").text == (start if start == end else f"{start} – {end}")
        shoot(f"{n + 1}a_{sid}_event_clicked.png")

        quote = tables["quotes"][tables["quotes"].source_id == sid].quote_id.iloc[-1]
        browser.find_element(By.CSS_SELECTOR, f'.item[data-id="{quote}"]').click()
        marks = browser.find_elements(By.CSS_SELECTOR, f'#text mark[data-ids~="{quote}"]')
        assert marks and all("sel" in m.get_attribute("class").split() for m in marks)
        colours = {browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor", m) for m in marks}
        assert colours == {SELECTED}
        assert browser.execute_script(  # scrolled into view inside the text column
            "const r = arguments[0].getBoundingClientRect();"
            "const c = document.getElementById('text').getBoundingClientRect();"
            "return r.top >= c.top && r.bottom <= c.bottom;", marks[0])
        assert detail.get_attribute("data-id") == quote
        shoot(f"{n + 1}b_{sid}_quote_from_list.png")

        # where spans overlap, repeated clicks cycle through every row covering the piece
        ids = browser.execute_script("return [...document.querySelectorAll('#text mark')]"
                                     ".map(m => m.dataset.ids).find(d => d.includes(' '))")
        mark = browser.find_element(By.CSS_SELECTOR, f'#text mark[data-ids="{ids}"]')
        seen = set()
        for _ in ids.split():
            mark.click()
            seen.add(detail.get_attribute("data-id"))
        assert seen == set(ids.split())
        assert all(i in detail.find_element(By.CLASS_NAME, "here").text for i in (i.rsplit("-", 1)[1] for i in seen))
        shoot(f"{n + 1}c_{sid}_overlap_cycled.png")
        assert not _errors(browser)


def test_index_page_in_chromium(browser, shoot, site, tables):
    from selenium.webdriver.common.by import By

    browser.get((site / "index.html").as_uri())
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.articles tbody tr")) == len(tables["sources"])
    bars = browser.find_elements(By.CSS_SELECTOR, ".tl-track .bar")
    outside = browser.find_elements(By.CSS_SELECTOR, ".tl-track .off")
    assert len(bars) + len(outside) == len(tables["events"])
    events = tables["events"]
    assert len(outside) == ((events.date_end < "2022-01-01") | (events.date_start > "2022-12-31")).sum()
    assert min(b.rect["width"] for b in bars) >= 3
    shoot("9a_index_top.png")
    browser.execute_script("document.querySelector('.tl').scrollIntoView()")
    shoot("9b_index_timeline.png")

    link = browser.find_element(By.CSS_SELECTOR, ".tl-label a")
    target = link.get_attribute("href").rsplit("#", 1)[1]
    link.click()  # the event's page opens with the event selected
    assert browser.find_element(By.ID, "detail").get_attribute("data-id") == target
    assert browser.find_elements(By.CSS_SELECTOR, f'#text mark.sel[data-ids~="{target}"]')
    assert not _errors(browser)


def test_large_corpus_index_draws_each_article_as_the_union_of_its_event_intervals(schema, tables, texts,
                                                                                   monkeypatch):
    import noncoop.viewer as viewer

    monkeypatch.setattr(viewer, "TIMELINE_DETAIL_ARTICLES", 1)  # the two articles count as a large corpus
    markup = dict(render_viewer(schema, tables, texts))["docs/viewer/index.html"].decode("utf-8")
    page = Page(markup)
    assert len([a for t, a in page.tags if t == "div" and a.get("class") == "tl-row"]) == len(tables["sources"])
    day, first, last = pd.Timedelta(days=1), pd.Timestamp(viewer.AXIS[0]), pd.Timestamp(viewer.AXIS[1])
    percent = (last - first + day) / 100
    events = tables["events"]
    for sid in tables["sources"].source_id:
        timeline = markup.split('<div class="tl">', 1)[1]
        row = timeline.split(f'<a href="{sid}.html">{sid}</a>', 1)[1].split('<div class="tl-row">', 1)[0]
        for kind, is_long in (("long", True), ("short", False)):
            merged = []
            for left, title in re.findall(rf'class="bar {kind}" style="left:([0-9.]+)%[^"]*" title="([^"]+)"', row):
                start, _, end = title.partition(" – ")
                merged.append((pd.Timestamp(start), pd.Timestamp(end or start)))
                assert abs(first + float(left) * percent - merged[-1][0]) < pd.Timedelta(hours=1)  # drawn where it says
            own = events[(events.source_id == sid) & (events.date_precision.isin(["range", "year"]) == is_long)]
            clipped = [(max(s, first), min(e, last)) for s, e in zip(own.date_start, own.date_end)
                       if s <= last and e >= first]
            assert len(clipped) > 0 and len(merged) > 0, (sid, kind)
            for (_, a_end), (b_start, _) in zip(merged, merged[1:]):
                assert a_end + day < b_start  # disjoint and not touching: truly merged
            for s, e in clipped:  # every event's days lie in one bar
                assert any(a <= s and e <= b for a, b in merged), (sid, s, e)
            for a, b in merged:  # and every bar starts and ends where some event does
                assert a in {s for s, _ in clipped} and b in {e for _, e in clipped}, (sid, a, b)


_SELECT = """
const [start, end] = [arguments[0], arguments[1]], root = document.getElementById('text');
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
const range = document.createRange();
let seen = 0, node;
while ((node = walker.nextNode())) {
  const next = seen + node.length;
  if (start >= seen && start <= next && !range.__started) { range.setStart(node, start - seen); range.__started = true; }
  if (end >= seen && end <= next) { range.setEnd(node, end - seen); break; }
  seen = next;
}
const sel = window.getSelection();
sel.removeAllRanges();
sel.addRange(range);
root.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
"""


def _utf16(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-16-le")) // 2


def _pick(browser, text: str, start: int, end: int) -> list[dict]:
    """Select text[start:end] in the page as a reader would, and return the YAML the panel offers."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script(_SELECT, _utf16(text, start), _utf16(text, end))
    detail = browser.find_element(By.ID, "detail")
    WebDriverWait(browser, 5).until(lambda b: detail.get_attribute("data-pick"))
    return [yaml.safe_load(pre.get_attribute("textContent")) for pre in detail.find_elements(By.CSS_SELECTOR, "pre.yaml")]


def _nth(text: str, words: str, n: int) -> int:
    """Where the build looks for occurrence n of the words (overlapping appearances count)."""
    i = -1
    for _ in range(n):
        i = text.find(words, i + 1)
    return i


def test_selected_words_are_offered_as_ready_yaml_in_chromium(browser, shoot, site, texts):
    """Span picking: the panel's YAML, read back as the build reads it, names exactly the selected
    span, with its typographic characters, and an occurrence number only when the words repeat."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sid, text = sorted(texts.items())[0]
    browser.get((site / f"{sid}.html").as_uri())
    typographic = next(m for m in re.finditer(r"\S+ “[^”]+” \S+", text) if text.count(m.group(0)) == 1)
    repeated = [m.start() for m in re.finditer("Kherson", text)]
    cases = [(typographic.start(), typographic.end(), None),
             (typographic.start() - 1, typographic.end() + 1, None),  # surrounding spaces are trimmed
             (repeated[2], repeated[2] + len("Kherson"), 3)]
    for start, end, occurrence in cases:
        evidence, quote = _pick(browser, text, start, end)
        words = text[start:end].strip()
        assert evidence == {"evidence": words, **({"occurrence": occurrence} if occurrence else {})}
        assert quote == {"text": words, **({"occurrence": occurrence} if occurrence else {})}
        assert _nth(text, words, occurrence or 1) == start + (len(text[start:end]) - len(text[start:end].lstrip()))
    shoot("4_span_picked.png")
    button = browser.find_element(By.CSS_SELECTOR, "#detail .pick button.copy")
    button.click()  # the clipboard answers asynchronously: wait for the button to say how it went
    WebDriverWait(browser, 5).until(lambda b: button.text != "Copy")
    assert button.text in ("Copied", "Select and press Ctrl+C")
    # a plain click on a mark still selects its row
    browser.execute_script("window.getSelection().removeAllRanges()")
    mark = browser.find_element(By.CSS_SELECTOR, "#text mark")
    mark.click()
    assert browser.find_element(By.ID, "detail").get_attribute("data-id") in mark.get_attribute("data-ids").split()
    assert not _errors(browser)
