#!/usr/bin/env bash
# Ingress paths benchmark (issue 8): messages/s into herald's spool through
# LMTP (TCP sessions), `herald inject` (fork/exec per message, handing over
# on the LMTP unix socket, as an MTA pipe transport runs it) and Maildir
# pickup (files renamed into new/, as Postfix's virtual agent delivers),
# on this machine, with the runners and delivery to a blackhole MTA
# running alongside. Every counted message is durable in the spool.
#
#   bench/ingress.sh [messages-per-run] [parallel-levels]
count=${1:-1000}
par=${2:-1,8}
source "$(dirname "$0")/lib.sh"
bench_start $'[maildir]\nroot = "maildir"' ingress:./bench/ingress
h() { "$work/herald" --config "$work/herald.toml" "$@"; }

"$work/fsyncbase" -dir "$work" -duration 5s
echo "herald ingress paths, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $count messages of 4 KiB per run:"
"$work/ingress" -herald "$work/herald" -config "$work/herald.toml" -lmtp "127.0.0.1:$lmtp" \
  -maildir "$work/maildir" -count "$count" -parallel "$par"
grep -i -E 'level=(ERROR|WARN)' "$work/serve.log" | head -5 || true
