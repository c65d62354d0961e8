#!/usr/bin/env bash
# Set-up for `make book` and `make test`: the virtual environment, cvlib, the Jupyter kernel,
# the JavaScript the offline book needs (vendored from the npm registry) and, for the
# browser test, Debian's chromium and chromium-driver. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
echo "== installing Python packages (requirements.txt; first time about 3 minutes)"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements.txt
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 --display-name "Python 3 (cvlib)" >/dev/null

bash scripts/vendor_js.sh

if [ "${WITH_BROWSER:-0}" = 1 ] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  echo "== installing chromium and chromium-driver (Debian) for the browser test"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
fi
echo "== set-up done"
