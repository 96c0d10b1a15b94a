#!/usr/bin/env bash
# LMTP ingest benchmark (issue 3): herald's messages/s with 1, 8 and 32
# concurrent sessions and 4 KiB and 64 KiB messages, against the disk's own
# limit for durable single-file creation (create, write, fsync, rename,
# fsync dir; single-threaded). Every 250 herald sends is durable.
#
#   bench/ingest.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

export CGO_ENABLED=0
go build -o "$work/herald" ./cmd/herald
go build -o "$work/lmtpload" ./bench/lmtpload
go build -o "$work/fsyncbase" ./bench/fsyncbase
go build -o "$work/blackhole" ./bench/blackhole

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
[log]
level = "warn"
TOML
h() { "$work/herald" --config "$work/herald.toml" "$@"; }
h domains add lists.example.org >/dev/null
h lists create bench@lists.example.org default_nonmember_action=accept >/dev/null
h members add bench@lists.example.org member@example.net >/dev/null
h serve 2> "$work/serve.log" & pids+=($!)
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$lmtp") 2>/dev/null && break; sleep 0.1; done

base=$("$work/fsyncbase" -dir "$work" -duration "${secs}s")
echo "$base"
rate=$(echo "$base" | sed -n 's/.*files_per_sec=\([0-9]*\).*/\1/p')
echo "herald LMTP ingest, runners and delivery to a blackhole MTA running alongside:"
for size in 4096 65536; do
  for s in 1 8 32; do
    out=$("$work/lmtpload" -addr "127.0.0.1:$lmtp" -rcpt bench@lists.example.org -sessions "$s" -size "$size" -duration "${secs}s")
    mps=$(echo "$out" | sed -n 's/.*msgs_per_sec=\([0-9]*\).*/\1/p')
    ratio=$(python3 -c "print(f'{$mps/$rate:.1f}')")
    echo "$out ratio_to_fsync_per_file=${ratio}x"
  done
done
grep -i -E 'level=(ERROR|WARN)' "$work/serve.log" | head -5 || true
