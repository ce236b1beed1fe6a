# Sourced by .ci/run (extra packages for the operations suite): Debian's nginx, so the compose test can run
# `nginx -t` on deploy/nginx.conf and put a real nginx in front of two test nodes.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  log "installing nginx from Debian"
  apt_install nginx-light || apt_install nginx
fi
