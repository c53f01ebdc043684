// The SPA never handles a token: it calls the gateway with its session cookie (same origin) and the
// X-CSRF header the gateway requires on /bff/user and /api/*.
const CSRF_HEADER = { 'X-CSRF': '1' };
const TODOS_URL = '/api/todos/todos';
// A route only the `ops` group may call (bob is in it, alice is not): the gateway answers 403 for the others.
const OPS_URL = '/api/ops/whoami';

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

async function start() {
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
}

start().catch((error) => showError(`Something went wrong: ${error.message}`));
