// Loads the vendored MathJax 3 (scripts/vendor_js.sh, copied into _static/mathjax) and tells it where its own files are,
// so that its components and fonts come from the book, not from a CDN. Sphinx loads this
// file as `mathjax_path`; it cannot load MathJax directly, since MathJax would read
// Sphinx's cache-busting query string (?v=...) as a component to load.
(function () {
  var base = document.currentScript.src.replace(/[^\/]*$/, "") + "mathjax";
  var config = window.MathJax || {};
  config.loader = config.loader || {};
  config.loader.paths = Object.assign({}, config.loader.paths, {mathjax: base});
  window.MathJax = config;
  var script = document.createElement("script");
  script.src = base + "/tex-mml-chtml.js";
  script.async = true;
  document.head.appendChild(script);
})();
