#!/usr/bin/env bash
# The Postgres tests need a server on 127.0.0.1:5432 (user postgres, trust auth).
# Start the machine's cluster if it is down; say clearly when there is none to start.
set -u
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | head -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && exit 0
    sleep 1
  done
fi
echo "ensure_postgres: no PostgreSQL answering on 127.0.0.1:5432 and none could be started;" \
     "the Postgres tests will fail with this reason" >&2
exit 0
