// Helpers of the hosted-pages end-to-end run (run.mjs): a free port, an SMTP sink,
// a relying party doing the authorization code flow with PKCE, a fake OpenID
// Connect issuer, and JWT verification against a JWKS with node:crypto.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
export const random = (n = 32) => b64url(randomBytes(n));

function readBody(req) {
  return new Promise((ok) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => ok(body));
  });
}

function listen(server) {
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server.address().port)));
}

/** Undoes quoted-printable soft breaks and =XX escapes. */
function unQuotedPrintable(text) {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * An SMTP server on loopback that speaks enough SMTP for lettre (EHLO, MAIL, RCPT,
 * DATA, RSET, NOOP, QUIT) and keeps every message.
 */
export async function smtpSink() {
  const mails = [];
  const server = createServer((socket) => {
    let buffer = '';
    let inData = false;
    let message = { from: '', to: [], data: '' };
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 sink.test ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end < 0) return;
          message.data = buffer.slice(0, end).replace(/\r\n\.\./g, '\r\n.');
          buffer = buffer.slice(end + 5);
          inData = false;
          mails.push({ ...message, text: unQuotedPrintable(message.data) });
          message = { from: '', to: [], data: '' };
          reply('250 queued');
          continue;
        }
        const nl = buffer.indexOf('\r\n');
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          socket.write('250-sink.test\r\n250 8BITMIME\r\n');
        } else if (verb === 'HELO') reply('250 sink.test');
        else if (verb === 'MAIL') {
          message.from = line.slice(10);
          reply('250 ok');
        } else if (verb === 'RCPT') {
          message.to.push(line.slice(8));
          reply('250 ok');
        } else if (verb === 'DATA') {
          inData = true;
          reply('354 go ahead');
        } else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok');
        else if (verb === 'QUIT') {
          reply('221 bye');
          socket.end();
        } else reply('502 not implemented');
      }
    });
    socket.on('error', () => {});
  });
  const port = await listen(server);
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => server.close(),
    /** The first link of the newest mail to `to` whose link contains `part`. */
    async link(to, part, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (const mail of [...mails].reverse()) {
          if (!mail.to.some((t) => t.includes(to))) continue;
          const found = mail.text.match(/https?:\/\/[^\s"<>]+/g)?.find((l) => l.includes(part));
          if (found) return found.replace(/&amp;/g, '&');
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no mail to ${to} with a link containing ${part} (got ${mails.length} mails)`);
    },
  };
}

/** Verifies a compact JWS against a JWKS document (RS256/ES256/EdDSA); returns its claims. */
export function verifyJwt(token, jwks) {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  let ok;
  if (header.alg === 'RS256') ok = verify('sha256', data, key, signature);
  else if (header.alg === 'ES256') ok = verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  else if (header.alg === 'EdDSA') ok = verify(null, data, key, signature);
  else throw new Error(`unexpected alg ${header.alg}`);
  if (!ok) throw new Error('the signature does not verify');
  return { header, claims: JSON.parse(Buffer.from(p, 'base64url')) };
}

/**
 * A relying party: `/start` begins the authorization code flow with PKCE (S256),
 * `/callback` exchanges the code and verifies the ID token, `/logout` sends the
 * browser to the end_session_endpoint, `/bye` is the post-logout page and
 * `/backchannel` receives back-channel logout tokens.
 */
export async function relyingParty() {
  const rp = {
    flows: new Map(),
    sessions: [],
    logoutTokens: [],
    byes: [],
    config: null, // {issuer, clientId, clientSecret, discovery, jwks}
  };
  const server = createHttpServer(async (req, res) => {
    const url = new URL(req.url, rp.base);
    const html = (status, body) =>
      res
        .writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><html lang="en"><head><title>Planner</title></head><body><main><h1>${body}</h1></main></body></html>`);
    try {
      if (url.pathname === '/start') {
        const state = random(16);
        const nonce = random(16);
        const verifier = random(48);
        const challenge = b64url(createHash('sha256').update(verifier).digest());
        rp.flows.set(state, { nonce, verifier });
        const target = new URL(rp.config.discovery.authorization_endpoint);
        target.search = new URLSearchParams({
          response_type: 'code',
          client_id: rp.config.clientId,
          redirect_uri: `${rp.base}/callback`,
          scope: 'openid email profile',
          state,
          nonce,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          ...(url.searchParams.get('ui_locales') ? { ui_locales: url.searchParams.get('ui_locales') } : {}),
        }).toString();
        res.writeHead(302, { location: target.toString() }).end();
      } else if (url.pathname === '/callback') {
        const flow = rp.flows.get(url.searchParams.get('state'));
        if (!flow) return html(400, 'Unknown state');
        rp.flows.delete(url.searchParams.get('state'));
        if (url.searchParams.get('iss') && url.searchParams.get('iss') !== rp.config.issuer) {
          return html(400, 'Wrong iss');
        }
        const response = await fetch(rp.config.discovery.token_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: url.searchParams.get('code'),
            redirect_uri: `${rp.base}/callback`,
            client_id: rp.config.clientId,
            client_secret: rp.config.clientSecret,
            code_verifier: flow.verifier,
          }),
        });
        const tokens = await response.json();
        if (!response.ok) return html(400, `Token error ${tokens.error}`);
        const { claims } = verifyJwt(tokens.id_token, rp.config.jwks);
        const now = Math.floor(Date.now() / 1000);
        const problems = [];
        if (claims.iss !== rp.config.issuer) problems.push('iss');
        if (claims.aud !== rp.config.clientId) problems.push('aud');
        if (claims.nonce !== flow.nonce) problems.push('nonce');
        if (!(claims.exp > now)) problems.push('exp');
        if (!claims.sid) problems.push('sid');
        if (problems.length) return html(400, `Bad ID token: ${problems.join(', ')}`);
        rp.sessions.push({ idToken: tokens.id_token, claims });
        html(200, `Planner: signed in as ${claims.email}`);
      } else if (url.pathname === '/logout') {
        const last = rp.sessions.at(-1);
        const target = new URL(rp.config.discovery.end_session_endpoint);
        target.search = new URLSearchParams({
          id_token_hint: last.idToken,
          post_logout_redirect_uri: `${rp.base}/bye`,
          state: 'bye-state-1',
        }).toString();
        res.writeHead(302, { location: target.toString() }).end();
      } else if (url.pathname === '/bye') {
        rp.byes.push(url.searchParams.get('state'));
        html(200, `Planner: signed out (state ${url.searchParams.get('state')})`);
      } else if (url.pathname === '/backchannel' && req.method === 'POST') {
        const body = new URLSearchParams(await readBody(req));
        rp.logoutTokens.push({ type: req.headers['content-type'], token: body.get('logout_token') });
        res.writeHead(200).end();
      } else {
        res.writeHead(404).end();
      }
    } catch (error) {
      html(500, `RP error: ${error.message}`);
    }
  });
  const port = await listen(server);
  rp.base = `http://127.0.0.1:${port}`;
  rp.close = () => server.close();
  return rp;
}

/**
 * A fake OpenID Connect issuer: discovery, JWKS, an authorization endpoint that
 * signs "fred" in at once, and a token endpoint (client_secret_basic, PKCE S256)
 * returning an RS256 ID token.
 */
export async function fakeIssuer({ clientId, clientSecret }) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'fake-1', alg: 'RS256', use: 'sig' };
  const codes = new Map();
  const issuer = {};
  const jwt = (claims) => {
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: 'fake-1', typ: 'JWT' }));
    const payload = b64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
    return `${header}.${payload}.${b64url(signature)}`;
  };
  const server = createHttpServer(async (req, res) => {
    const url = new URL(req.url, issuer.base);
    const json = (status, body) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: issuer.base,
        authorization_endpoint: `${issuer.base}/authorize`,
        token_endpoint: `${issuer.base}/token`,
        jwks_uri: `${issuer.base}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      const code = random(16);
      codes.set(code, {
        nonce: url.searchParams.get('nonce'),
        challenge: url.searchParams.get('code_challenge'),
        redirectUri: url.searchParams.get('redirect_uri'),
      });
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state'));
      return res.writeHead(302, { location: back.toString() }).end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
      if (req.headers.authorization !== `Basic ${basic}`) return json(401, { error: 'invalid_client' });
      const grant = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      if (!grant) return json(400, { error: 'invalid_grant' });
      const challenge = b64url(createHash('sha256').update(form.get('code_verifier') ?? '').digest());
      if (challenge !== grant.challenge || form.get('redirect_uri') !== grant.redirectUri) {
        return json(400, { error: 'invalid_grant' });
      }
      const now = Math.floor(Date.now() / 1000);
      return json(200, {
        access_token: random(),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: jwt({
          iss: issuer.base,
          aud: clientId,
          sub: 'fred-1',
          iat: now,
          exp: now + 300,
          nonce: grant.nonce,
          email: 'fred@example.com',
          email_verified: true,
          name: 'Fred Federated',
        }),
      });
    }
    res.writeHead(404).end();
  });
  const port = await listen(server);
  issuer.base = `http://127.0.0.1:${port}`;
  issuer.close = () => server.close();
  return issuer;
}

/**
 * Starts `bin serve` on SQLite in a new temporary directory, public URL
 * http://localhost:PORT (a domain name: WebAuthn needs one, and http on localhost is
 * a secure context), with `env` added; waits for /healthz. Both suites use it.
 */
export async function startHeimdall(bin, { prefix, env }) {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo test --no-run\` first`);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const port = await freePort();
  const child = spawn(bin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      HEIMDALL_DATABASE_URL: `sqlite://${join(dir, 'heimdall.db')}?mode=rwc`,
      HEIMDALL_BIND: `127.0.0.1:${port}`,
      HEIMDALL_PUBLIC_URL: `http://localhost:${port}`,
      HEIMDALL_DATA_DIR: dir,
      HEIMDALL_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://localhost:${port}`;
  const internal = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(`${internal}/healthz`);
      if (r.ok) {
        return {
          base,
          internal,
          child,
          dir,
          output: () => output,
          stop() {
            child.kill('SIGTERM');
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`heimdall did not start:\n${output}`);
}
