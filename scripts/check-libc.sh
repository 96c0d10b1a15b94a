#!/usr/bin/env bash
# modernc.org/sqlite needs modernc.org/libc at exactly the version its own
# go.mod names (DEPENDENCIES.md); a dependency that bumps libc breaks it.
set -euo pipefail
cd "$(dirname "$0")/.."
have=$(go list -m -f '{{.Version}}' modernc.org/libc)
want=$(sed -n 's/^[[:space:]]*modernc.org\/libc \(v[^ ]*\).*/\1/p' "$(go list -m -f '{{.GoMod}}' modernc.org/sqlite)")
if [ "$have" != "$want" ]; then
  echo "modernc.org/libc is $have but modernc.org/sqlite wants $want: pin it back (go get modernc.org/libc@$want)" >&2
  exit 1
fi
echo "modernc.org/libc $have matches modernc.org/sqlite"
