#!/usr/bin/env bash
# Offline wheelhouse for compute nodes without internet; see scripts/wheelhouse.py for options.
set -euo pipefail
exec python3 "$(dirname "$0")/wheelhouse.py" "$@"
