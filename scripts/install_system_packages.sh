#!/usr/bin/env bash
# The Debian packages the tests and the reports need beyond Python: Chromium for the browser tests,
# Noto CJK for Chinese text in the PDF report and the screenshots, poppler-utils (pdftoppm) to check
# the PDF's pages, pango for WeasyPrint (the PDF report), redis-server (the Celery broker of
# tests/test_celery_deployment.py). Installs only what is missing; a no-op when all are present.
# Run by `make system`, which `make demo` and `make test` call.
set -euo pipefail
PACKAGES=(chromium fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 redis-server)
missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
