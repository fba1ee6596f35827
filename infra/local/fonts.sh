#!/usr/bin/env bash
# DejaVu Sans for the printed reports' PDFs (Cyrillic), from Debian's fonts-dejavu-core: never committed, embedded
# into each PDF by services/reports/weekly.py. Installs the package when the font is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
FONTS=/usr/share/fonts/truetype/dejavu
if [ ! -f "$FONTS/DejaVuSans.ttf" ] || [ ! -f "$FONTS/DejaVuSans-Bold.ttf" ]; then
    debian_install "DejaVu Sans" fonts-dejavu-core
fi
