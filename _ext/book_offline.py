"""Sphinx extension: the book's JavaScript comes from _vendor (vendored at set-up), never from a CDN.

- MathJax 3 is loaded by _ext/static/mathjax-offline.js, which tells it where its own
  components and fonts are (copied into _static/mathjax).
- On pages that show stored widgets (progress bars), require.js and the Jupyter
  widgets HTML manager render it; require.js is told that the manager's modules and fonts
  live in _static/widgets. Both load last (deferred), after the theme's scripts, so that
  require.js does not catch their anonymous define() calls.
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def add_widget_scripts(app, pagename, templatename, context, doctree):
    if WIDGET_VIEW not in context.get("body", ""):
        return
    app.add_js_file(None, priority=900, body=(
        "var require = {paths: {'@jupyter-widgets/html-manager/dist': "
        "document.documentElement.dataset.content_root + '_static/widgets'}};"))
    app.add_js_file("widgets/require.js", priority=901, defer="defer")
    app.add_js_file("widgets/embed-amd.js", priority=902, defer="defer")


def setup(app):
    app.config.mathjax_path = "mathjax-offline.js"
    app.connect("html-page-context", add_widget_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
