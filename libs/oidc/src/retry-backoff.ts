/**
 * Discovery retries: the first after about a second, then twice as long each time up to 30 s. A
 * provider that comes back (a restart, a rollout) is found within half a minute, while many gateway
 * instances waiting on a provider that stays down cost it at most one request each per 15-30 s.
 * Fixed rather than settings: nothing in a deployment calls for other values.
 */
export const RETRY_MIN_MS = 1000;
export const RETRY_MAX_MS = 30_000;

/**
 * Milliseconds before retry number `attempt` (1 for the first retry): exponential, capped, with
 * "equal jitter" (half fixed, half random) so that instances started together spread their retries
 * without any of them retrying at once. `random` is in [0, 1).
 */
export function retryDelay(attempt: number, random: number = Math.random()): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt - 1, 16));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
