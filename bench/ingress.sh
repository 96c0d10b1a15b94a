#!/usr/bin/env bash
# Ingress paths benchmark (issue 8): messages/s into herald's spool through
# LMTP (TCP sessions), `herald inject` (fork/exec per message, handing over
# on the LMTP unix socket, as an MTA pipe transport runs it) and Maildir
# pickup (files renamed into new/, as Postfix's virtual agent delivers),
# on this machine, with the runners and delivery to a blackhole MTA
# running alongside. Every counted message is durable in the spool.
#
#   bench/ingress.sh [messages-per-run] [parallel-levels]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
par=${2:-1,8}
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export CGO_ENABLED=0
go build -o "$work/herald" ./cmd/herald
go build -o "$work/ingress" ./bench/ingress
go build -o "$work/blackhole" ./bench/blackhole
go build -o "$work/fsyncbase" ./bench/fsyncbase

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
lmtp=$(free_port); smtp=$(free_port); http=$(free_port)

"$work/blackhole" -addr "127.0.0.1:$smtp" > "$work/blackhole.out" & pids+=($!)
cat > "$work/herald.toml" <<TOML
data_dir = "data"
[lmtp]
listen = "127.0.0.1:$lmtp"
[smtp]
port = $smtp
[http]
listen = "127.0.0.1:$http"
[maildir]
root = "maildir"
[log]
level = "warn"
TOML
h() { "$work/herald" --config "$work/herald.toml" "$@"; }
h domains add lists.example.org >/dev/null
h lists create bench@lists.example.org default_nonmember_action=accept >/dev/null
h members add bench@lists.example.org member@example.net >/dev/null
"$work/herald" --config "$work/herald.toml" serve 2> "$work/serve.log" & pids+=($!)
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$lmtp") 2>/dev/null && break; sleep 0.1; done

"$work/fsyncbase" -dir "$work" -duration 5s
echo "herald ingress paths, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $count messages of 4 KiB per run:"
"$work/ingress" -herald "$work/herald" -config "$work/herald.toml" -lmtp "127.0.0.1:$lmtp" \
  -maildir "$work/maildir" -count "$count" -parallel "$par"
grep -i -E 'level=(ERROR|WARN)' "$work/serve.log" | head -5 || true
