#!/usr/bin/env bash
# Starts one compiled worker of this package: bash apps/jobs/scripts/start-worker.sh <worker-file>
# <worker-file> is relative to apps/jobs/dist/workers, e.g. scheduler.worker.js.
set -euo pipefail
worker="${1:?usage: start-worker.sh <worker-file>}"
cd "$(dirname "$0")/.."
exec node "dist/workers/${worker}"
