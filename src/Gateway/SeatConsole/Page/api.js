// Every call of the page goes through here: the console's own routes (me, signout) and the
// management API mounted for the console's sign-in cookie under api/v1. URLs are relative to the
// page, so the page works under any management path.

/** A refusal of the API: status, the problem's code and its human-readable detail. */
export class Problem extends Error {
  constructor(status, body) {
    const detail = (body && (body.detail || body.title)) || `The gateway answered ${status}.`;
    super(detail);
    this.status = status;
    this.code = body && body.code;
    this.detail = detail;
  }
}

let antiforgery = null;

/** The token sent in X-Console-Antiforgery on every change (it comes with the signed-in user). */
export function setAntiforgery(token) {
  antiforgery = token || null;
}

async function problemOf(response) {
  let body = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { body = await response.json(); } catch { body = null; }
  }
  return new Problem(response.status, body);
}

async function send(method, path, { body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && antiforgery) headers['X-Console-Antiforgery'] = antiforgery;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
    redirect: 'error',
  });
  if (!response.ok) throw await problemOf(response);
  return response;
}

async function json(method, path, body) {
  const response = await send(method, path, { body });
  if (response.status === 204) return null;
  return response.json();
}

const enc = encodeURIComponent;
const tenantPath = (tenant) => `api/v1/tenants/${enc(tenant)}`;

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The signed-in user, or null when nobody is signed in. */
export async function me() {
  try {
    return await json('GET', 'me');
  } catch (e) {
    if (e instanceof Problem && e.status === 401) return null;
    throw e;
  }
}

export const signOut = () => send('POST', 'signout');

export const tenants = (cursor) => json('GET', `api/v1/tenants${query({ limit: 1000, cursor })}`);
export const tenant = (t) => json('GET', tenantPath(t));
export const putPlan = (t, plan) => json('PUT', tenantPath(t), plan);

export const users = (t, { active, cursor, limit = 100 } = {}) =>
  json('GET', `${tenantPath(t)}/users${query({ active, cursor, limit })}`);
export const setUserActive = (t, userId, active) =>
  json('PUT', `${tenantPath(t)}/users/${enc(userId)}`, { active });
export const swap = (t, deactivate, activate) =>
  json('POST', `${tenantPath(t)}/users/swap`, { deactivate, activate });

export const sessions = (t, { userId, cursor } = {}) =>
  json('GET', `${tenantPath(t)}/sessions${query({ userId, cursor })}`);
export const endSession = (t, sessionId) =>
  json('DELETE', `${tenantPath(t)}/sessions/${enc(sessionId)}`);

export const audit = (t, cursor) => json('GET', `${tenantPath(t)}/audit${query({ cursor })}`);

export const usage = (t, from, to) => json('GET', `${tenantPath(t)}/usage${query({ from, to })}`);

/** The relative URL of a list, for its CSV. */
export function listUrl(t, list, params = {}) {
  const base = list === 'tenants' ? 'api/v1/tenants' : `${tenantPath(t)}/${list}`;
  return base + query(params);
}

/**
 * Every page of a list as one CSV text: the API answers text/csv page by page with the next page in
 * a Link header; the header row of later pages is dropped.
 */
export async function csv(url) {
  let text = '';
  let next = url;
  for (let page = 0; next && page < 1000; page++) {
    const response = await send('GET', next, { accept: 'text/csv' });
    let body = await response.text();
    if (page > 0) body = body.slice(body.indexOf('\n') + 1);
    text += body;
    next = nextLink(response.headers.get('Link'), response.url);
  }
  return text;
}

function nextLink(header, base) {
  if (!header) return null;
  const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(header);
  return match ? new URL(match[1], base).href : null;
}
