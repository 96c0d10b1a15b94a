# Shared setup for the benchmark scripts (sourced, not run):
#   bench_start "extra toml lines" tool...
# builds herald, the blackhole MTA, fsyncbase and the named bench tools
# into $work (herald: $BENCH_HERALD_BIN instead, if set), starts the blackhole and `herald serve` with a list
# bench@lists.example.org (nonmember posts accepted, one member), and
# sets $work, $lmtp, $smtp, $http. Everything is stopped and removed on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/herald-bench-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_start() {
  local extra=$1; shift
  export CGO_ENABLED=0
  local t
  for t in herald:./cmd/herald blackhole:./bench/blackhole fsyncbase:./bench/fsyncbase "$@"; do
    go build -o "$work/${t%%:*}" "${t#*:}"
  done
  # BENCH_HERALD_BIN: a herald binary to measure instead (A/B comparisons).
  if [ -n "${BENCH_HERALD_BIN:-}" ]; then cp "$BENCH_HERALD_BIN" "$work/herald"; fi
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
$extra
[log]
level = "warn"
TOML
  local h=("$work/herald" --config "$work/herald.toml")
  "${h[@]}" domains add lists.example.org >/dev/null
  "${h[@]}" lists create bench@lists.example.org default_nonmember_action=accept >/dev/null
  "${h[@]}" members add bench@lists.example.org member@example.net >/dev/null
  "${h[@]}" serve 2> "$work/serve.log" & pids+=($!)
  for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$lmtp") 2>/dev/null && break; sleep 0.1; done
}
