// The admin console: plain DOM, no framework, no build step. It holds no token: the console session is an
// HttpOnly cookie the page cannot read, and every call sends `X-CSRF: 1` to /admin/console/api/*.
// Everything shown comes from the gateway as text (textContent), never as HTML.

const API = '/admin/console/api';
const $ = (selector) => document.querySelector(selector);

const state = { sessionsCursor: null, sessionsQuery: {}, auditCursor: null, auditQuery: {} };

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
  }
}

async function call(method, path, query) {
  const url = new URL(`${API}${path}`, location.origin);
  for (const [name, value] of Object.entries(query ?? {})) if (value) url.searchParams.set(name, value);
  const response = await fetch(url, { method, headers: { 'X-CSRF': '1' }, credentials: 'same-origin' });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function show(element, visible) {
  element.hidden = !visible;
}

function say(text, kind = 'error') {
  const message = $('#message');
  message.textContent = text;
  message.className = kind;
  show(message, Boolean(text));
}

function failed(error) {
  if (error instanceof ApiError && error.status === 401) return signedOut();
  if (error instanceof ApiError && error.code === 'not_admin') {
    show($('#console'), false);
    return say('You are signed in, but not as an administrator: this console is not for your account.');
  }
  say(error.message);
}

function signedOut() {
  show($('#console'), false);
  show($('#operator'), false);
  show($('#signed-out'), true);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '';
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  row.append(td);
  return td;
}

function button(label, action, className) {
  const element = document.createElement('button');
  element.type = 'button';
  element.textContent = label;
  if (className) element.className = className;
  element.addEventListener('click', action);
  return element;
}

function apisOf(session) {
  const apis = session.accessTokens.map((token) => token.resource ?? (token.routes.length ? token.routes.join(', ') : 'login token'));
  const connections = Array.isArray(session.connections) ? session.connections.map((name) => `connected: ${name}`) : [];
  return [...apis, ...connections].join('; ');
}

async function loadSessions(more = false) {
  if (!more) state.sessionsCursor = null;
  const page = await call('GET', '/sessions', { ...state.sessionsQuery, cursor: state.sessionsCursor });
  // Replaced only once the answer is in: the table never shows a half-loaded state.
  if (!more) $('#sessions tbody').replaceChildren();
  for (const session of page.sessions) {
    const row = document.createElement('tr');
    row.dataset.sessionId = session.id;
    cell(row, session.sub);
    cell(row, session.userAgent, 'device').title = session.userAgent ?? '';
    cell(row, session.ip);
    cell(row, when(session.createdAt));
    cell(row, when(session.lastSeenAt));
    cell(row, when(session.expiresAt));
    cell(row, apisOf(session));
    const actions = cell(row, '');
    actions.append(
      button('Details', () => details(session.id).catch(failed)),
      ' ',
      button('Revoke', () => revoke(session).catch(failed), 'danger revoke'),
    );
    $('#sessions tbody').append(row);
  }
  if (!more && page.sessions.length === 0) {
    const row = document.createElement('tr');
    cell(row, 'No sessions match.').colSpan = 8;
    $('#sessions tbody').append(row);
  }
  state.sessionsCursor = page.nextCursor;
  show($('#sessions-more'), Boolean(page.nextCursor));
}

async function details(id) {
  const session = await call('GET', `/sessions/${encodeURIComponent(id)}`);
  $('#detail-id').textContent = session.id;
  const fields = [
    ['User', session.sub],
    ['Provider session (sid)', session.idpSessionId ?? '—'],
    ['Device', session.userAgent ?? '—'],
    ['IP', session.ip ?? 'not recorded'],
    ['Created', when(session.createdAt)],
    ['Last seen', when(session.lastSeenAt)],
    ['Expires (idle)', when(session.expiresAt)],
    ['Expires at the latest', when(session.absoluteExpiresAt)],
    ['Refresh token held', session.hasRefreshToken ? 'yes' : 'no'],
    [
      'APIs',
      session.accessTokens
        .map(
          (token) =>
            `${token.resource ?? 'login token'}${token.scopes ? ` (${token.scopes})` : ''}${token.routes.length ? ` → ${token.routes.join(', ')}` : ''}`,
        )
        .join('\n') || 'none',
    ],
  ];
  if (Array.isArray(session.connections)) fields.push(['Connections', session.connections.join(', ') || 'none']);
  $('#detail-fields').replaceChildren(
    ...fields.flatMap(([name, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.style.whiteSpace = 'pre-line';
      return [dt, dd];
    }),
  );
  show($('#session-detail'), true);
}

async function revoke(session) {
  if (!confirm(`End session ${session.id} of ${session.sub}? The user is logged out of it at once.`)) return;
  await call('DELETE', `/sessions/${encodeURIComponent(session.id)}`);
  say(`Session ${session.id} of ${session.sub} revoked.`, 'info');
  await loadSessions();
}

async function revokeUser() {
  const sub = state.sessionsQuery.sub;
  if (!sub || !confirm(`End every session of ${sub}?`)) return;
  const { revoked } = await call('DELETE', `/users/${encodeURIComponent(sub)}/sessions`);
  say(`${revoked.length} session(s) of ${sub} revoked.`, 'info');
  await loadSessions();
}

function isoOf(localValue) {
  return localValue ? new Date(localValue).toISOString() : '';
}

async function loadAudit(more = false) {
  if (!more) state.auditCursor = null;
  const page = await call('GET', '/audit', { ...state.auditQuery, cursor: state.auditCursor });
  if (!more) $('#audit tbody').replaceChildren();
  for (const event of page.events) {
    const row = document.createElement('tr');
    cell(row, when(event.at));
    cell(row, event.action);
    cell(row, event.actor);
    cell(row, event.target);
    cell(row, event.users.join(', '));
    cell(row, event.sessions.join(', '));
    $('#audit tbody').append(row);
  }
  if (!more && page.events.length === 0) {
    const row = document.createElement('tr');
    cell(row, 'No events match.').colSpan = 6;
    $('#audit tbody').append(row);
  }
  state.auditCursor = page.nextCursor;
  show($('#audit-more'), Boolean(page.nextCursor));
}

function selectView(name) {
  for (const tab of document.querySelectorAll('.tab')) tab.setAttribute('aria-pressed', String(tab.dataset.view === name));
  show($('#sessions-view'), name === 'sessions');
  show($('#audit-view'), name === 'audit');
  say('');
  (name === 'audit' ? loadAudit() : loadSessions()).catch(failed);
}

async function start() {
  let me;
  try {
    me = await call('GET', '/me');
  } catch (error) {
    return failed(error);
  }
  $('#operator-name').textContent = me.name ?? me.sub;
  show($('#operator'), true);
  show($('#console'), true);
  await loadSessions();
}

document.addEventListener('DOMContentLoaded', () => {
  for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => selectView(tab.dataset.view));
  $('#session-search').addEventListener('submit', (event) => {
    event.preventDefault();
    state.sessionsQuery = { sub: $('#search-sub').value.trim(), sid: $('#search-sid').value.trim() };
    $('#revoke-user').disabled = !state.sessionsQuery.sub;
    say('');
    loadSessions().catch(failed);
  });
  $('#revoke-user').addEventListener('click', () => revokeUser().catch(failed));
  $('#sessions-more').addEventListener('click', () => loadSessions(true).catch(failed));
  $('#detail-close').addEventListener('click', () => show($('#session-detail'), false));
  $('#audit-search').addEventListener('submit', (event) => {
    event.preventDefault();
    state.auditQuery = {
      action: $('#audit-action').value,
      user: $('#audit-user').value.trim(),
      from: isoOf($('#audit-from').value),
      to: isoOf($('#audit-to').value),
    };
    say('');
    loadAudit().catch(failed);
  });
  $('#audit-more').addEventListener('click', () => loadAudit(true).catch(failed));
  $('#logout').addEventListener('click', async () => {
    await fetch('/admin/console/logout', { method: 'POST', headers: { 'X-CSRF': '1' }, credentials: 'same-origin' }).catch(() => undefined);
    location.assign('/admin/console');
  });
  start().catch(failed);
});
