// The console's one way to the API: same-origin fetch with the session
// cookie, the CSRF token on every state-changing request, JSON in and out.
let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiFailure extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) throw new ApiFailure(res.status, data);
  return data;
}

export const get = (p) => api('GET', p);

/** the live event stream; returns a function that closes it */
export function events(onEvent) {
  const es = new EventSource('/api/v1/events');
  for (const type of ['call', 'registration', 'device', 'security', 'ban', 'unban', 'change']) {
    es.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data)));
  }
  return () => es.close();
}

export function fmtTime(ms) {
  return ms ? new Date(ms).toLocaleString() : '';
}
