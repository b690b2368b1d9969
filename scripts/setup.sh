#!/usr/bin/env bash
# Everything a fresh Debian machine (Python 3.11, root, no display) needs before
# imuno runs: system packages, uv, and the locked Python dependencies in .venv.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

export UV_PYTHON_DOWNLOADS=never

# System libraries: zbar for pyzbar (the second barcode decoder), DejaVu fonts
# for Serbian Cyrillic in PDFs rendered outside the shipped font, and the Qt
# offscreen platform's runtime libraries.
apt_packages=(libzbar0 libgl1 libegl1 libglib2.0-0 libxkbcommon0 libfontconfig1 libdbus-1-3)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing system packages: ${missing[*]} (run as root or install them)" >&2
        exit 1
    fi
    echo "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v uv >/dev/null 2>&1; then
    echo "installing uv"
    python3 -m pip install --quiet uv
fi

python=$(command -v python3.11 || command -v python3)
uv sync --frozen --python "$python" --quiet
