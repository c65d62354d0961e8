"""Sphinx extension: two roles for the Results page, read from committed files when the book is built.

    {full}`chapters/01-semantic/fcn.ipynb::test_miou:.3f`   the value in results/full-*.json
                                                           (written by `make full`), or a dash
    {chapter-time}`chapters/01-semantic/fcn.ipynb`         the chapter's execution time, stored in
                                                           its metadata by scripts/execute.py

and a directive for a Markdown table that a chapter glued (myst-nb pastes only text and HTML
from another document):

    ```{chapter-markdown} chapters/03-detection/yolo_ssd.ipynb::speed_table
    ```

The quick profile's numbers need no role: myst-nb's {glue:text} pastes them from the chapters'
stored outputs. Nothing here is typed by hand, so the page cannot disagree with the files.
"""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

from cvlib.results import glued_outputs

MISSING = "\u2014"   # an em dash: not measured


def _root(inliner) -> Path:
    return Path(inliner.document.settings.env.srcdir)


def _text(rawtext: str, text: str):
    return [nodes.inline(rawtext, text, classes=["pasted-text"])], []


def full_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """The value of `path::key[:format]` in every results/full-*.json, joined (device in brackets)."""
    where, _, spec = text.partition("::")
    key, _, fmt = spec.partition(":")
    found = []
    for path in sorted((_root(inliner) / "results").glob("full-*.json")):
        record = json.loads(path.read_text())
        chapter = record.get("chapters", {}).get(where, {})
        value = chapter.get("seconds") if key == "seconds" else chapter.get("headlines", {}).get(key)
        if value is not None:
            found.append(f"{format(value, fmt or 'g')} ({record.get('device', '?')})")
    return _text(rawtext, " / ".join(found) or MISSING)


def chapter_time_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """`path`'s execution time in seconds, the machine's cores, OMP_NUM_THREADS and load average (at the
    start and the end), from the notebook's metadata."""
    path = _root(inliner) / text
    if not path.is_file():
        msg = inliner.reporter.error(f"chapter-time: no notebook {text}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    run = json.loads(path.read_text()).get("metadata", {}).get("cvlib", {}).get("execution")
    if not run:
        return _text(rawtext, MISSING)
    load = run.get("load_average") or ["?", "?"]
    threads = run.get("OMP_NUM_THREADS") or "all"
    return _text(rawtext, f"{run['seconds']:.0f} s ({run['cores']} cores, {threads} thread(s), "
                          f"load {load[0]}-{load[1]}, {run['date']})")


class ChapterMarkdown(SphinxDirective):
    """The Markdown output glued as `key` in the stored notebook `path`, parsed into this page."""
    required_arguments = 1

    def run(self):
        where, _, key = self.arguments[0].partition("::")
        path = Path(self.env.srcdir) / where
        self.env.note_dependency(str(path))
        found = [data["text/markdown"] for name, data in (glued_outputs(path) if path.is_file() else [])
                 if name == key and "text/markdown" in data]
        if not found:
            return [self.state.document.reporter.error(
                f"chapter-markdown: no Markdown glued as {key!r} in {where}", line=self.lineno)]
        text = found[-1]
        container = nodes.container()
        self.state.nested_parse(StringList(text.splitlines(), source=where), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("chapter-markdown", ChapterMarkdown)
    app.add_role("full", full_role)
    app.add_role("chapter-time", chapter_time_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
