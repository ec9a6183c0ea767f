// The seat console: views over the management API. The page decides nothing itself: every rule
// (who may do what, seat limits, what a swap means) is the API's, and a refusal is shown as the
// API wrote it.
import * as api from './api.js';
import { daysBetween, peakChart } from './chart.js';

const $ = (id) => document.getElementById(id);
const state = { me: null, operator: false, tenant: null, plan: null, users: [], usersCursor: null, sessionsCursor: null, auditCursor: null };

// ---- notices and refusals -----------------------------------------------------------------

function showProblem(error) {
  const box = $('problem');
  box.replaceChildren();
  const text = error instanceof api.Problem ? error.detail : String(error && error.message ? error.message : error);
  const strong = document.createElement('strong');
  strong.textContent = 'Refused: ';
  box.append(strong, document.createTextNode(text));
  if (error instanceof api.Problem && error.code) {
    const code = document.createElement('code');
    code.textContent = error.code;
    box.append(document.createTextNode(' '), code);
    box.dataset.code = error.code;
  }
  box.hidden = false;
  $('notice').textContent = '';
  // The sign-in ended (expired, or signed out elsewhere): offer a new one beside the refusal.
  if (error instanceof api.Problem && error.status === 401) {
    $('app').hidden = true;
    $('who').hidden = true;
    $('signin-view').hidden = false;
  }
}

function notify(text) {
  $('problem').hidden = true;
  $('notice').textContent = text;
}

/** Runs a change: shows its outcome (or its refusal) and refreshes what it affects. */
async function change(action, done, refresh) {
  try {
    await action();
    notify(done);
  } catch (e) {
    showProblem(e);
  }
  try { await refresh(); } catch (e) { if (!$('problem').hidden) return; showProblem(e); }
}

async function load(action) {
  try { await action(); } catch (e) { showProblem(e); }
}

// ---- small DOM helpers --------------------------------------------------------------------

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function button(text, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

const when = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');
const today = () => new Date().toISOString().slice(0, 10);
function daysAgo(n) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

// ---- views ----------------------------------------------------------------------------------

const views = ['overview', 'users', 'sessions', 'audit', 'plan'];

function currentView() {
  const name = location.hash.slice(1);
  return views.includes(name) && (name !== 'plan' || state.operator) ? name : 'overview';
}

async function showView() {
  const name = currentView();
  for (const v of views) $(`view-${v}`).hidden = v !== name;
  for (const a of document.querySelectorAll('.tabs a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!state.tenant) return;
  await load(() => refreshView(name));
}

function refreshView(name) {
  switch (name) {
    case 'users': return refreshUsers();
    case 'sessions': return refreshSessions();
    case 'audit': return refreshAudit();
    case 'plan': return refreshPlan();
    default: return refreshOverview();
  }
}

// Overview: seats in use against the limit, and the 90-day chart.
async function refreshOverview() {
  let plan;
  try {
    plan = await api.tenant(state.tenant);
  } catch (e) {
    if (e instanceof api.Problem && e.code === 'tenant-not-found') {
      state.plan = null;
      $('no-plan').hidden = false;
      $('seats').hidden = true;
      $('chart').replaceChildren();
      $('chart-caption').textContent = '';
      return;
    }
    throw e;
  }
  state.plan = plan;
  $('no-plan').hidden = true;
  $('seats').hidden = false;
  const perSession = plan.model === 'ConcurrentSessions';
  const used = perSession ? plan.activeSessions : plan.activeUsers;
  $('seats-used').textContent = used;
  $('seats-limit').textContent = plan.seatLimit;
  $('seats-label').textContent = perSession ? 'Seats in use (live sessions)' : 'Seats in use (active users)';
  const meter = $('seats-meter');
  meter.max = plan.seatLimit;
  meter.high = plan.seatLimit * 0.9;
  meter.value = used;
  $('plan-model').textContent = perSession ? 'Concurrent sessions' : 'Registered users';
  $('count-users').textContent = plan.activeUsers;
  $('count-sessions').textContent = plan.activeSessions;

  const from = daysAgo(89), to = today();
  const report = await api.usage(state.tenant, from, to);
  const byDate = new Map(report.days.map((d) => [d.date, d]));
  const series = daysBetween(from, to).map((date) => {
    const d = byDate.get(date);
    return { date, peak: d ? (perSession ? d.peakSessions : d.peakActiveUsers) : 0 };
  });
  const label = perSession ? 'Peak concurrent sessions' : 'Peak active users';
  $('chart').replaceChildren(peakChart(series, plan.seatLimit, label));
  $('chart-caption').textContent = `${label} per UTC day from ${from} to ${to}; the line is the seat limit (${plan.seatLimit}).`;
}

// Users: search, activate, deactivate, swap.
async function refreshUsers() {
  state.users = [];
  state.usersCursor = null;
  await moreUsers();
}

async function moreUsers() {
  const active = $('user-filter').value;
  const searching = $('user-search').value.trim() !== '';
  // A search looks through every user (the API lists in pages, without a search of its own).
  let pages = 0;
  do {
    const page = await api.users(state.tenant, { active, cursor: state.usersCursor, limit: searching ? 1000 : 100 });
    state.users.push(...page.users);
    state.usersCursor = page.nextCursor;
    pages++;
  } while (state.usersCursor && (searching ? pages < 50 : state.users.length === 0));
  renderUsers();
}

function renderUsers() {
  const term = $('user-search').value.trim().toLowerCase();
  const body = $('users-body');
  body.replaceChildren();
  const shown = term ? state.users.filter((u) => u.userId.toLowerCase().includes(term)) : state.users;
  for (const u of shown) {
    const tr = document.createElement('tr');
    tr.dataset.user = u.userId;
    tr.append(cell(u.userId, 'id'), cell(u.active ? 'active' : 'inactive', u.active ? 'state on' : 'state off'),
      cell(String(u.sessions)), cell(when(u.lastSeenAt)));
    const td = document.createElement('td');
    td.append(u.active
      ? button('Deactivate', `Deactivate ${u.userId}`, () => setActive(u.userId, false))
      : button('Activate', `Activate ${u.userId}`, () => setActive(u.userId, true)));
    tr.append(td);
    body.append(tr);
  }
  if (shown.length === 0) {
    const tr = document.createElement('tr');
    const td = cell(term ? `No user matches “${term}”.` : 'No users.', 'empty');
    td.colSpan = 5;
    tr.append(td);
    body.append(tr);
  }
  $('users-more').hidden = !state.usersCursor;
  const list = $('active-users');
  list.replaceChildren(...state.users.filter((u) => u.active).map((u) => {
    const o = document.createElement('option');
    o.value = u.userId;
    return o;
  }));
}

function setActive(userId, active) {
  return change(() => api.setUserActive(state.tenant, userId, active),
    `${userId} is now ${active ? 'active' : 'inactive'}.`, refreshUsers);
}

// Sessions: list, end one.
async function refreshSessions() {
  $('sessions-body').replaceChildren();
  state.sessionsCursor = null;
  await moreSessions();
}

async function moreSessions() {
  const page = await api.sessions(state.tenant, { userId: $('sessions-user').value.trim(), cursor: state.sessionsCursor });
  state.sessionsCursor = page.nextCursor;
  const body = $('sessions-body');
  for (const s of page.sessions) {
    const tr = document.createElement('tr');
    tr.dataset.session = s.sessionId;
    tr.append(cell(s.userId, 'id'), cell(s.clientKind), cell(s.deviceId, 'id'), cell(when(s.startedAt)),
      cell(when(s.lastSeenAt)), cell(when(s.expiresAt)), cell(s.borrowed ? 'yes' : 'no'));
    const td = document.createElement('td');
    td.append(button('End', `End the session of ${s.userId} on ${s.deviceId}`, () =>
      change(() => api.endSession(state.tenant, s.sessionId), `The session of ${s.userId} on ${s.deviceId} ended.`, refreshSessions)));
    tr.append(td);
    body.append(tr);
  }
  if (!body.children.length) {
    const tr = document.createElement('tr');
    const td = cell('No live sessions.', 'empty');
    td.colSpan = 8;
    tr.append(td);
    body.append(tr);
  }
  $('sessions-more').hidden = !state.sessionsCursor;
}

// Audit trail, newest first.
async function refreshAudit() {
  $('audit-body').replaceChildren();
  state.auditCursor = null;
  await moreAudit();
}

async function moreAudit() {
  const page = await api.audit(state.tenant, state.auditCursor);
  state.auditCursor = page.nextCursor;
  const body = $('audit-body');
  for (const e of page.entries) {
    const tr = document.createElement('tr');
    tr.append(cell(when(e.at)), cell(e.action), cell(e.actor, 'id'), cell(e.userId, 'id'), cell(e.sessionId ? e.sessionId.slice(0, 10) + '…' : '', 'id'), cell(e.reason));
    body.append(tr);
  }
  if (!body.children.length) {
    const tr = document.createElement('tr');
    const td = cell('Nothing recorded yet.', 'empty');
    td.colSpan = 6;
    tr.append(td);
    body.append(tr);
  }
  $('audit-more').hidden = !state.auditCursor;
}

// Plan editor (operators). Enforcement is shown and sent only when the API reports it.
async function refreshPlan() {
  let plan = null;
  try {
    plan = await api.tenant(state.tenant);
  } catch (e) {
    if (!(e instanceof api.Problem && e.code === 'tenant-not-found')) throw e;
  }
  state.plan = plan;
  $('plan-model-input').value = plan ? plan.model : 'RegisteredUsers';
  $('plan-seats').value = plan ? plan.seatLimit : '';
  $('plan-reserved').value = plan ? (plan.reservedUsers || []).join('\n') : '';
  $('plan-per-user').value = plan && plan.maxSessionsPerUser !== undefined ? plan.maxSessionsPerUser : '';
  const enforcement = plan ? plan.enforcement : undefined;
  $('plan-enforcement-row').hidden = enforcement === undefined;
  if (enforcement !== undefined) {
    const select = $('plan-enforcement');
    const values = [...new Set(['enforce', 'shadow', enforcement])];
    select.replaceChildren(...values.map((v) => new Option(v, v)));
    select.value = enforcement;
  }
}

function planFromForm() {
  const plan = {
    model: $('plan-model-input').value,
    seatLimit: Number($('plan-seats').value),
  };
  const reserved = $('plan-reserved').value.split(/[\s,]+/).filter(Boolean);
  if (reserved.length) plan.reservedUsers = reserved;
  const perUser = $('plan-per-user').value.trim();
  if (perUser !== '') plan.maxSessionsPerUser = Number(perUser);
  if (!$('plan-enforcement-row').hidden) plan.enforcement = $('plan-enforcement').value;
  return plan;
}

// ---- tenants ------------------------------------------------------------------------------

async function loadTenants() {
  const all = [];
  let cursor = null;
  do {
    const page = await api.tenants(cursor);
    all.push(...page.tenants);
    cursor = page.nextCursor;
  } while (cursor);
  const picker = $('tenant-picker');
  const names = all.map((t) => t.tenant);
  if (state.tenant && !names.includes(state.tenant)) names.unshift(state.tenant);
  picker.replaceChildren(...names.map((t) => new Option(t, t)));
  if (state.tenant) picker.value = state.tenant;
}

async function selectTenant(t) {
  state.tenant = t;
  $('tenant-name').textContent = t;
  $('users-body').replaceChildren();
  $('sessions-body').replaceChildren();
  $('audit-body').replaceChildren();
  await showView();
}

// ---- CSV downloads --------------------------------------------------------------------------

async function download(list) {
  try {
    const params = list === 'usage' ? { from: daysAgo(89), to: today() } : { limit: 1000 };
    const text = await api.csv(api.listUrl(state.tenant, list, params));
    const blob = new Blob([text], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${state.tenant}-${list}-${today()}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    notify(`Downloaded ${a.download}.`);
  } catch (e) {
    showProblem(e);
  }
}

// ---- start ----------------------------------------------------------------------------------

function wire() {
  window.addEventListener('hashchange', showView);
  for (const b of document.querySelectorAll('button.csv')) b.addEventListener('click', () => download(b.dataset.csv));

  $('activate-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('activate-id').value.trim();
    if (id) setActive(id, true).then(() => { if ($('problem').hidden) $('activate-id').value = ''; });
  });
  $('swap-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const from = $('swap-from').value.trim(), to = $('swap-to').value.trim();
    change(() => api.swap(state.tenant, from, to), `${from} handed the seat to ${to}.`, refreshUsers);
  });
  let searchTimer = 0;
  $('user-search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => load(refreshUsers), 200);
  });
  $('user-filter').addEventListener('change', () => load(refreshUsers));
  $('users-more').addEventListener('click', () => load(moreUsers));
  $('sessions-form').addEventListener('submit', (e) => { e.preventDefault(); load(refreshSessions); });
  $('sessions-refresh').addEventListener('click', () => load(refreshSessions));
  $('sessions-more').addEventListener('click', () => load(moreSessions));
  $('audit-refresh').addEventListener('click', () => load(refreshAudit));
  $('audit-more').addEventListener('click', () => load(moreAudit));
  $('plan-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = state.tenant;
    change(() => api.putPlan(t, planFromForm()), `The plan of ${t} is saved.`, async () => { await refreshPlan(); await loadTenants(); });
  });
  $('tenant-picker').addEventListener('change', () => selectTenant($('tenant-picker').value));
  $('tenant-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = $('tenant-new').value.trim() || $('tenant-picker').value;
    $('tenant-new').value = '';
    await selectTenant(t);
    await load(loadTenants);
  });
  $('signout').addEventListener('click', async () => {
    try { await api.signOut(); } catch { /* signed out or not: the page starts over */ }
    location.reload();
  });
}

async function start() {
  wire();
  let me;
  try {
    me = await api.me();
  } catch (e) {
    showProblem(e);
    return;
  }
  if (!me) {
    $('signin-view').hidden = false;
    $('signin-link').focus();
    return;
  }
  state.me = me;
  state.operator = Boolean(me.isOperator ?? me.operator);
  api.setAntiforgery(me.antiforgeryToken ?? me.antiforgery);
  $('who-name').textContent = me.userId ?? me.user ?? me.name ?? '';
  $('who-role').textContent = state.operator ? 'operator' : 'tenant admin';
  $('who').hidden = false;
  $('app').hidden = false;
  $('plan-tab').hidden = !state.operator;
  $('tenant-form').hidden = !state.operator;
  $('tenant-static').hidden = state.operator;
  state.tenant = me.tenant ?? null;
  $('tenant-name').textContent = state.tenant ?? '';
  if (state.operator) await load(loadTenants);
  if (!state.tenant && state.operator) state.tenant = $('tenant-picker').value || null;
  await selectTenant(state.tenant);
}

start();
