// Helpers of the openid-client acceptance run (oauth.mjs): the heimdall server, the
// REST admin API with the root key, a recording fetch for openid-client (so that a
// failure shows the exact request and response), and a cookie-keeping "browser" made
// of plain fetch that signs a user in and answers consent on Heimdall's hosted pages.
import { createServer } from 'node:http';
import { startHeimdall } from './lib.mjs';

export const ROOT_KEY = 'hm_root_e2e-oauth-0123456789abcdefghijklmnopqrstuvwx';
export const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export function check(condition, message) {
  if (!condition) throw new Error(typeof message === 'function' ? message() : message);
}

export function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** Starts `bin serve` on SQLite in a temp dir, public URL http://localhost:PORT. */
export function startServer(bin) {
  return startHeimdall(bin, {
    prefix: 'heimdall-oauth-e2e-',
    env: {
      HEIMDALL_ROOT_KEY: ROOT_KEY,
      HEIMDALL_MASTER_KEY: MASTER_KEY,
      // Lets the client's jwks_uri on http://127.0.0.1 through (the webhook URL rules).
      HEIMDALL_WEBHOOK_ALLOW_PRIVATE: 'true',
    },
  });
}

/**
 * A client's JWK Set on http://127.0.0.1:PORT/jwks.json (node:http): `keys` is what it
 * serves (replace it to rotate), `fetches` the times Heimdall fetched it.
 */
export async function startJwksServer() {
  const served = { keys: [], fetches: [] };
  const http = createServer((request, response) => {
    if (request.url !== '/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    served.fetches.push(Date.now());
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: served.keys }));
  });
  await new Promise((ok) => http.listen(0, '127.0.0.1', ok));
  served.url = `http://127.0.0.1:${http.address().port}/jwks.json`;
  served.close = () => new Promise((ok) => http.close(ok));
  return served;
}

/** The REST admin API with the root key; throws on a non-2xx answer. */
export function adminApi(base) {
  return async function api(method, path, body) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ROOT_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} ${JSON.stringify(body)}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

// ---------------------------------------------------------------------------------
// The wire: every request openid-client makes, with its answer.

const wire = [];

function headerObject(headers) {
  const out = {};
  new Headers(headers ?? {}).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function bodyText(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return Buffer.from(body).toString('utf8');
  return String(body);
}

/** A fetch for openid-client's `customFetch` that records each exchange. */
export async function recordingFetch(url, options) {
  const entry = {
    request: `${options?.method ?? 'GET'} ${url}`,
    requestHeaders: headerObject(options?.headers),
    requestBody: bodyText(options?.body),
  };
  wire.push(entry);
  if (wire.length > 50) wire.shift();
  const response = await fetch(url, options);
  entry.status = response.status;
  entry.responseHeaders = headerObject(response.headers);
  entry.responseBody = await response.clone().text();
  return response;
}

/** Also records a plain fetch (the browser's requests, raw checks). */
export function record(entry) {
  wire.push(entry);
  if (wire.length > 50) wire.shift();
}

export function resetWire() {
  wire.length = 0;
}

/** The last `n` exchanges, readable (secrets are test values). */
export function lastExchanges(n = 3) {
  return wire
    .slice(-n)
    .map((e) => {
      const shown = { ...e.requestHeaders };
      for (const k of ['user-agent', 'accept-encoding', 'accept-language', 'sec-fetch-mode']) delete shown[k];
      const responseHeaders = { ...e.responseHeaders };
      for (const k of ['date', 'content-length', 'vary', 'x-request-id', 'strict-transport-security',
        'x-content-type-options', 'referrer-policy', 'permissions-policy', 'x-frame-options',
        'content-security-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy']) delete responseHeaders[k];
      return [
        `> ${e.request}`,
        ...Object.entries(shown).map(([k, v]) => `> ${k}: ${v}`),
        e.requestBody ? `> ${e.requestBody}` : null,
        `< ${e.status}`,
        ...Object.entries(responseHeaders).map(([k, v]) => `< ${k}: ${v}`),
        e.responseBody ? `< ${e.responseBody.slice(0, 1200)}` : null,
      ]
        .filter((l) => l !== null)
        .join('\n');
    })
    .join('\n\n');
}

// ---------------------------------------------------------------------------------
// A browser made of fetch: cookies, manual redirects, the hosted pages' forms.

const entities = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, code) => {
    if (code.startsWith('#x')) return String.fromCodePoint(parseInt(code.slice(2), 16));
    if (code.startsWith('#')) return String.fromCodePoint(parseInt(code.slice(1), 10));
    return entities[code] ?? whole;
  });
}

function attribute(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}="([^"]*)"`));
  return m ? unescapeHtml(m[1]) : undefined;
}

/** The forms of an HTML page: {method, action, fields (hidden inputs), names, html}. */
export function forms(html) {
  const out = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const fields = {};
    const names = [];
    for (const input of m[2].matchAll(/<(?:input|button)\b[^>]*>/g)) {
      const name = attribute(input[0], 'name');
      if (!name) continue;
      names.push(name);
      if (attribute(input[0], 'type') === 'hidden') fields[name] = attribute(input[0], 'value') ?? '';
    }
    out.push({
      method: (attribute(m[1], 'method') ?? 'get').toLowerCase(),
      action: attribute(m[1], 'action'),
      fields,
      names,
      html: m[2],
    });
  }
  return out;
}

/** The page's heading and error text, for failure messages. */
export function pageSummary(html) {
  const h1 = html.match(/<h1[^>]*>([\s\S]*?)<\/h1>/)?.[1];
  const error = html.match(/<p class="(?:error|field-error)"[^>]*>([\s\S]*?)<\/p>/)?.[1];
  const text = (s) => unescapeHtml(s.replace(/<[^>]+>/g, '')).trim();
  const body = html.match(/<main[^>]*>([\s\S]*?)<\/main>/)?.[1] ?? html;
  return [h1 && `h1: ${text(h1)}`, error && `error: ${text(error)}`, !h1 && !error && text(body).slice(0, 300)]
    .filter(Boolean)
    .join('; ');
}

export class Browser {
  constructor() {
    this.cookies = new Map();
  }

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** One request, no redirect followed; {status, location (absolute), html, url}. */
  async request(url, { method = 'GET', form } = {}) {
    const headers = { accept: 'text/html' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.store(response);
    const html = await response.text();
    const location = response.headers.get('location');
    record({
      request: `${method} ${url}`,
      requestHeaders: headers,
      requestBody: body,
      status: response.status,
      responseHeaders: headerObject(response.headers),
      responseBody: location ? '' : pageSummary(html),
    });
    return { status: response.status, location: location ? new URL(location, url).href : null, html, url };
  }

  /**
   * Follows `url` through the hosted pages like a person: signs in with
   * `email`/`password` on /{app}/login, answers the consent page (`decision`:
   * approve or deny) or the device page, until a redirect to `redirectUri`
   * (returned as a URL) or a page that is not a form (returned as {page}).
   */
  async walk(url, { email, password, decision = 'approve', redirectUri }) {
    let current = url;
    let next = { method: 'GET' };
    let signedIn = false;
    for (let hop = 0; hop < 15; hop++) {
      const r = await this.request(current, next);
      next = { method: 'GET' };
      if (r.location) {
        if (redirectUri && r.location.startsWith(redirectUri)) return new URL(r.location);
        current = r.location;
        continue;
      }
      const page = forms(r.html);
      const login = page.find((f) => f.method === 'post' && f.names.includes('password'));
      const answer = page.find((f) => f.method === 'post' && f.names.includes('decision'));
      if (r.status === 200 && login && !signedIn) {
        signedIn = true;
        current = new URL(login.action, r.url).href;
        next = { method: 'POST', form: { ...login.fields, email, password } };
        continue;
      }
      if (r.status === 200 && answer) {
        current = new URL(answer.action, r.url).href;
        next = { method: 'POST', form: { ...answer.fields, decision } };
        continue;
      }
      return { page: r };
    }
    throw new Error(`more than 15 hops from ${url}`);
  }
}
