#!/usr/bin/env bash
# Debian packages the test suite needs: PostgreSQL (tests start throwaway clusters),
# Chromium (the Connect Webview pages are tested in a real browser, driven by Playwright) and
# Mosquitto (the Zigbee2MQTT provider tests start a throwaway MQTT broker) and nginx (the
# deployment guide's reverse proxy, run by its test).
# Installs only what is missing; needs root (or sudo) the first time on a fresh machine.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)  # the Z-Wave JS test stack
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# The deployment guide's reverse proxy (tests/test_deploy_guide.py runs it in front of lockhub).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
# Debian starts a default cluster on install; the tests run their own.
$SUDO service postgresql stop >/dev/null 2>&1 || true
# Same for the broker: the tests start their own on a free loopback port.
if [[ " ${need[*]} " == *" nginx "* ]]; then
  $SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
fi
if [[ " ${need[*]} " == *" mosquitto "* ]]; then
  $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || $SUDO service mosquitto stop >/dev/null 2>&1 || true
fi
