#!/usr/bin/env bash
# Differential bench: wasmgate's WAF against nginx + ModSecurity 3 + OWASP CRS (Debian packages)
# over the same payloads, per class, at paranoia 1 and 2. Not part of `cargo test`.
#
#   bench/waf-diff/run.sh                          # held-out, held-out-2, tuned corpora, PL 1 and 2
#   bench/waf-diff/run.sh --corpus held-out --paranoia 1 --diff-dir /tmp/waf-diff
#   bench/waf-diff/run.sh --corpus held-out-2 --paranoia 1   # the blind-written held-out corpus
#
# Installs nginx, libnginx-mod-http-modsecurity and modsecurity-crs with apt-get when missing
# (needs root), builds the `waf_verdicts` example, and runs diff.py under a time limit
# (WAF_DIFF_TIMEOUT seconds, default 900). nginx listens on 127.0.0.1 only and is stopped by
# diff.py when it ends: on the limit, `timeout` sends SIGTERM, diff.py stops nginx (waiting up to
# NGINX_STOP_WAIT = 10 s), and only 30 s later does `timeout` SIGKILL diff.py.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(nginx libnginx-mod-http-modsecurity modsecurity-crs)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
        || { echo "apt-get could not install ${missing[*]}: run as root on Debian/Ubuntu" >&2; exit 1; }
fi

target_dir="${CARGO_TARGET_DIR:-target}"
CARGO_TARGET_DIR="$target_dir" cargo build --quiet --release -p waf --example waf_verdicts
exec timeout --kill-after=30 "${WAF_DIFF_TIMEOUT:-900}" \
    python3 bench/waf-diff/diff.py --waf-bin "$target_dir/release/examples/waf_verdicts" "$@"
