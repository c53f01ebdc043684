// The SPA never handles a token: it calls the gateway with its session cookie (same origin) and the
// X-CSRF header the gateway requires on /bff/user and /api/*.
const CSRF_HEADER = { 'X-CSRF': '1' };
const TODOS_URL = '/api/todos/todos';
// A route only the `ops` group may call (bob is in it, alice is not): the gateway answers 403 for the others.
const OPS_URL = '/api/ops/whoami';
const EVENTS_URL = '/api/calendar/events';
let connectUrl = `/bff/connect/calendar?returnTo=${encodeURIComponent('/')}`;

const element = (id) => document.getElementById(id);

function showError(message) {
  element('error').textContent = message;
  element('error').hidden = !message;
}

function showAnonymous() {
  element('account').hidden = true;
  element('anonymous').hidden = false;
}

async function call(url, init = {}) {
  const response = await fetch(url, { ...init, credentials: 'same-origin', headers: { ...CSRF_HEADER, ...init.headers } });
  const body = response.headers.get('content-type')?.includes('application/json') ? await response.json() : undefined;
  return { status: response.status, ok: response.ok, body };
}

/** Session expiry as the gateway reports it: epoch seconds, epoch milliseconds or an ISO date. */
function formatExpiry(expiresAt) {
  const date = typeof expiresAt === 'number' ? new Date(expiresAt < 1e12 ? expiresAt * 1000 : expiresAt) : new Date(expiresAt);
  return Number.isNaN(date.getTime()) ? 'unknown' : date.toLocaleString();
}

function failed(response, action) {
  if (response.status === 401) {
    showAnonymous();
    showError('Your session has ended. Log in again.');
  } else {
    showError(`${action} failed: ${response.body?.message ?? `HTTP ${response.status}`}`);
  }
}

function renderTodos(todos) {
  const list = element('todos');
  list.replaceChildren(
    ...todos.map((todo) => {
      const item = document.createElement('li');
      item.textContent = todo.title;
      return item;
    }),
  );
}

async function loadTodos() {
  showError('');
  const response = await call(TODOS_URL);
  if (!response.ok) return failed(response, 'Loading todos');
  renderTodos(response.body.todos);
}

async function addTodo(event) {
  event.preventDefault();
  showError('');
  const input = element('new-todo');
  const response = await call(TODOS_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: input.value }),
  });
  if (!response.ok) return failed(response, 'Adding the todo');
  input.value = '';
  await loadTodos();
}

async function callOps() {
  showError('');
  const response = await call(OPS_URL);
  if (response.status === 401) return failed(response, 'Calling the ops API');
  element('ops-result').textContent = response.ok
    ? `Allowed: the ops API saw ${response.body.sub}.`
    : `Refused: ${response.status} ${response.body?.error ?? ''} (only the ops group may call it).`;
}

function showCalendar(connection) {
  element('calendar-status').textContent = connection
    ? `Connected (${connection.scopes.join(', ')}) since ${formatExpiry(connection.connectedAt)}.`
    : 'Not connected.';
  element('connect-calendar').hidden = Boolean(connection);
  element('load-events').hidden = !connection;
  element('disconnect-calendar').hidden = !connection;
  if (!connection) element('events').replaceChildren();
}

async function loadConnections() {
  const response = await call('/bff/connections');
  if (!response.ok) return failed(response, 'Loading connections');
  showCalendar(response.body.connections.find((connection) => connection.name === 'calendar'));
}

async function loadEvents() {
  showError('');
  const response = await call(EVENTS_URL);
  if (response.status === 401 && response.body?.error === 'connection_required') {
    // Not connected (any longer): the gateway says where to connect.
    connectUrl = response.body.connectUrl;
    showCalendar(undefined);
    return showError('Connect your calendar first.');
  }
  if (!response.ok) return failed(response, 'Loading events');
  element('events').replaceChildren(
    ...response.body.events.map((event) => {
      const item = document.createElement('li');
      item.textContent = `${new Date(event.start).toLocaleString()}: ${event.title}`;
      return item;
    }),
  );
}

async function disconnectCalendar() {
  const response = await call('/bff/connections/calendar', { method: 'DELETE' });
  if (!response.ok && response.status !== 404) return failed(response, 'Disconnecting the calendar');
  showCalendar(undefined);
}

/**
 * A step-up (RFC 9470): the gateway says which login is needed and where to start it; the page only
 * chooses where to come back to (loginUrl's returnTo, `/` unless replaced).
 */
function stepUp(response) {
  const loginUrl = new URL(response.body.loginUrl, location.origin);
  loginUrl.searchParams.set('returnTo', `${location.pathname}?stepped-up=1`);
  location.assign(`${loginUrl.pathname}${loginUrl.search}`);
}

async function sensitiveAction() {
  showError('');
  element('sensitive-result').textContent = '';
  const response = await call('/api/todos/sensitive', { method: 'POST' });
  if (response.status === 401 && response.body?.error === 'step_up_required') return stepUp(response);
  if (!response.ok) return failed(response, 'The sensitive action');
  element('sensitive-result').textContent = `Done, with a login of level ${response.body.acr}.`;
}

async function start() {
  element('connect-calendar').addEventListener('click', () => location.assign(connectUrl));
  element('load-events').addEventListener('click', () => void loadEvents());
  element('disconnect-calendar').addEventListener('click', () => void disconnectCalendar());
  element('sensitive').addEventListener('click', () => void sensitiveAction());
  element('login').addEventListener('click', () => location.assign(`/bff/login?returnTo=${encodeURIComponent('/')}`));
  element('load-todos').addEventListener('click', () => void loadTodos());
  element('add-todo-form').addEventListener('submit', (event) => void addTodo(event));
  element('call-ops').addEventListener('click', () => void callOps());

  const response = await call('/bff/user');
  element('loading').hidden = true;
  if (response.status === 401) return showAnonymous();
  if (!response.ok) return showError(`Could not check your session: HTTP ${response.status}`);
  const { claims, session, logoutUrl } = response.body;
  element('user-name').textContent = claims.name ?? claims.sub;
  element('user-email').textContent = claims.email ?? 'no email';
  element('session-expiry').textContent = formatExpiry(session.expiresAt);
  element('logout').href = logoutUrl;
  element('account').hidden = false;
  await loadConnections();
}

start().catch((error) => showError(`Something went wrong: ${error.message}`));
