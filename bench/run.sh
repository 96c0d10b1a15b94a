#!/usr/bin/env bash
# Every benchmark that prints figures: LMTP ingest against the disk's
# fsync limit (issue 3), the three ingress paths (issue 8), sustained
# end-to-end throughput, delivery
# against the sink's ceiling (issue 5), and the spool's Go benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== spool (go test -bench)"
go test -run '^$' -bench 'EnqueueWriters|FsyncLoop|EnqueueClaimDone' -benchtime 2s ./internal/spool/
echo "== LMTP ingest"
bench/ingest.sh 10
if [ -x bench/ingress.sh ]; then echo "== ingress paths"; bench/ingress.sh; fi
echo "== sustained, end to end"
bench/sustained.sh 10
if [ -x bench/delivery/run.sh ]; then echo "== delivery"; bench/delivery/run.sh -sizes 10000,100000; fi
