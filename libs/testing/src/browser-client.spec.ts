import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrowserClient } from './browser-client.js';

// A real server on 127.0.0.1; `localhost` on the same port is another site and another cookie host.
let server: Server;
let site: string;
let otherSite: string;

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const url = new URL(request.url!, 'http://127.0.0.1');
    let body = '';
    for await (const chunk of request) body += chunk;
    response.setHeader('set-cookie', url.searchParams.getAll('cookie'));
    if (url.pathname === '/bounce') {
      response.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to')! }).end();
    } else if (url.pathname === '/form') {
      response.setHeader('content-type', 'text/html');
      response.end(`<form id="other" action="/nowhere"></form>
        <form id="login" method="post" action="/deep/submit?x=1">
          <input type="hidden" name="xsrf" value="a&amp;b"><input name="username" value="">
          <input type="checkbox" name="remember"><button type="submit" name="go" value="yes">Go</button>
        </form>`);
    } else {
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          method: request.method,
          path: url.pathname + url.search,
          cookie: request.headers.cookie ?? '',
          origin: request.headers.origin,
          body,
        }),
      );
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  site = `http://127.0.0.1:${port}`;
  otherSite = `http://localhost:${port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function setCookies(browser: BrowserClient, ...cookies: string[]): Promise<void> {
  const query = new URLSearchParams(cookies.map((cookie): [string, string] => ['cookie', cookie]));
  await browser.get(`${site}/echo?${query}`);
}

test('cookies follow Path and Max-Age, and belong to the host whatever the port', async () => {
  const browser = new BrowserClient();
  await setCookies(browser, 'root=1; Path=/', 'deep=2; Path=/deep', 'gone=3; Path=/', 'old=4; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  await setCookies(browser, 'gone=; Path=/; Max-Age=0');

  expect((await browser.get(`${site}/deep/page`)).json()).toMatchObject({ cookie: 'deep=2; root=1' });
  expect((await browser.get(`${site}/deeper`)).json()).toMatchObject({ cookie: 'root=1' });
  expect(browser.cookies('http://127.0.0.1:1/')).toEqual({ root: '1' });
  expect(browser.cookies(`${otherSite}/`)).toEqual({});
});

test('redirects are followed hop by hop, storing each hop’s cookies, or not followed on request', async () => {
  const browser = new BrowserClient();
  const bounce = (cookie: string) => `${site}/bounce?to=/echo&cookie=${encodeURIComponent(`${cookie}; Path=/`)}`;

  const notFollowed = await browser.get(bounce('hop=1'), { followRedirects: false });
  expect(notFollowed.status).toBe(302);
  expect(notFollowed.headers.get('location')).toBe('/echo');
  expect(browser.cookies(site)).toEqual({ hop: '1' });
  expect((await browser.get(bounce('hop=2'))).json()).toMatchObject({ path: '/echo', cookie: 'hop=2' });

  const posted = await browser.post(`${site}/bounce?status=303&to=${encodeURIComponent(`${site}/bounce?to=/echo`)}`, { body: { a: '1' } });
  expect(posted.url).toBe(`${site}/echo`);
  expect(posted.json()).toMatchObject({ method: 'GET', body: '' });
  expect(posted.redirects.map((hop) => [hop.method, hop.status])).toEqual([
    ['POST', 303],
    ['GET', 302],
  ]);
  expect(browser.last).toBe(posted);

  const kept = await browser.post(`${site}/bounce?status=307&to=/echo`, { json: { a: 1 } });
  expect(kept.json()).toMatchObject({ method: 'POST', body: '{"a":1}', origin: site });
});

test('SameSite: Strict cookies stay home on cross-site requests and redirect chains, Lax ones on cross-site POSTs', async () => {
  const browser = new BrowserClient();
  await setCookies(browser, 'lax=1; Path=/; SameSite=Lax', 'strict=2; Path=/; SameSite=Strict', 'none=3; Path=/; SameSite=None; Secure');

  expect((await browser.get(`${site}/echo`)).json()).toMatchObject({ cookie: 'lax=1; strict=2; none=3' });
  expect((await browser.get(`${site}/echo`, { from: otherSite })).json()).toMatchObject({ cookie: 'lax=1; none=3' });
  expect((await browser.post(`${site}/echo`, { from: otherSite })).json()).toMatchObject({ cookie: 'none=3', origin: otherSite });
  const roundTrip = await browser.get(`${otherSite}/bounce?to=${encodeURIComponent(`${site}/echo`)}`, { from: site });
  expect(roundTrip.json()).toMatchObject({ cookie: 'lax=1; none=3' });
});

test('submitForm sends the form’s inputs, the given fields and the submit button to its action', async () => {
  const browser = new BrowserClient();
  const page = await browser.get(`${site}/form`);

  const submitted = await browser.submitForm(page.body, '#login', { username: 'alice' });

  expect(submitted.json()).toMatchObject({ method: 'POST', path: '/deep/submit?x=1', body: 'xsrf=a%26b&username=alice&go=yes' });
  expect(() => browser.submitForm(page.body, '#missing')).toThrow('no form #missing');
});
