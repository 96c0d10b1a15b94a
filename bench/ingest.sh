#!/usr/bin/env bash
# LMTP ingest benchmark (issue 3): herald's messages/s with 1, 8 and 32
# concurrent sessions and 4 KiB and 64 KiB messages, against the disk's own
# limit for durable single-file creation (create, write, fsync, rename,
# fsync dir; single-threaded). Every 250 herald sends is durable.
#
# The disk's rate moves by up to 2x within minutes on a shared VM, so the
# loop runs before and after herald's runs, and every ratio is taken
# against the mean of the two (both are printed).
#
#   bench/ingest.sh [seconds-per-run]
secs=${1:-10}
source "$(dirname "$0")/lib.sh"
bench_start "" lmtpload:./bench/lmtpload

loop() { "$work/fsyncbase" -dir "$work" -duration "${secs}s"; }
loop_rate() { sed -n 's/.*files_per_sec=\([0-9]*\).*/\1/p'; }
before=$(loop)
metric() { curl -s "http://127.0.0.1:$http/metrics" | sed -n "s/^$1 //p"; }
# Each run starts from an idle server: the runners have delivered what the
# runs before sent (else a run shares the CPU with their backlog).
sent=0
drain() {
  local i d
  for i in $(seq 1200); do
    d=$(metric 'herald_delivery_total{what="recipients_delivered"}')
    [ "${d:-0}" -ge "$sent" ] && return 0
    sleep 0.1
  done
  echo "warning: herald had not delivered the earlier runs' $sent messages after 120 s" >&2
}
results=()
# run ADDR SESSIONS SIZE: one lmtpload run; its line is kept for the end.
run() {
  drain
  local out
  out=$("$work/lmtpload" -addr "$1" -rcpt bench@lists.example.org -sessions "$2" -size "$3" -duration "${secs}s")
  sent=$((sent + $(echo "$out" | sed -n 's/.*messages=\([0-9]*\).*/\1/p')))
  results+=("$4 $out")
}
for size in 4096 65536; do
  for s in 1 8 32; do
    run "127.0.0.1:$lmtp" "$s" "$size" tcp
  done
done
# Postfix on the same host usually talks LMTP over herald's unix socket
# (lmtp:unix:...), which costs both sides less than loopback TCP.
for size in 4096 65536; do
  run "unix:$work/data/lmtp.sock" 32 "$size" unix
done
drain
after=$(loop)
b=$(echo "$before" | loop_rate) a=$(echo "$after" | loop_rate)
rate=$(( (a + b) / 2 ))
echo "disk limit, before: $before"
echo "disk limit, after:  $after"
echo "disk limit, mean:   files_per_sec=$rate"
echo "herald LMTP ingest (lmtpload pipelining as Postfix's LMTP client does), runners and delivery to a blackhole MTA"
echo "running alongside; each run starts once the runners have delivered the runs before:"
for r in "${results[@]}"; do
  mps=$(echo "$r" | sed -n 's/.*msgs_per_sec=\([0-9]*\).*/\1/p')
  echo "$r ratio_to_fsync_per_file=$(python3 -c "print(f'{$mps/$rate:.1f}')")x"
done
grep -i -E 'level=(ERROR|WARN)' "$work/serve.log" | head -5 || true
