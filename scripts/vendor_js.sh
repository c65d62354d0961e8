#!/usr/bin/env bash
# Vendor the JavaScript the built book needs, so it opens offline with no request to another host:
#   MathJax 3 (formulas), require.js + the Jupyter widgets HTML manager (stored widget state).
# Taken from the npm registry with `npm pack`; unpacked into _vendor/ (copied into the book's _static/) (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=_vendor
[ -f "$OUT/.done-1" ] && exit 0
if ! command -v npm >/dev/null; then
  echo "== installing npm (Debian) to vendor the book's JavaScript"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q npm
fi
echo "== vendoring JavaScript for the offline book"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mathjax@3.2.2 requirejs@2.3.8 @jupyter-widgets/html-manager@1.0.15 >/dev/null)
rm -rf "$OUT" && mkdir -p "$OUT/mathjax" "$OUT/widgets"
tar xzf "$tmp/mathjax-3.2.2.tgz" -C "$tmp" package/es5 && mv "$tmp/package/es5/"* "$OUT/mathjax/" && rm -rf "$tmp/package"
tar xzf "$tmp/requirejs-2.3.8.tgz" -C "$tmp" package/require.js && mv "$tmp/package/require.js" "$OUT/widgets/" && rm -rf "$tmp/package"
tar xzf "$tmp/jupyter-widgets-html-manager-1.0.15.tgz" -C "$tmp" package/dist && mv "$tmp/package/dist/"* "$OUT/widgets/"
touch "$OUT/.done-1"
