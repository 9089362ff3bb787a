#!/usr/bin/env bash
# Stop the daemons that .ci/slurm/start.sh started, each by the pid in its own pid file (never by
# process name), then remove the pid file: a stale slurmctld pid file breaks package removal.
set -u
for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "warning: $pidfile ($pid) still running after 10 s" >&2
      continue
    fi
  fi
  rm -f "$pidfile"
done
