#!/bin/sh
# Delivery benchmark: herald's fan-out to an SMTP sink against the sink's
# ceiling (see main.go). Run from anywhere; extra flags go to the program,
# e.g. bench/delivery/run.sh -sizes 10000 -dir /tmp/hb (reuses the lists).
set -e
cd "$(dirname "$0")/../.."
exec go run ./bench/delivery "$@"
