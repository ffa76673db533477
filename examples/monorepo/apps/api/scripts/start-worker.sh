#!/usr/bin/env bash
# Starts one compiled worker: bash apps/api/scripts/start-worker.sh <worker-file>
# <worker-file> is relative to apps/api/dist/workers, e.g. emailSender.worker.js or billing/main.js.
set -euo pipefail
worker="${1:?usage: start-worker.sh <worker-file>}"
cd "$(dirname "$0")/.."
exec node "dist/workers/${worker}"
