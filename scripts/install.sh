#!/usr/bin/env bash
# Install the library, the workflow and the test tools into the current Python (3.11 to 3.13) environment.
# dagma declares torch as a dependency but its linear model (the one we use) needs only numpy/scipy,
# so it is installed without dependencies (shared/spec/baselines.md §6).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
python -m pip install --quiet --disable-pip-version-check --no-deps "dagma==1.1.1"
