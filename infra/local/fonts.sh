#!/usr/bin/env bash
# DejaVu Sans for the printed reports' PDFs (Cyrillic), from Debian's fonts-dejavu-core: never committed, embedded
# into each PDF by services/reports/weekly.py. Installs the package when the font is missing.
set -euo pipefail
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
BOLD=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
if [ -f "$FONT" ] && [ -f "$BOLD" ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "DejaVu Sans is missing: run 'apt-get install fonts-dejavu-core' as root" >&2
  exit 1
fi
echo "installing fonts-dejavu-core from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
