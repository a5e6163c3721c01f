// Acceptance test of the OAuth 2.0 / OpenID Connect provider and its extensions
// (issue 18; docs/src/oauth-provider.md, docs/src/oauth-extensions.md) with panva's
// certified client openid-client 6, against a real `heimdall` binary on SQLite. The
// user signs in and consents on Heimdall's hosted pages, driven with plain fetch
// (oauth-lib.mjs `Browser`); everything a client does goes through openid-client's
// own functions. Each step prints `ok - name` or `not ok - name` with the reason and
// the last requests and responses on the wire; the run ends with
// "N passed, N failed" and exits non-zero on a failure. What a step accepts but a
// spec advises otherwise is printed as `# note:` and listed at the end.
//
// Introspection is the SPEC's (../shared/SPEC.md): the request's own bearer token is
// inspected, never a `token` body field, so openid-client's RFC 7662
// tokenIntrospection is not supported and a step checks that it is refused (400
// invalid_request). The client's jwks_uri is a node:http server on 127.0.0.1, let
// through by HEIMDALL_WEBHOOK_ALLOW_PRIVATE (oauth-lib.mjs startServer).
//
// Environment: HEIMDALL_BIN (default target/debug/heimdall).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import * as client from 'openid-client';
import {
  Browser,
  adminApi,
  check,
  equal,
  lastExchanges,
  pageSummary,
  record,
  recordingFetch,
  resetWire,
  startJwksServer,
  startServer,
} from './oauth-lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const bin = process.env.HEIMDALL_BIN ?? join(repo, 'target', 'debug', 'heimdall');

const ALICE = 'alice@example.com';
const PASSWORD = 'correct horse battery staple';
// Nothing listens there: the browser stops at the redirect and hands its URL to the client.
const REDIRECT = 'http://127.0.0.1:8765/callback';
const INVOICES = 'https://api.example.com/invoices';
const LEDGER = 'https://api.example.com/ledger';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

const STEP_TIMEOUT_MS = 60000;

let passed = 0;
let failed = 0;
const failures = [];

function describe(error) {
  const parts = [String(error?.message ?? error)];
  if (error?.code) parts.push(`code ${error.code}`);
  if (error?.error) parts.push(`error ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`);
  if (error?.status) parts.push(`status ${error.status}`);
  if (error?.cause && !(error.cause instanceof Error)) {
    const cause = error.cause instanceof Response ? `a ${error.cause.status} response` : JSON.stringify(error.cause);
    parts.push(`cause ${cause?.slice(0, 600)}`);
  }
  return parts.join('; ');
}

async function step(name, fn) {
  const started = Date.now();
  resetWire();
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, no) => {
        timer = setTimeout(() => no(new Error(`the step took longer than ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
      }),
    ]);
    passed++;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    failures.push(name);
    console.log(`not ok - ${name}`);
    console.log(`  ${describe(error).replace(/\n/g, '\n  ')}`);
    const stack = String(error?.stack ?? '').split('\n').find((l) => l.includes('oauth.mjs:'));
    if (stack) console.log(`  at${stack.trim().slice(2)}`);
    const wire = lastExchanges(3);
    if (wire) console.log(`  last requests on the wire:\n    ${wire.replace(/\n/g, '\n    ')}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `fn`, which must fail with the OAuth `error` code: a ResponseBodyError (the
 * JSON body's error) or a WWWAuthenticateChallengeError (the challenge's error
 * parameter). `kind`, when given, is the class the error must be.
 */
async function refused(fn, error, what, kind) {
  let caught;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  check(caught, `${what}: expected ${error}, but it succeeded`);
  let code = caught.error;
  if (caught instanceof client.WWWAuthenticateChallengeError) {
    code = caught.cause?.find((c) => c.parameters?.error)?.parameters?.error;
  }
  check(code === error, () => `${what}: expected ${error}, got ${caught.constructor?.name}: ${describe(caught)}`);
  if (kind) {
    check(caught instanceof kind, () => `${what}: expected a ${kind.name}, got ${caught.constructor?.name}: ${describe(caught)}`);
  }
  return caught;
}

/**
 * Runs `fn`, which must fail with a 401 whose WWW-Authenticate challenge (`scheme`)
 * carries no error parameter, so openid-client raises a WWWAuthenticateChallengeError
 * rather than a ResponseBodyError; the OAuth `error` is then only in the JSON body.
 * Two answers do that: a request without the credentials (RFC 6750 §3.1: no error
 * code then) and every invalid_client, whatever the client authenticated with (SPEC
 * §10: client authentication errors are 401 invalid_client with WWW-Authenticate, a
 * Basic challenge; RFC 6749 §5.2 allows it).
 */
async function challenged(fn, scheme, error, what) {
  let caught;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  check(caught instanceof client.WWWAuthenticateChallengeError, () => `${what}: expected a ${scheme} challenge, got ${caught ? `${caught.constructor?.name}: ${describe(caught)}` : 'a success'}`);
  equal(caught.cause?.map((c) => c.scheme), [scheme], `${what}: the challenge schemes`);
  const body = await caught.response?.clone().json().catch(() => null);
  check(body?.error === error, () => `${what}: expected ${error} in the body, got ${JSON.stringify(body)}`);
  return caught;
}

/** What a run shows without failing a step (printed as `# note:` and again at the end). */
const notes = [];
function note(message) {
  notes.push(message);
  console.log(`# note: ${message}`);
}

/**
 * A 401 invalid_token where credentials were sent: RFC 6750 §3 wants the error in the
 * Bearer challenge (then openid-client reads it there). Heimdall's registration
 * endpoints put it in the JSON body only (a bare `Bearer realm="heimdall"`): accepted,
 * and noted, until the challenge carries it.
 */
async function invalidToken(fn, what) {
  let caught;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  check(caught instanceof client.WWWAuthenticateChallengeError, () => `${what}: expected a Bearer challenge, got ${caught ? `${caught.constructor?.name}: ${describe(caught)}` : 'a success'}`);
  const challenge = caught.cause?.find((c) => c.scheme === 'bearer');
  check(challenge, () => `${what}: no Bearer challenge in ${JSON.stringify(caught.cause)}`);
  if (challenge.parameters?.error) {
    equal(challenge.parameters.error, 'invalid_token', `${what}: the challenge's error`);
    return;
  }
  const body = await caught.response?.clone().json().catch(() => null);
  equal(body?.error, 'invalid_token', `${what}: the body's error`);
  note(`${what}: 401 with WWW-Authenticate ${JSON.stringify(caught.cause)} (no error="invalid_token", RFC 6750 §3); the error is only in the body`);
}

/** The same for a raw answer of the registration endpoints (status, headers, JSON). */
function invalidTokenAnswer(answer, what) {
  equal([answer.status, answer.json?.error], [401, 'invalid_token'], what);
  const challenge = answer.headers.get('www-authenticate') ?? '';
  check(/^Bearer\b/i.test(challenge), `${what}: WWW-Authenticate ${challenge}`);
  if (!/error="invalid_token"/.test(challenge)) note(`${what}: WWW-Authenticate ${challenge} (no error="invalid_token", RFC 6750 §3)`);
}

/** A client's request to its own registration_client_uri (RFC 7592) with `token`. */
async function registration(uri, token, method = 'GET', body) {
  const response = await fetch(uri, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  record({
    request: `${method} ${uri}`,
    requestHeaders: { authorization: `Bearer ${token}` },
    requestBody: body ? JSON.stringify(body) : undefined,
    status: response.status,
    responseHeaders: Object.fromEntries(response.headers),
    responseBody: text,
  });
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: response.status, json, headers: response.headers };
}

/** The SPEC's introspection: POST /{app}/v1/oauth/introspect inspects its own bearer token. */
async function introspect(token) {
  const url = s.metadata.introspection_endpoint;
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  const text = await response.text();
  record({
    request: `POST ${url}`,
    requestHeaders: { authorization: `Bearer ${token}` },
    status: response.status,
    responseHeaders: Object.fromEntries(response.headers),
    responseBody: text,
  });
  equal(response.status, 200, `introspection status (${text})`);
  return JSON.parse(text);
}

const server = await startServer(bin);
const api = adminApi(server.base);
const issuer = `${server.base}/acme`;
// Every client is configured like this: http://localhost, and the recording fetch.
const options = { execute: [client.allowInsecureRequests], [client.customFetch]: recordingFetch };
const browser = new Browser();
const person = { email: ALICE, password: PASSWORD, redirectUri: REDIRECT };
const s = {}; // what the steps hand on

console.log(`openid-client acceptance run against ${server.base}`);

/** A Configuration of a client the admin API created (openid-client's constructor). */
function configure(clientId, metadata, auth) {
  const config = new client.Configuration(s.metadata, clientId, metadata, auth);
  client.allowInsecureRequests(config);
  config[client.customFetch] = recordingFetch;
  return config;
}

/**
 * The authorization code flow with PKCE, state and (with openid) nonce: builds the
 * URL with openid-client (pushed with `par`), lets the person sign in and consent on
 * the hosted pages, and exchanges the code with authorizationCodeGrant.
 */
async function codeFlow(config, parameters, { par = false, DPoP, tokenParameters, decision } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const openid = parameters.scope.split(' ').includes('openid');
  const all = {
    redirect_uri: REDIRECT,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(openid ? { nonce } : {}),
    ...parameters,
  };
  const url = par
    ? await client.buildAuthorizationUrlWithPAR(config, all, DPoP ? { DPoP } : undefined)
    : client.buildAuthorizationUrl(config, all);
  const back = await browser.walk(url.href, { ...person, decision });
  check(back instanceof URL, () => `the authorization ended on a page, not at the redirect URI: ${back.page.status} ${pageSummary(back.page.html)}`);
  const tokens = await client.authorizationCodeGrant(
    config,
    back,
    { pkceCodeVerifier: verifier, expectedState: state, ...(openid ? { expectedNonce: nonce } : { idTokenExpected: false }) },
    tokenParameters,
    DPoP ? { DPoP } : undefined,
  );
  return { tokens, url, back, verifier, state, nonce };
}

async function jwks() {
  const response = await fetch(s.metadata.jwks_uri);
  return jose.createLocalJWKSet(await response.json());
}

/** An RFC 9068 access token for `audience`, checked with jose against the app's JWKS. */
async function verifyAccessToken(token, audience) {
  const { payload, protectedHeader } = await jose.jwtVerify(token, await jwks(), {
    issuer,
    audience,
    typ: 'at+jwt',
  });
  for (const claim of ['iss', 'sub', 'aud', 'client_id', 'iat', 'exp', 'jti']) {
    check(payload[claim] !== undefined, `the access token has no ${claim}: ${JSON.stringify(payload)}`);
  }
  check(protectedHeader.kid, 'the access token header names no kid');
  return { payload, protectedHeader };
}

await step('setup: app acme, the user alice (REST admin API, root key), API resources Invoices and Ledger', async () => {
  await api('POST', '/v1/apps', { name: 'acme', display_name: 'Acme' });
  const user = await api('POST', '/v1/apps/acme/users', {
    email: ALICE,
    password: PASSWORD,
    display_name: 'Alice',
    email_verified: true,
  });
  s.aliceId = user.data.id;
  for (const [identifier, name, scopes] of [
    [INVOICES, 'Invoices', ['invoices:read', 'invoices:write']],
    [LEDGER, 'Ledger', ['ledger:read']],
  ]) {
    await api('POST', '/v1/apps/acme/api-resources', {
      identifier,
      name,
      scopes,
      access_token_format: 'jwt',
      token_ttl: 600,
    });
  }
});

// 1. Discovery -----------------------------------------------------------------------

await step('1 discovery: OpenID configuration and RFC 8414 metadata agree on the issuer and the endpoints', async () => {
  const oidc = await client.discovery(new URL(issuer), 'probe', undefined, undefined, options);
  const oauth = await client.discovery(new URL(issuer), 'probe', undefined, undefined, {
    ...options,
    algorithm: 'oauth2',
  });
  const m = oidc.serverMetadata();
  equal(m.issuer, issuer, 'OpenID configuration issuer');
  equal(oauth.serverMetadata().issuer, issuer, 'RFC 8414 issuer');
  const wellKnown = (path) => fetch(`${server.base}${path}`).then((r) => r.json());
  const suffixForm = await wellKnown('/.well-known/oauth-authorization-server/acme');
  const appForm = await wellKnown('/acme/.well-known/oauth-authorization-server');
  const openid = await wellKnown('/acme/.well-known/openid-configuration');
  equal(appForm, suffixForm, 'the two RFC 8414 paths');
  equal(suffixForm, openid, 'RFC 8414 metadata and the OpenID configuration');
  for (const key of [
    'authorization_endpoint',
    'token_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
    'revocation_endpoint',
    'introspection_endpoint',
    'pushed_authorization_request_endpoint',
    'device_authorization_endpoint',
  ]) {
    check(m[key]?.startsWith(`${issuer}/`), `${key}: ${m[key]}`);
  }
  check(!('registration_endpoint' in m), 'registration_endpoint is advertised while dynamic_registration is off');
  equal(m.require_pushed_authorization_requests, false, 'require_pushed_authorization_requests');
  for (const g of ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', TOKEN_EXCHANGE]) {
    check(m.grant_types_supported.includes(g), `grant_types_supported lacks ${g}`);
  }
  for (const a of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none']) {
    check(m.token_endpoint_auth_methods_supported.includes(a), `token_endpoint_auth_methods_supported lacks ${a}`);
  }
  check(m.dpop_signing_alg_values_supported?.includes('ES256'), 'dpop_signing_alg_values_supported lacks ES256');
  check(m.code_challenge_methods_supported?.includes('S256'), 'code_challenge_methods_supported lacks S256');
  equal(m.subject_types_supported, ['public', 'pairwise'], 'subject_types_supported');
  s.metadata = m;
});

// 2. Dynamic registration, code flow, userinfo, refresh, introspection, revocation ------

await step('2 dynamic client registration (dynamic_registration "open") with dynamicClientRegistration', async () => {
  await api('PATCH', '/v1/apps/acme', { settings: { dynamic_registration: 'open' } });
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'My agent',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access',
      logo_uri: 'https://agent.example.com/logo.png',
      post_logout_redirect_uris: ['http://127.0.0.1:8765/bye'],
    },
    client.ClientSecretBasic(),
    options,
  );
  const m = config.clientMetadata();
  check(m.client_id, 'no client_id');
  check(m.client_secret?.startsWith('hm_sec_'), `client_secret ${m.client_secret}`);
  check(m.registration_access_token, 'no registration_access_token');
  check(m.registration_client_uri?.startsWith(`${issuer}/v1/oauth/register/`), `registration_client_uri ${m.registration_client_uri}`);
  equal(m.client_name, 'My agent', 'client_name');
  check(config.serverMetadata().registration_endpoint === `${issuer}/v1/oauth/register`, 'registration_endpoint not advertised');
  // ID tokens: the signature too, against jwks_uri (openid-client checks iss, aud, exp, nonce anyway).
  client.enableNonRepudiationChecks(config);
  check(Number.isInteger(m.client_secret_expires_at), 'no client_secret_expires_at with the secret (RFC 7591 §3.2.1)');
  s.agent = config;
});

await step('2 RFC 7592 read: the client information response carries a successor registration_access_token; the used one stops working', async () => {
  check(s.agent, 'needs the registered client');
  const m = s.agent.clientMetadata();
  const read = await registration(m.registration_client_uri, m.registration_access_token);
  equal(read.status, 200, 'status of the read');
  const body = read.json;
  equal(body.client_id, m.client_id, 'client_id');
  equal(body.registration_client_uri, m.registration_client_uri, 'registration_client_uri');
  check(!('client_secret' in body) || body.client_secret === m.client_secret, 'the read shows another secret');
  if ('client_secret' in body) note('the RFC 7592 read shows the client_secret (docs: "the metadata (without the secret)")');
  // RFC 7592 §3: REQUIRED in the client information response; Heimdall keeps only a
  // hash, so it is a successor and the presented token ends.
  check(body.registration_access_token?.startsWith('hm_rat_'), () => `no registration_access_token in ${JSON.stringify(body)}`);
  check(body.registration_access_token !== m.registration_access_token, 'the read returned the same registration_access_token');
  const old = await registration(m.registration_client_uri, m.registration_access_token);
  invalidTokenAnswer(old, 'RFC 7592 read with the used registration_access_token');
  const again = await registration(m.registration_client_uri, body.registration_access_token);
  equal(again.status, 200, 'a read with the successor');
  check(again.json.registration_access_token && again.json.registration_access_token !== body.registration_access_token, 'the second read did not rotate');
});

await step('2 registration errors (RFC 7591 §3.2.2): invalid_redirect_uri, invalid_client_metadata', async () => {
  await refused(
    () => client.dynamicClientRegistration(new URL(issuer), { redirect_uris: ['http://agent.example.com/cb'] }, undefined, options),
    'invalid_redirect_uri',
    'an http redirect URI off loopback',
  );
  await refused(
    () => client.dynamicClientRegistration(new URL(issuer), { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'tls_client_auth' }, undefined, options),
    'invalid_client_metadata',
    'an unsupported token_endpoint_auth_method',
  );
});

await step('2 dynamic_registration "token": dynamicClientRegistration with an initialAccessToken an admin minted', async () => {
  await api('PATCH', '/v1/apps/acme', { settings: { dynamic_registration: 'token' } });
  try {
    const minted = await api('POST', '/v1/apps/acme/oauth-initial-access-tokens', { name: 'partner onboarding', max_uses: 1, expires_in: 3600 });
    const initialAccessToken = minted.data.token;
    check(initialAccessToken?.startsWith('hm_iat_'), `initial access token ${initialAccessToken}`);
    const metadata = { client_name: 'Partner', redirect_uris: [REDIRECT] };
    await challenged(() => client.dynamicClientRegistration(new URL(issuer), metadata, undefined, options), 'bearer', 'invalid_token', 'a registration without the token');
    const config = await client.dynamicClientRegistration(new URL(issuer), metadata, undefined, { ...options, initialAccessToken });
    check(config.clientMetadata().client_id, 'no client_id');
    await invalidToken(
      () => client.dynamicClientRegistration(new URL(issuer), metadata, undefined, { ...options, initialAccessToken }),
      'a used-up initial access token',
    );
  } finally {
    await api('PATCH', '/v1/apps/acme', { settings: { dynamic_registration: 'open' } });
  }
});

await step('2 code + PKCE + nonce on the hosted pages → tokens, the ID token validated by openid-client', async () => {
  check(s.agent, 'needs the registered client');
  const { tokens, back } = await codeFlow(s.agent, { scope: 'openid profile email offline_access' });
  equal(back.searchParams.get('iss'), issuer, 'iss of the authorization response (RFC 9207)');
  const claims = tokens.claims();
  equal(claims.sub, s.aliceId, 'ID token sub');
  equal(claims.aud, s.agent.clientMetadata().client_id, 'ID token aud');
  equal(claims.email, ALICE, 'ID token email');
  equal(tokens.token_type.toLowerCase(), 'bearer', 'token_type');
  check(tokens.access_token.startsWith('hm_at_'), `access token ${tokens.access_token.slice(0, 12)}…`);
  check(tokens.refresh_token?.startsWith('hm_rt_'), 'no refresh token with offline_access');
  s.agentTokens = tokens;
});

await step('2 userinfo with fetchUserInfo (sub checked against the ID token)', async () => {
  const t = s.agentTokens;
  check(t, 'needs the tokens');
  const info = await client.fetchUserInfo(s.agent, t.access_token, t.claims().sub);
  equal(info.email, ALICE, 'userinfo email');
});

await step('2 refresh with refreshTokenGrant: rotation, the old refresh token is used up', async () => {
  const t = s.agentTokens;
  check(t, 'needs the tokens');
  const refreshed = await client.refreshTokenGrant(s.agent, t.refresh_token);
  check(refreshed.access_token && refreshed.access_token !== t.access_token, 'no new access token');
  check(refreshed.refresh_token && refreshed.refresh_token !== t.refresh_token, 'the refresh token did not rotate');
  if (refreshed.id_token) equal(refreshed.claims().sub, s.aliceId, 'refreshed ID token sub');
  s.agentRefreshed = refreshed;
  const info = await client.fetchUserInfo(s.agent, refreshed.access_token, s.aliceId);
  equal(info.sub, s.aliceId, 'userinfo with the refreshed token');
});

await step('2 introspection the SPEC way: POST introspect with the access token as the bearer → active, sub, client_id, scope', async () => {
  const t = s.agentRefreshed;
  check(t, 'needs the refreshed tokens');
  const info = await introspect(t.access_token);
  equal(info.active, true, 'active');
  equal(info.client_id, s.agent.clientMetadata().client_id, 'client_id');
  equal(info.sub, s.aliceId, 'sub');
  check(info.scope?.split(' ').includes('email'), `scope ${info.scope}`);
});

await step('2 introspection: openid-client\'s RFC 7662 tokenIntrospection (a token body field) is refused 400 invalid_request (not supported)', async () => {
  const t = s.agentRefreshed;
  check(t, 'needs the refreshed tokens');
  const error = await refused(() => client.tokenIntrospection(s.agent, t.access_token), 'invalid_request', 'tokenIntrospection', client.ResponseBodyError);
  equal(error.status, 400, 'status');
});

await step('2 revocation with tokenRevocation: the refresh token and its access tokens end', async () => {
  const t = s.agentRefreshed;
  check(t, 'needs the refreshed tokens');
  await client.tokenRevocation(s.agent, t.refresh_token, { token_type_hint: 'refresh_token' });
  await refused(() => client.refreshTokenGrant(s.agent, t.refresh_token), 'invalid_grant', 'refresh with a revoked token');
  await refused(() => client.fetchUserInfo(s.agent, t.access_token, s.aliceId), 'invalid_token', 'userinfo after revocation');
  // RFC 7009 §2.2: an unknown token is a 200 too.
  await client.tokenRevocation(s.agent, 'hm_rt_no-such-token');
});

await step('2 introspection the SPEC way of the revoked access token: 200 {"active": false}', async () => {
  const t = s.agentRefreshed;
  check(t, 'needs the refreshed tokens');
  const info = await introspect(t.access_token);
  equal(info, { active: false }, 'the answer');
});

await step('2 a reused refresh token is refused and ends its family (rotation with reuse detection)', async () => {
  check(s.agent, 'needs the registered client');
  const { tokens } = await codeFlow(s.agent, { scope: 'openid offline_access' });
  const rotated = await client.refreshTokenGrant(s.agent, tokens.refresh_token);
  await refused(() => client.refreshTokenGrant(s.agent, tokens.refresh_token), 'invalid_grant', 'the used-up refresh token');
  await refused(() => client.refreshTokenGrant(s.agent, rotated.refresh_token), 'invalid_grant', 'the rotated refresh token after a reuse');
});

// 3. PAR -----------------------------------------------------------------------------

await step('3 PAR: a client with require_pushed_authorization_requests (client_secret_post)', async () => {
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'Pushy',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'openid email',
      require_pushed_authorization_requests: true,
    },
    client.ClientSecretPost(),
    options,
  );
  equal(config.clientMetadata().require_pushed_authorization_requests, true, 'registered require_pushed_authorization_requests');
  // Not pushed: refused with an error page (never a redirect).
  const plain = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  const answer = await browser.walk(plain.href, person);
  check(!(answer instanceof URL), `an unpushed request reached the redirect URI: ${answer}`);
  equal(answer.page.status, 400, `status of the unpushed request (${pageSummary(answer.page.html)})`);
  s.pushy = config;
});

await step('3 PAR: buildAuthorizationUrlWithPAR → sign in → code → tokens; the request_uri is single-use', async () => {
  check(s.pushy, 'needs the PAR client');
  const { tokens, url } = await codeFlow(s.pushy, { scope: 'openid email' }, { par: true });
  equal([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'], 'authorization URL parameters');
  check(url.searchParams.get('request_uri').startsWith('urn:ietf:params:oauth:request_uri:'), url.href);
  equal(tokens.claims().sub, s.aliceId, 'ID token sub');
  const again = await browser.walk(url.href, person);
  check(!(again instanceof URL), `a used request_uri gave a second code: ${again}`);
  equal(again.page.status, 400, `status of a reused request_uri (${pageSummary(again.page.html)})`);
});

await step('3 RFC 7592: read → successor token, the old one 401; PUT with it → 200 and another; DELETE with the latest (then PAR is invalid_client)', async () => {
  check(s.pushy, 'needs the PAR client');
  const m = s.pushy.clientMetadata();
  const uri = m.registration_client_uri;
  const read = await registration(uri, m.registration_access_token);
  equal(read.status, 200, 'status of the read');
  const second = read.json.registration_access_token;
  check(second && second !== m.registration_access_token, `the read's registration_access_token ${second}`);
  const old = await registration(uri, m.registration_access_token);
  invalidTokenAnswer(old, 'RFC 7592 read with the used token');
  const put = await registration(uri, second, 'PUT', {
    client_id: m.client_id,
    client_name: 'Pushy 2',
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'openid email',
    require_pushed_authorization_requests: true,
  });
  equal(put.status, 200, `PUT status (${JSON.stringify(put.json)})`);
  equal(put.json.client_name, 'Pushy 2', 'client_name after PUT');
  const third = put.json.registration_access_token;
  check(third && third !== second && third !== m.registration_access_token, `the PUT's registration_access_token ${third}`);
  const stale = await registration(uri, second, 'DELETE');
  invalidTokenAnswer(stale, 'RFC 7592 DELETE with the token the PUT used');
  // The secret stays across the PUT: the client still authenticates.
  await client.tokenRevocation(s.pushy, 'hm_at_unknown');
  const del = await registration(uri, third, 'DELETE');
  equal(del.status, 204, 'DELETE status with the latest token');
  await challenged(
    () => client.buildAuthorizationUrlWithPAR(s.pushy, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }),
    'basic',
    'invalid_client',
    'PAR by a deleted client_secret_post client',
  );
});

await step('3 PAR: the app setting require_pushed_authorization_requests (discovery, refusal, pushed works)', async () => {
  check(s.agent, 'needs the registered client');
  await api('PATCH', '/v1/apps/acme', { settings: { require_pushed_authorization_requests: true } });
  try {
    const config = await client.discovery(new URL(issuer), 'probe', undefined, undefined, options);
    equal(config.serverMetadata().require_pushed_authorization_requests, true, 'discovery require_pushed_authorization_requests');
    const plain = client.buildAuthorizationUrl(s.agent, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const answer = await browser.walk(plain.href, person);
    check(!(answer instanceof URL), `an unpushed request reached the redirect URI: ${answer}`);
    equal(answer.page.status, 400, 'status of the unpushed request');
    const { tokens } = await codeFlow(s.agent, { scope: 'openid email' }, { par: true });
    equal(tokens.claims().sub, s.aliceId, 'ID token sub');
  } finally {
    await api('PATCH', '/v1/apps/acme', { settings: { require_pushed_authorization_requests: false } });
  }
});

// 4. JWT client authentication ---------------------------------------------------------

await step('4 private_key_jwt (inline jwks, ES256) at the token and revocation endpoints', async () => {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'agent-key-1', alg: 'ES256', use: 'sig' };
  const auth = client.PrivateKeyJwt({ key: privateKey, kid: jwk.kid });
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'Keyed',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [jwk] },
      scope: 'openid email offline_access',
    },
    auth,
    options,
  );
  check(!config.clientMetadata().client_secret, 'a private_key_jwt client got a secret');
  const { tokens } = await codeFlow(config, { scope: 'openid email offline_access' });
  equal(tokens.claims().sub, s.aliceId, 'ID token sub');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(refreshed.access_token, 'refresh with private_key_jwt');
  await client.tokenRevocation(config, refreshed.refresh_token);
  // The same jti twice: the second assertion is a replay (401 invalid_client).
  const jti = `replayed-${client.randomState()}`;
  const replaying = configure(
    config.clientMetadata().client_id,
    {},
    client.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }, { [client.modifyAssertion]: (_h, payload) => void (payload.jti = jti) }),
  );
  await client.tokenRevocation(replaying, 'hm_at_unknown');
  await challenged(() => client.tokenRevocation(replaying, 'hm_at_unknown'), 'basic', 'invalid_client', 'a replayed client assertion');
  // Another key's assertion is refused.
  const other = await jose.generateKeyPair('ES256');
  const forged = configure(config.clientMetadata().client_id, {}, client.PrivateKeyJwt({ key: other.privateKey, kid: jwk.kid }));
  await challenged(() => client.refreshTokenGrant(forged, 'hm_rt_whatever'), 'basic', 'invalid_client', 'an assertion of another key');
});

await step('4 private_key_jwt with a jwks_uri (a node:http JWK Set on 127.0.0.1): registration fetches it, the code flow works', async () => {
  s.jwksServer = await startJwksServer();
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'rotating-1', alg: 'ES256', use: 'sig' };
  s.jwksServer.keys = [jwk];
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'Rotating',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks_uri: s.jwksServer.url,
      scope: 'openid email offline_access',
    },
    client.PrivateKeyJwt({ key: privateKey, kid: jwk.kid }),
    options,
  );
  const m = config.clientMetadata();
  equal(m.jwks_uri, s.jwksServer.url, 'jwks_uri of the registration');
  check(!m.jwks, `the registration answered an inline jwks too: ${JSON.stringify(m.jwks)}`);
  check(!m.client_secret, 'a private_key_jwt client got a secret');
  equal(s.jwksServer.fetches.length, 1, 'fetches of the JWK Set at registration');
  const { tokens } = await codeFlow(config, { scope: 'openid email offline_access' });
  equal(tokens.claims().sub, s.aliceId, 'ID token sub');
  equal(s.jwksServer.fetches.length, 1, 'fetches of the JWK Set after the code flow (the cached set has the kid)');
  s.rotating = { config, privateKey, kid: jwk.kid, refreshToken: tokens.refresh_token };
});

await step('4 jwks_uri rotation: a new kid within 10 s of the last fetch is refused (cooldown); after it, Heimdall refetches and the new key works, the retired one not', async () => {
  check(s.rotating, 'needs the jwks_uri client');
  const { config, privateKey, kid } = s.rotating;
  const clientId = config.clientMetadata().client_id;
  const next = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(next.publicKey)), kid: 'rotating-2', alg: 'ES256', use: 'sig' };
  s.jwksServer.keys = [jwk]; // the rotation: only the new key is published
  const rotated = configure(clientId, {}, client.PrivateKeyJwt({ key: next.privateKey, kid: jwk.kid }));
  const lastFetch = () => s.jwksServer.fetches.at(-1);
  if (Date.now() - lastFetch() < 8000) {
    await challenged(() => client.tokenRevocation(rotated, 'hm_at_unknown'), 'basic', 'invalid_client', 'a new kid within the refetch cooldown');
    equal(s.jwksServer.fetches.length, 1, 'fetches of the JWK Set during the cooldown');
  }
  const wait = lastFetch() + 11000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const refreshed = await client.refreshTokenGrant(rotated, s.rotating.refreshToken);
  check(refreshed.access_token, 'no access token from the refresh with the new key');
  equal(s.jwksServer.fetches.length, 2, 'fetches of the JWK Set after the new kid');
  const retired = configure(clientId, {}, client.PrivateKeyJwt({ key: privateKey, kid }));
  await challenged(() => client.refreshTokenGrant(retired, refreshed.refresh_token), 'basic', 'invalid_client', 'the retired key');
  await client.tokenRevocation(rotated, refreshed.refresh_token);
});

await step('4 client_secret_jwt (HS256 with the issued secret) at the token endpoint', async () => {
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'Hmac',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_jwt',
      scope: 'openid email',
    },
    client.ClientSecretJwt(),
    options,
  );
  check(config.clientMetadata().client_secret, 'a client_secret_jwt client got no secret');
  const { tokens } = await codeFlow(config, { scope: 'openid email' });
  equal(tokens.claims().sub, s.aliceId, 'ID token sub');
  const wrong = configure(config.clientMetadata().client_id, {}, client.ClientSecretJwt('not-the-secret-at-all-0123456789'));
  await challenged(() => client.refreshTokenGrant(wrong, 'hm_rt_whatever'), 'basic', 'invalid_client', 'an assertion with a wrong secret');
});

// 5. DPoP ----------------------------------------------------------------------------

await step('5 DPoP: a public client with dpop_bound_access_tokens; tokens bound (token_type DPoP, cnf.jkt)', async () => {
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: 'Bound',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      dpop_bound_access_tokens: true,
      scope: 'openid email offline_access',
    },
    client.None(),
    options,
  );
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const dpop = client.getDPoPHandle(config, keyPair);
  const { tokens } = await codeFlow(config, { scope: 'openid email offline_access' }, { DPoP: dpop });
  equal(tokens.token_type.toLowerCase(), 'dpop', 'token_type');
  check(tokens.refresh_token, 'no refresh token');
  s.dpop = { config, keyPair, dpop, tokens };
  s.jkt = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey));
});

await step('5 DPoP: fetchUserInfo and introspection (fetchProtectedResource) with the DPoP handle; the bound token as a Bearer is refused', async () => {
  check(s.dpop, 'needs the DPoP tokens');
  const { config, dpop, tokens } = s.dpop;
  const info = await client.fetchUserInfo(config, tokens.access_token, s.aliceId, { DPoP: dpop });
  equal(info.email, ALICE, 'userinfo email');
  // Introspection of the bound token, itself the DPoP-bound bearer (the SPEC way), with openid-client's fetchProtectedResource.
  const introspected = await client.fetchProtectedResource(config, tokens.access_token, new URL(s.metadata.introspection_endpoint), 'POST', undefined, undefined, { DPoP: dpop });
  equal(introspected.status, 200, 'introspection status');
  const body = await introspected.json();
  equal([body.active, body.token_type, body.cnf?.jkt], [true, 'DPoP', s.jkt], 'introspection of the bound token (active, token_type, cnf.jkt)');
  await refused(() => client.fetchUserInfo(config, tokens.access_token, s.aliceId), 'invalid_token', 'a DPoP-bound token as Bearer');
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  // RFC 9449 §4.3 (12) and §7.1: a proof whose key is not the token's is an invalid proof.
  await refused(() => client.fetchUserInfo(config, tokens.access_token, s.aliceId, { DPoP: other }), 'invalid_dpop_proof', 'a proof of another key');
});

await step('5 DPoP: refreshTokenGrant needs a proof of the same key; a refresh for an API resource carries cnf.jkt', async () => {
  check(s.dpop, 'needs the DPoP tokens');
  const { config, dpop, tokens } = s.dpop;
  const other = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  await refused(() => client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: other }), 'invalid_grant', 'a refresh with another key');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: INVOICES }, { DPoP: dpop });
  equal(refreshed.token_type.toLowerCase(), 'dpop', 'token_type of the refresh');
  const { payload } = await verifyAccessToken(refreshed.access_token, INVOICES);
  equal(payload.cnf?.jkt, s.jkt, 'cnf.jkt of the JWT access token (RFC 7638 thumbprint of the DPoP key)');
  const info = await client.fetchUserInfo(config, refreshed.access_token, s.aliceId, { DPoP: dpop });
  equal(info.sub, s.aliceId, 'userinfo with the refreshed DPoP token');
});

await step('5 DPoP: dpop_nonce_required → use_dpop_nonce with DPoP-Nonce, openid-client retries with the nonce', async () => {
  check(s.dpop, 'needs the DPoP client');
  const { config } = s.dpop;
  await api('PATCH', '/v1/apps/acme', { settings: { dpop_nonce_required: true } });
  try {
    const seen = [];
    const counting = async (url, init) => {
      const response = await recordingFetch(url, init);
      const body = response.status >= 400 ? await response.clone().text() : '';
      const challenge = response.headers.get('www-authenticate') ?? '';
      if (body.includes('use_dpop_nonce') || challenge.includes('use_dpop_nonce')) {
        seen.push({ url: String(url), nonce: response.headers.get('dpop-nonce') });
      }
      return response;
    };
    config[client.customFetch] = counting;
    const keyPair = await client.randomDPoPKeyPair('ES256');
    const dpop = client.getDPoPHandle(config, keyPair);
    const { tokens } = await codeFlow(config, { scope: 'openid email offline_access' }, { DPoP: dpop });
    equal(tokens.token_type.toLowerCase(), 'dpop', 'token_type');
    check(seen.some((x) => x.url.endsWith('/v1/oauth/token') && x.nonce), () => `no use_dpop_nonce with a DPoP-Nonce from the token endpoint: ${JSON.stringify(seen)}`);
    const info = await client.fetchUserInfo(config, tokens.access_token, s.aliceId, { DPoP: dpop });
    equal(info.sub, s.aliceId, 'userinfo with a nonce-carrying proof');
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
    const again = await client.fetchUserInfo(config, refreshed.access_token, s.aliceId, { DPoP: dpop });
    equal(again.sub, s.aliceId, 'userinfo after the refresh');
    // A new handle of the same key knows no nonce yet: userinfo answers 401 use_dpop_nonce
    // (RFC 9449 §9), openid-client retries with it.
    const forgetful = client.getDPoPHandle(config, keyPair);
    const third = await client.fetchUserInfo(config, refreshed.access_token, s.aliceId, { DPoP: forgetful });
    equal(third.sub, s.aliceId, 'userinfo after the resource server\'s nonce challenge');
    check(seen.some((x) => x.url.endsWith('/v1/oauth/userinfo') && x.nonce), () => `no use_dpop_nonce with a DPoP-Nonce from userinfo: ${JSON.stringify(seen)}`);
  } finally {
    config[client.customFetch] = recordingFetch;
    await api('PATCH', '/v1/apps/acme', { settings: { dpop_nonce_required: false } });
  }
});

// 6. Device grant -----------------------------------------------------------------------

await step('6 device grant: initiateDeviceAuthorization → approve on /acme/device → pollDeviceAuthorizationGrant', async () => {
  const created = await api('POST', '/v1/apps/acme/oauth-clients', {
    name: 'Living-room TV',
    redirect_uris: ['http://127.0.0.1:8765/unused'],
    allowed_scopes: ['openid', 'profile', 'email', 'offline_access'],
    client_type: 'public',
  });
  const config = configure(created.data.id, {}, client.None());
  s.tv = config;
  const started = await client.initiateDeviceAuthorization(config, { scope: 'openid email offline_access' });
  check(USER_CODE.test(started.user_code), `user_code ${started.user_code}`);
  equal(started.verification_uri, `${issuer}/device`, 'verification_uri');
  check(started.verification_uri_complete?.startsWith(`${issuer}/device?user_code=`), `verification_uri_complete ${started.verification_uri_complete}`);
  check(started.interval >= 1 && started.expires_in > 60, `interval ${started.interval}, expires_in ${started.expires_in}`);
  // Poll first; approve once the token endpoint has said authorization_pending.
  let pending;
  const sawPending = new Promise((ok) => (pending = ok));
  config[client.customFetch] = async (url, init) => {
    const response = await recordingFetch(url, init);
    if (response.status === 400 && (await response.clone().text()).includes('authorization_pending')) pending();
    return response;
  };
  const polling = client.pollDeviceAuthorizationGrant(config, started);
  polling.catch(() => {});
  await Promise.race([sawPending, polling, new Promise((_, no) => setTimeout(() => no(new Error('no authorization_pending within 20 s')), 20000))]);
  config[client.customFetch] = recordingFetch;
  const phone = new Browser(); // another device: signs in on the hosted login first
  const answer = await phone.walk(started.verification_uri_complete, { email: ALICE, password: PASSWORD });
  equal(answer.page?.status, 200, `the device page's answer (${answer.page && pageSummary(answer.page.html)})`);
  const tokens = await polling;
  check(tokens.access_token && tokens.refresh_token, 'no access or refresh token');
  equal(tokens.claims()?.sub, s.aliceId, 'ID token sub');
  const info = await client.fetchUserInfo(config, tokens.access_token, s.aliceId);
  equal(info.email, ALICE, 'userinfo email');
});

await step('6 device grant: the user denies on /acme/device → access_denied from pollDeviceAuthorizationGrant', async () => {
  check(s.tv, 'needs the TV client');
  const started = await client.initiateDeviceAuthorization(s.tv, { scope: 'openid' });
  // Polled twice at once: authorization_pending, then slow_down (RFC 8628 §3.5).
  const grant = 'urn:ietf:params:oauth:grant-type:device_code';
  await refused(() => client.genericGrantRequest(s.tv, grant, { device_code: started.device_code }), 'authorization_pending', 'the first poll');
  await refused(() => client.genericGrantRequest(s.tv, grant, { device_code: started.device_code }), 'slow_down', 'an immediate second poll');
  const answer = await browser.walk(`${started.verification_uri}?user_code=${started.user_code.toLowerCase().replace('-', '')}`, {
    ...person,
    decision: 'deny',
  });
  equal(answer.page?.status, 200, `the device page's answer (${answer.page && pageSummary(answer.page.html)})`);
  await refused(() => client.pollDeviceAuthorizationGrant(s.tv, started), 'access_denied', 'polling a denied device code');
});

// 7. Token exchange ------------------------------------------------------------------------

await step('7 token exchange (RFC 8693) with genericGrantRequest: a Ledger JWT with act = the exchanging client', async () => {
  check(s.agent, 'needs the registered client (subject token)');
  const created = await api('POST', '/v1/apps/acme/oauth-clients', {
    name: 'Invoices API',
    redirect_uris: ['https://api.example.com/cb'],
    allowed_scopes: ['openid', 'profile', 'email'],
    token_exchange: { allowed: true, audiences: [LEDGER] },
  });
  const exchanger = configure(created.data.id, { client_secret: created.data.client_secret }, client.ClientSecretBasic());
  const { tokens } = await codeFlow(s.agent, { scope: 'openid profile email' });
  const exchanged = await client.genericGrantRequest(exchanger, TOKEN_EXCHANGE, {
    subject_token: tokens.access_token,
    subject_token_type: ACCESS_TOKEN_TYPE,
    audience: LEDGER,
    scope: 'profile',
  });
  equal(exchanged.issued_token_type, ACCESS_TOKEN_TYPE, 'issued_token_type');
  equal(exchanged.token_type.toLowerCase(), 'bearer', 'token_type');
  check(!exchanged.refresh_token, 'an exchanged token came with a refresh token');
  const { payload } = await verifyAccessToken(exchanged.access_token, LEDGER);
  equal(payload.act, { sub: created.data.id }, 'act');
  equal(payload.sub, s.aliceId, 'sub');
  equal(payload.client_id, created.data.id, 'client_id');
  equal(payload.scope, 'profile', 'scope');
  // What the policy and the subject do not allow.
  await refused(
    () => client.genericGrantRequest(exchanger, TOKEN_EXCHANGE, { subject_token: tokens.access_token, subject_token_type: ACCESS_TOKEN_TYPE, audience: INVOICES }),
    'invalid_target',
    'an audience outside the policy',
  );
  await refused(
    () => client.genericGrantRequest(exchanger, TOKEN_EXCHANGE, { subject_token: tokens.access_token, subject_token_type: ACCESS_TOKEN_TYPE, scope: 'profile offline_access' }),
    'invalid_scope',
    'a scope the subject token lacks',
  );
  await refused(
    () => client.genericGrantRequest(exchanger, TOKEN_EXCHANGE, { subject_token: 'hm_at_not-a-token', subject_token_type: ACCESS_TOKEN_TYPE }),
    'invalid_grant',
    'an unknown subject token',
  );
  await refused(
    () => client.genericGrantRequest(s.agent, TOKEN_EXCHANGE, { subject_token: tokens.access_token, subject_token_type: ACCESS_TOKEN_TYPE }),
    'unauthorized_client',
    'a client without a token_exchange policy',
  );
});

// 8. API resources and JWT access tokens ----------------------------------------------------

await step('8 resource on the authorization request → RFC 9068 at+jwt verified with jose (aud, client_id, scope, typ)', async () => {
  const created = await api('POST', '/v1/apps/acme/oauth-clients', {
    name: 'Reports',
    redirect_uris: [REDIRECT],
    allowed_scopes: ['openid', 'email', 'offline_access'],
  });
  const config = configure(created.data.id, { client_secret: created.data.client_secret }, client.ClientSecretPost());
  const { tokens } = await codeFlow(config, { scope: 'openid offline_access invoices:read', resource: INVOICES });
  const { payload } = await verifyAccessToken(tokens.access_token, INVOICES);
  equal(payload.client_id, created.data.id, 'client_id');
  equal(payload.sub, s.aliceId, 'sub');
  check(payload.scope.split(' ').includes('invoices:read'), `scope ${payload.scope}`);
  check(!payload.scope.split(' ').includes('invoices:write'), `scope ${payload.scope}`);
  check(payload.auth_time, 'auth_time');
  check(payload.exp - payload.iat <= 600, `lifetime ${payload.exp - payload.iat} over the resource's token_ttl`);
  // Heimdall's own endpoints take it as an OAuth access token.
  const info = await client.fetchUserInfo(config, tokens.access_token, s.aliceId);
  equal(info.sub, s.aliceId, 'userinfo with the JWT access token');
  const response = await client.fetchProtectedResource(config, tokens.access_token, new URL(s.metadata.userinfo_endpoint), 'GET');
  equal(response.status, 200, 'fetchProtectedResource status');
  // The refresh keeps the resource.
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  await verifyAccessToken(refreshed.access_token, INVOICES);
  s.reports = config;
});

await step('8 resource on the token request only; an unknown resource is invalid_target and does not spend the code', async () => {
  check(s.reports, 'needs the Reports client');
  const config = s.reports;
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const back = await browser.walk(url.href, person);
  check(back instanceof URL, () => `ended on a page: ${pageSummary(back.page.html)}`);
  const checks = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce };
  await refused(
    () => client.authorizationCodeGrant(config, back, checks, { resource: 'https://unknown.example.com/api' }),
    'invalid_target',
    'an unknown resource',
  );
  const tokens = await client.authorizationCodeGrant(config, back, checks, { resource: LEDGER });
  const { payload } = await verifyAccessToken(tokens.access_token, LEDGER);
  equal(payload.client_id, config.clientMetadata().client_id, 'client_id');
});

// 9. Client credentials ---------------------------------------------------------------------

await step('9 clientCredentialsGrant for a machine client (client_secret_basic)', async () => {
  const created = await api('POST', '/v1/apps/acme/m2m-clients', { name: 'Nightly job', scopes: ['invoice.read', 'invoice.write'] });
  const m2m = created.data ?? created;
  const config = configure(m2m.client_id, { client_secret: m2m.client_secret }, client.ClientSecretBasic());
  const tokens = await client.clientCredentialsGrant(config, { scope: 'invoice.read' });
  equal(tokens.token_type.toLowerCase(), 'bearer', 'token_type');
  equal(tokens.scope, 'invoice.read', 'scope');
  check(tokens.access_token, 'no access token');
});

// 10. Pairwise subject identifiers ------------------------------------------------------

async function pairwiseClient(name, redirectUris) {
  const config = await client.dynamicClientRegistration(
    new URL(issuer),
    {
      client_name: name,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      subject_type: 'pairwise',
      scope: 'openid email offline_access',
    },
    client.ClientSecretBasic(),
    options,
  );
  equal(config.clientMetadata().subject_type, 'pairwise', 'registered subject_type');
  client.enableNonRepudiationChecks(config);
  return config;
}

await step('10 pairwise (DCR subject_type "pairwise"): the ID token sub is 43 characters, not the user id nor the public sub; fetchUserInfo with it', async () => {
  check(s.agentTokens, 'needs the public client\'s ID token');
  const users = await api('GET', '/v1/apps/acme/users');
  const alice = (users.data ?? users).find((u) => u.email === ALICE);
  check(alice?.id, () => `alice is not in ${JSON.stringify(users).slice(0, 300)}`);
  const config = await pairwiseClient('Partner portal', [REDIRECT]);
  const { tokens } = await codeFlow(config, { scope: 'openid email offline_access' });
  const sub = tokens.claims().sub; // openid-client validated the ID token
  check(/^[A-Za-z0-9_-]{43}$/.test(sub), `pairwise sub ${sub}`);
  check(sub !== alice.id, `the pairwise sub is the user id ${alice.id}`);
  const publicSub = s.agentTokens.claims().sub;
  equal(publicSub, alice.id, 'the public client\'s sub');
  check(sub !== publicSub, 'the pairwise sub is the public sub');
  // openid-client checks that userinfo's sub is the expected (the ID token's) one.
  const info = await client.fetchUserInfo(config, tokens.access_token, sub);
  equal(info.email, ALICE, 'userinfo email');
  const introspected = await introspect(tokens.access_token);
  equal([introspected.active, introspected.sub], [true, sub], 'introspection of the pairwise client\'s token (active, sub)');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  if (refreshed.id_token) equal(refreshed.claims().sub, sub, 'the refreshed ID token sub');
  await client.fetchUserInfo(config, refreshed.access_token, sub);
  s.pairwise = { config, sub };
});

await step('10 pairwise: a second client of the same redirect host sees the same sub; a JWT access token (API resource) carries it and works at userinfo', async () => {
  check(s.pairwise, 'needs the first pairwise client');
  const config = await pairwiseClient('Partner mobile', ['http://127.0.0.1:8765/mobile', REDIRECT]);
  const { tokens } = await codeFlow(config, { scope: 'openid email' });
  equal(tokens.claims().sub, s.pairwise.sub, 'the ID token sub of the second client of sector 127.0.0.1');
  const withResource = await codeFlow(s.pairwise.config, { scope: 'openid invoices:read', resource: INVOICES });
  const { payload } = await verifyAccessToken(withResource.tokens.access_token, INVOICES);
  equal(payload.sub, s.pairwise.sub, 'sub of the RFC 9068 access token');
  const info = await client.fetchUserInfo(s.pairwise.config, withResource.tokens.access_token, s.pairwise.sub);
  equal(info.sub, s.pairwise.sub, 'userinfo with the pairwise JWT access token');
});

server.stop();
await s.jwksServer?.close();
if (failed) {
  console.log(`\nfailed: ${failures.join('; ')}`);
  console.log(`heimdall output (last 2000 chars):\n${server.output().slice(-2000)}`);
}
if (notes.length) console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
