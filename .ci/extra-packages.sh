# Sourced by .ci/run (as root) before npm ci: the browser the end-to-end tests drive.
# Debian's chromium, not a downloaded build: playwright-core only drives it (no browser download at npm ci).
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium from Debian (for tests/e2e)"
  apt_install chromium
fi
/usr/bin/chromium --version 2>/dev/null || true
