#!/usr/bin/env bash
# Set-up for `make book` and `make test`: the virtual environment, cvlib, the Jupyter kernel
# and the JavaScript the offline book needs (vendored from the npm registry). Safe to run again.
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
"$VENV/bin/python" -m pip install -q "pip==26.3"
"$VENV/bin/python" -m pip install -q -r requirements.txt -c constraints.txt
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 --display-name "Python 3 (cvlib)" >/dev/null

bash scripts/vendor_js.sh

echo "== set-up done"
