import {
  type BrowserClient,
  type GatewayStack,
  type RedisSentinelFixture,
  startGatewayStack,
  startRedisSentinel,
} from '#sessiongate/testing';

// The gateway behind Redis Sentinel, through a failover in the middle of traffic: sessions written
// (and replicated) before it survive, requests while there is no master get a clean 503 JSON, and
// once the new master is up the gateway uses it by itself.

const CSRF = { 'x-csrf': '1' } as const;

let sentinel: RedisSentinelFixture;
let stack: GatewayStack;
let browsers: BrowserClient[];

// A deployment of its own for each failover: the sentinels refuse a second one of the same master
// for a while, and a demoted master takes its time to rejoin as a replica.
beforeEach(async () => {
  sentinel = await startRedisSentinel();
  // REDIS_URL empty: unset, the stack's own standalone Redis is not used.
  stack = await startGatewayStack({ env: { REDIS_URL: '', ...sentinel.env } });
  browsers = [await stack.loginAs('alice'), await stack.loginAs('bob'), await stack.loginAs('alice')];
});
afterEach(async () => {
  await stack?.stop();
  await sentinel?.stop();
});

interface Answer {
  readonly status: number;
  readonly body: { error?: string; requestId?: string };
}

/** Every browser calls the session and the API over and over until `until` settles; every answer, in order. */
async function trafficDuring(until: Promise<void>): Promise<Answer[]> {
  const answers: Answer[] = [];
  let done = false;
  const finished = until.finally(() => (done = true));
  await Promise.all(
    browsers.map(async (browser) => {
      while (!done) {
        for (const path of ['/bff/user', '/api/todos']) {
          const response = await browser.get(`${stack.url}${path}`, { headers: CSRF, from: stack.url });
          answers.push({ status: response.status, body: response.json() });
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }),
  );
  await finished;
  return answers;
}

/** Every session answers 200 again within a bounded wait (the failover itself is over already). */
async function everySessionServed(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const browser of browsers) {
    let status = 0;
    while (status !== 200) {
      status = (await browser.get(`${stack.url}/bff/user`, { headers: CSRF, from: stack.url })).status;
      if (status === 200) break;
      expect(status).toBe(503);
      if (Date.now() > deadline) throw new Error('the gateway did not find the new master');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function expectOnlyServedOrUnavailable(answers: readonly Answer[]): void {
  expect(answers.length).toBeGreaterThan(0);
  for (const answer of answers) {
    if (answer.status === 200) continue;
    // Never 401 (a lost session) nor 500: the store was briefly unreachable, and said so.
    expect(answer).toMatchObject({ status: 503, body: { error: 'session_store_unavailable', requestId: expect.any(String) } });
  }
}

it.each([
  // Demoted, the old master answers for a moment as a replica (reads served, writes refused).
  ['SENTINEL FAILOVER (the master is demoted)', () => sentinel.failover(), false],
  // Down for as long as the sentinels take to agree (1 s without an answer) and promote the replica.
  ['the master crashing (killed)', () => sentinel.killMaster(), true],
])(
  'keeps every replicated session through %s, answering 503 JSON while there is no master, then serving again',
  async (_how, failover, outage) => {
    const before = await sentinel.masterPort();
    // What survives a failover is what the replica had: replication is asynchronous (see docs/REDIS.md).
    await sentinel.waitForReplication();

    const during = await trafficDuring(failover());
    expectOnlyServedOrUnavailable(during);
    if (outage) expect(during.some((answer) => answer.status === 503)).toBe(true);
    expect(await sentinel.masterPort()).not.toBe(before);
    await everySessionServed();

    // Once the gateway is on the new master: nothing but 200, sessions created afterwards included.
    browsers.push(await stack.loginAs('bob'));
    const settled = await trafficDuring(new Promise((resolve) => setTimeout(resolve, 500)));
    expect(settled.filter((answer) => answer.status !== 200)).toEqual([]);
    const readyz = await fetch(`${stack.url}/readyz`);
    expect(readyz.status).toBe(200);
  },
);
