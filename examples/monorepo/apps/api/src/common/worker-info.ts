// What every worker says about itself: its name and log level come from the environment the platform gives it
// (WORKER_NAME is injected; LOG_LEVEL comes from infra/aws/.env.workers and its per-worker overrides).
export function workerInfo(): { worker: string; logLevel: string } {
  return { worker: process.env.WORKER_NAME ?? 'unknown', logLevel: process.env.LOG_LEVEL ?? 'info' };
}

// Every worker listens where the platform says: PORT, on all interfaces.
export function listenPort(): number {
  return Number(process.env.PORT ?? 3000);
}
