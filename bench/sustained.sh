#!/usr/bin/env bash
# Sustained throughput, end to end: 32 LMTP sessions send 4 KiB posts for
# a while, then herald is left to finish; prints the ingest rate, how long
# the post runner and delivery (to a blackhole MTA) took to catch up, and
# messages delivered per second over the whole run. Ingest alone can run
# ahead of the runners for a while; this is the rate herald keeps.
#
#   bench/sustained.sh [seconds-of-load]
secs=${1:-10}
source "$(dirname "$0")/lib.sh"
bench_start "" lmtpload:./bench/lmtpload

base=$("$work/fsyncbase" -dir "$work" -duration 3s)
echo "$base"
metric() { curl -s "http://127.0.0.1:$http/metrics" | sed -n "s/^$1 //p"; }
start=$(date +%s.%N)
"$work/lmtpload" -addr "127.0.0.1:$lmtp" -rcpt bench@lists.example.org -sessions 32 -size 4096 -duration "${secs}s" | tee "$work/load.out"
sent=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' "$work/load.out")
loaded=$(date +%s.%N)
while :; do
  d=$(metric 'herald_delivery_total{what="recipients_delivered"}')
  [ "${d:-0}" -ge "$sent" ] && break
  sleep 0.1
done
end=$(date +%s.%N)
python3 - "$start" "$loaded" "$end" "$sent" <<'PY'
import sys
start, loaded, end, sent = map(float, sys.argv[1:])
print(f"delivered {int(sent)} messages: load {loaded-start:.1f} s, catching up {end-loaded:.1f} s, "
      f"end to end {sent/(end-start):.0f} msgs/s")
PY
