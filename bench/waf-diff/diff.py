#!/usr/bin/env python3
"""Differential bench: the same payloads through nginx + ModSecurity 3 + OWASP CRS and through
wasmgate's WAF (natively, via the `waf_verdicts` example), per class and paranoia level.

Run through `run.sh`, which installs the packages and builds the example. Everything listens on
127.0.0.1 only; the nginx started here runs in the foreground (`daemon off`) in its own process
group and is stopped (SIGTERM to the group, SIGKILL after NGINX_STOP_WAIT s) before the script
exits, even when it fails to start.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

CLASSES = ["sqli", "xss", "traversal", "command"]
DELIVERIES = ["query", "form", "json"]
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/fixtures/waf")

# Which files make each corpus: attacks per class, then benign values.
CORPORA = {
    "tuned": (
        {c: [f"attacks/{c}.txt", f"attacks/paranoia-2/{c}.txt", f"generated/{c}.txt"]
         for c in CLASSES},
        ["benign/values.txt", "benign/tricky.txt"],
    ),
    "held-out": (
        {c: [f"held-out/{c}.txt"] for c in CLASSES},
        ["held-out/benign.txt"],
    ),
    # Written blind (without reading the rules or the other corpora): not tuned on.
    "held-out-2": (
        {c: [f"held-out-2/{c}.txt"] for c in CLASSES},
        ["held-out-2/benign.txt"],
    ),
}


def lines(path):
    with open(os.path.join(FIXTURES, path), encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("# ")]


def cases(corpus):
    """(class, delivery, payload) for every payload of a corpus; benign values as class `benign`."""
    if os.path.isfile(corpus):
        # A file of benign values, one a line (e.g. prose or documentation lines).
        with open(corpus, encoding="utf-8") as f:
            values = [l.rstrip("\n") for l in f if l.strip()]
        return [("benign", d, v) for v in values for d in DELIVERIES]
    attacks, benign = CORPORA[corpus]
    out = []
    for cls in CLASSES:
        for path in attacks[cls]:
            for payload in lines(path):
                out += [(cls, d, payload) for d in DELIVERIES]
    for path in benign:
        for payload in lines(path):
            out += [("benign", d, payload) for d in DELIVERIES]
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_CONF = """
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 1m;
    server {{
        listen 127.0.0.1:{backend};
        location / {{ return 200 "ok\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{front};
        modsecurity on;
        modsecurity_rules_file {dir}/modsec.conf;
        location / {{ proxy_pass http://127.0.0.1:{backend}; }}
    }}
}}
"""

MODSEC_CONF = """
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^application/json" \\
    "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyJsonDepthLimit 512
SecRule REQBODY_ERROR "!@eq 0" \\
    "id:'200002',phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecPcreMatchLimit 1000
SecPcreMatchLimitRecursion 1000
SecResponseBodyAccess Off
SecTmpDir {dir}
SecDataDir {dir}
SecAuditEngine Off
SecArgumentSeparator &
SecCookieFormat 0
SecUnicodeMapFile /etc/nginx/unicode.mapping 20127
SecStatusEngine Off
Include /etc/modsecurity/crs/crs-setup.conf
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={paranoia}"
Include /usr/share/modsecurity-crs/rules/*.conf
"""


# Seconds to wait for nginx to stop after SIGTERM before SIGKILL.
NGINX_STOP_WAIT = 10


class Nginx:
    """nginx + ModSecurity + CRS at one paranoia level, on loopback ports, in a scratch dir."""

    def __init__(self, paranoia):
        self.dir = tempfile.mkdtemp(prefix="waf-diff-")
        self.process = None
        try:
            self._write_config(paranoia)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _write_config(self, paranoia):
        self.port = free_port()
        backend = free_port()
        for sub in ["body", "proxy", "fastcgi", "uwsgi", "scgi"]:
            os.mkdir(os.path.join(self.dir, sub))
        with open(os.path.join(self.dir, "modsec.conf"), "w") as f:
            f.write(MODSEC_CONF.format(dir=self.dir, paranoia=paranoia))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, front=self.port, backend=backend))
        os.chmod(self.dir, 0o755)

    def __enter__(self):
        try:
            return self._start()
        except BaseException:
            # A failed start still stops the nginx it started and removes the scratch dir.
            self.__exit__(*sys.exc_info())
            raise

    def _start(self):
        conf = os.path.join(self.dir, "nginx.conf")
        subprocess.run(["nginx", "-q", "-t", "-c", conf, "-p", self.dir], check=True)
        # `daemon off`: nginx stays our child, in a process group of its own, so it (master and
        # worker) can be signalled as one and waited for.
        self.process = subprocess.Popen(
            ["nginx", "-c", conf, "-p", self.dir], start_new_session=True,
        )
        # Ready when the port answers (bounded).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode} at start")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start listening within 30 s")

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            # SIGTERM is nginx's fast shutdown; SIGKILL the group if it lingers past
            # NGINX_STOP_WAIT (run.sh's `timeout --kill-after` is longer than this wait).
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=NGINX_STOP_WAIT)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def statuses(self, all_cases):
        conn = None
        out = []
        for _, delivery, payload in all_cases:
            encoded = urllib.parse.quote(payload, safe="")
            headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Host": "localhost"}
            if delivery == "query":
                method, path, body = "GET", f"/search?q={encoded}", None
            elif delivery == "form":
                method, path, body = "POST", "/comments", f"comment={encoded}"
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                method, path, body = "POST", "/comments", json.dumps({"comment": payload})
                headers["Content-Type"] = "application/json"
            for _attempt in range(2):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    out.append(response.status)
                    if response.getheader("connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException):
                    if conn:
                        conn.close()
                    conn = None
            else:
                out.append(0)
        if conn:
            conn.close()
        return out


def wasmgate_verdicts(waf_bin, paranoia, all_cases):
    stdin = "".join(f"{d}\t{p}\n" for _, d, p in all_cases)
    result = subprocess.run(
        [waf_bin, str(paranoia)], input=stdin, capture_output=True, text=True, check=True,
        timeout=300,
    )
    return [line.split("\t")[0] == "1" for line in result.stdout.splitlines()]


def table(corpus, paranoia, all_cases, ours, theirs, statuses):
    print(f"\n{corpus} corpus, paranoia {paranoia} (query, form and JSON deliveries)")
    print(f"  {'class':<10} {'requests':>9}  {'wasmgate':>9}  {'ModSecurity+CRS':>15}")
    groups = CLASSES + ["attacks", "benign"]
    for group in groups:
        idx = [
            i for i, (cls, _, _) in enumerate(all_cases)
            if cls == group or (group == "attacks" and cls != "benign")
        ]
        n = len(idx)
        a = 100.0 * sum(ours[i] for i in idx) / max(n, 1)
        b = 100.0 * sum(theirs[i] for i in idx) / max(n, 1)
        print(f"  {group:<10} {n:>9}  {a:>8.1f}%  {b:>14.1f}%")
    other = sum(1 for s in statuses if s not in (200, 403))
    if other:
        print(f"  ({other} requests got neither 200 nor 403 from nginx: counted as passed)")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--waf-bin", required=True, help="the built waf_verdicts example")
    parser.add_argument("--paranoia", default="1 2", help='levels, e.g. "1 2"')
    parser.add_argument(
        "--corpus", default="held-out held-out-2 tuned",
        help='"held-out", "held-out-2", "tuned", several (space-separated), or the path of a '
        'file of benign values (one a line)',
    )
    parser.add_argument("--diff-dir", help="write per-case disagreements here (TSV)")
    args = parser.parse_args()
    # `timeout` sends SIGTERM: unwind, so the nginx of the moment is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    for corpus in args.corpus.split():
        all_cases = cases(corpus)
        for paranoia in [int(p) for p in args.paranoia.split()]:
            started = time.monotonic()
            ours = wasmgate_verdicts(args.waf_bin, paranoia, all_cases)
            with Nginx(paranoia) as nginx:
                statuses = nginx.statuses(all_cases)
            theirs = [s == 403 for s in statuses]
            table(corpus, paranoia, all_cases, ours, theirs, statuses)
            print(f"  ({time.monotonic() - started:.0f} s)")
            if args.diff_dir:
                os.makedirs(args.diff_dir, exist_ok=True)
                name = os.path.basename(corpus)
                path = os.path.join(args.diff_dir, f"{name}-pl{paranoia}.tsv")
                with open(path, "w") as f:
                    f.write("class\tdelivery\twasmgate\tcrs\tpayload\n")
                    for (cls, d, p), o, t in zip(all_cases, ours, theirs):
                        if o != t:
                            f.write(f"{cls}\t{d}\t{int(o)}\t{int(t)}\t{p}\n")
                print(f"  disagreements: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
