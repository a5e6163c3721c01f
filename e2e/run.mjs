// End-to-end test of the hosted pages (docs/src/hosted-pages.md#testing-in-a-browser)
// in Debian's Chromium against a real `heimdall` binary on SQLite, with an SMTP sink,
// a relying party (authorization code + PKCE, back-channel logout receiver) and a
// fake OpenID Connect issuer, all in this process on loopback. It walks a person's
// way from sign-up to sign-out, checks every page with axe-core (no serious or
// critical violations) and saves a screenshot of each under target/hosted-e2e/.
// Prints "N passed, N failed" and exits non-zero on failure.
//
// Environment: HEIMDALL_BIN (default target/debug/heimdall), CHROMIUM (default
// /usr/bin/chromium).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { fakeIssuer, relyingParty, smtpSink, startHeimdall, verifyJwt } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const bin = process.env.HEIMDALL_BIN ?? join(repo, 'target', 'debug', 'heimdall');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const shots = join(repo, 'target', 'hosted-e2e');
const ROOT_KEY = 'hm_root_e2e-hosted-0123456789abcdefghijklmnopqrstuvw';
const MASTER_KEY = Buffer.alloc(32, 9).toString('base64');
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new staple horse';
const ALICE = 'alice@example.com';
const axeSource = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let passed = 0;
let failed = 0;
let skipped = 0;
let shotNumber = 0;
const failures = [];
let current = null; // the page a failure screenshot is taken of

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    failures.push(name);
    await current?.screenshot({ path: join(shots, `FAILED-${failed}.png`), fullPage: true }).catch(() => {});
    console.log(`  FAIL ${name}\n       ${String(error?.stack ?? error).split('\n').slice(0, 8).join('\n       ')}`);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function startServer({ smtpUrl }) {
  return startHeimdall(bin, {
    prefix: 'heimdall-hosted-e2e-',
    env: {
      HEIMDALL_ROOT_KEY: ROOT_KEY,
      HEIMDALL_MASTER_KEY: MASTER_KEY,
      HEIMDALL_SMTP_URL: smtpUrl,
      HEIMDALL_SMTP_FROM: 'Acme <no-reply@acme.test>',
      HEIMDALL_WEBHOOK_ALLOW_PRIVATE: 'true',
      HEIMDALL_FEDERATION_ALLOW_LOOPBACK: 'true',
    },
  });
}

async function axe(page, label) {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length) throw new Error(`axe (${label}): ${JSON.stringify(serious, null, 1)}`);
}

/** axe-core in light and dark mode, then a screenshot named after the page. */
async function inspect(page, name) {
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await axe(page, `${name}, ${colorScheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  mkdirSync(shots, { recursive: true });
  shotNumber++;
  await page.screenshot({ path: join(shots, `${String(shotNumber).padStart(2, '0')}-${name}.png`), fullPage: true });
}

async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 10000 });
}

async function api(server, method, path, body, token = ROOT_KEY) {
  const response = await fetch(`${server.internal}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'user-agent': 'E2E other device',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return json;
}

/** A Chromium virtual authenticator on the page (CTAP2, platform, resident keys, UV). */
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

// ---------------------------------------------------------------------------------

rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });
const sink = await smtpSink();
const rp = await relyingParty();
const idp = await fakeIssuer({ clientId: 'heimdall-at-corp', clientSecret: 'corp-s3cret' });
const server = await startServer({ smtpUrl: sink.url });
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--host-resolver-rules=MAP localhost 127.0.0.1', '--no-sandbox'],
});
const acme = `${server.base}/acme`;

console.log(`hosted pages e2e: ${server.base} (screenshots in ${shots})`);

await step('setup: app acme (verified email required), the Planner client, the Corp SSO provider', async () => {
  await api(server, 'POST', '/v1/apps', {
    name: 'acme',
    display_name: 'Acme Cloud',
    settings: { require_verified_email: true },
  });
  const client = await api(server, 'POST', '/v1/apps/acme/oauth-clients', {
    name: 'Planner',
    redirect_uris: [`${rp.base}/callback`],
    post_logout_redirect_uris: [`${rp.base}/bye`],
    backchannel_logout_uri: `${rp.base}/backchannel`,
    allowed_scopes: ['openid', 'email', 'profile'],
  });
  check(client.data.backchannel_logout_uri === `${rp.base}/backchannel`, JSON.stringify(client));
  await api(server, 'PUT', '/v1/apps/acme/providers/corp-sso', {
    issuer: idp.base,
    client_id: 'heimdall-at-corp',
    client_secret: 'corp-s3cret',
    redirect_uri: 'https://app.example.com/after',
    display_name: 'Corp SSO',
  });
  const discovery = await (await fetch(`${server.internal}/acme/.well-known/openid-configuration`)).json();
  check(discovery.backchannel_logout_supported === true, 'discovery: backchannel_logout_supported');
  const jwks = await (await fetch(`${server.internal}/acme/v1/.well-known/jwks.json`)).json();
  // Server-to-server calls go to 127.0.0.1; the browser uses the public URL.
  const internal = (u) => u.replace(server.base, server.internal);
  rp.config = {
    issuer: discovery.issuer,
    clientId: client.data.id,
    clientSecret: client.data.client_secret,
    discovery: { ...discovery, token_endpoint: internal(discovery.token_endpoint) },
    jwks,
  };
});

const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
const page = await context.newPage();
current = page;

await step('the relying party sends the browser to the sign-in page', async () => {
  await page.goto(`${rp.base}/start`);
  await heading(page, /Sign in/);
  check(page.url().startsWith(`${acme}/login`), page.url());
  await inspect(page, 'sign-in');
});

await step('sign up (the app minimum shown) → "check your mail"', async () => {
  await page.getByRole('link', { name: 'Create an account' }).click();
  await heading(page, /Create your Acme Cloud account/);
  await inspect(page, 'sign-up');
  // An error first: the passwords differ, shown at the field.
  await page.getByLabel('Email').fill(ALICE);
  await page.getByLabel('Your name').fill('Alice');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill('something else entirely');
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.locator('[aria-invalid="true"]').first().waitFor();
  await inspect(page, 'sign-up-error');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await heading(page, /mail/i);
  await inspect(page, 'check-your-mail');
});

await step('verify the address with the link from the mail', async () => {
  const link = await sink.link(ALICE, 'verify-email');
  check(link.startsWith(`${acme}/verify-email`), link);
  await page.goto(link);
  await heading(page, /Verify your email/);
  await inspect(page, 'verify-email');
  await page.getByRole('button', { name: 'Verify my email' }).click();
  await heading(page, /verified/i);
  await inspect(page, 'email-verified');
});

await step('sign in → consent → the relying party gets a code and a valid ID token', async () => {
  await page.goto(`${rp.base}/start`);
  await heading(page, /Sign in/);
  await page.getByLabel('Email').fill(ALICE);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading(page, /Planner wants to access/);
  await inspect(page, 'consent');
  await page.getByRole('button', { name: 'Allow' }).click();
  await heading(page, `Planner: signed in as ${ALICE}`);
  check(rp.sessions.length === 1, 'the RP verified one ID token');
  check(rp.sessions[0].claims.sid, 'the ID token carries sid');
});

await step('account page: profile, sessions, apps allowed; revoke another session', async () => {
  // A second session, as if from another device.
  await fetch(`${server.internal}/acme/v1/auth/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'E2E other device' },
    body: JSON.stringify({ email: ALICE, password: PASSWORD }),
  }).then((r) => check(r.ok, `API sign-in: ${r.status}`));
  await page.goto(`${acme}/account`);
  await heading(page, 'Your Acme Cloud account');
  await page.getByText('Planner').first().waitFor();
  await inspect(page, 'account');
  await page.getByRole('button', { name: 'Sign out E2E other device' }).click();
  await page.getByText('That session is signed out.').waitFor();
  check((await page.getByText('E2E other device').count()) === 0, 'the other session is gone');
  await inspect(page, 'account-session-revoked');
});

const { cdp, authenticatorId } = await virtualAuthenticator(context, page);

await step('account page: add a passkey (Chromium virtual authenticator) → recovery codes', async () => {
  await page.goto(`${acme}/account`);
  await page.getByLabel('Passkey name').fill('E2E laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await heading(page, /recovery codes/i);
  await inspect(page, 'recovery-codes');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  check(credentials.length === 1 && credentials[0].isResidentCredential, JSON.stringify(credentials));
  await page.goto(`${acme}/account`);
  await page.locator('strong', { hasText: 'E2E laptop' }).waitFor();
  await inspect(page, 'account-with-passkey');
});

await step('sign out through end_session_endpoint → the registered URI with state; back-channel token', async () => {
  await page.goto(`${rp.base}/logout`);
  await heading(page, 'Planner: signed out (state bye-state-1)');
  check(rp.byes.at(-1) === 'bye-state-1', 'state handed back');
  await page.goto(`${acme}/account`);
  await heading(page, /Sign in/);
  const deadline = Date.now() + 15000;
  while (!rp.logoutTokens.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  check(rp.logoutTokens.length >= 1, 'a logout token reached the back-channel URI');
  const { type, token } = rp.logoutTokens.at(-1);
  check(type.startsWith('application/x-www-form-urlencoded'), type);
  const { header, claims } = verifyJwt(token, rp.config.jwks);
  check(header.typ === 'logout+jwt', `typ ${header.typ}`);
  check(claims.aud === rp.config.clientId && claims.iss === rp.config.issuer, JSON.stringify(claims));
  check(claims.sid === rp.sessions[0].claims.sid && claims.sub === rp.sessions[0].claims.sub, 'sid and sub');
  check(claims.events?.['http://schemas.openid.net/event/backchannel-logout'], 'events');
  check(!('nonce' in claims), 'no nonce');
});

await step('sign in with the passkey alone (no password)', async () => {
  await page.goto(`${acme}/login?return_to=${encodeURIComponent('/acme/account')}`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await heading(page, 'Your Acme Cloud account');
});

await step('sign out on the account page', async () => {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await heading(page, 'You are signed out');
  await inspect(page, 'signed-out');
});

await step('password, then the passkey as the second factor', async () => {
  await page.goto(`${acme}/login?return_to=${encodeURIComponent('/acme/account')}`);
  await page.getByLabel('Email').fill(ALICE);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading(page, 'Confirm it is you');
  await inspect(page, 'second-factor');
  await page.getByRole('button', { name: 'Use a passkey or security key' }).click();
  await heading(page, 'Your Acme Cloud account');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await heading(page, 'You are signed out');
});

await step('forgot password end to end (the link from the mail, then sign in with the new one)', async () => {
  const before = sink.mails.length;
  await page.goto(`${acme}/login`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await heading(page, 'Forgot your password?');
  await inspect(page, 'forgot-password');
  await page.getByLabel('Email').fill(ALICE);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await heading(page, /mail/i);
  await inspect(page, 'forgot-password-sent');
  const deadline = Date.now() + 15000;
  while (sink.mails.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const link = await sink.link(ALICE, 'reset-password');
  await page.goto(link);
  await heading(page, 'Choose a new password');
  await inspect(page, 'reset-password');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.getByRole('heading', { level: 1 }).waitFor();
  await inspect(page, 'password-reset-done');
  await page.goto(`${acme}/login?return_to=${encodeURIComponent('/acme/account')}`);
  await page.getByLabel('Email').fill(ALICE);
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await heading(page, 'Confirm it is you');
  await page.getByRole('button', { name: 'Use a passkey or security key' }).click();
  await heading(page, 'Your Acme Cloud account');
});

await step('a federated "Continue with Corp SSO" button against a fake OpenID Connect issuer', async () => {
  const other = await browser.newContext();
  const fed = await other.newPage();
  current = fed;
  try {
    await fed.goto(`${acme}/account`);
    await heading(fed, /Sign in/);
    await fed.getByRole('link', { name: 'Continue with Corp SSO' }).click();
    await heading(fed, 'Your Acme Cloud account');
    check((await fed.locator('#account-email').inputValue()) === 'fred@example.com', 'signed in as fred');
    await fed.getByText(/corp-sso|Corp SSO/).first().waitFor();
    await inspect(fed, 'account-federated');
  } finally {
    current = page;
    await other.close();
  }
});

/**
 * German and French: `<html lang>` and a sign-in heading other than English's,
 * chosen by Accept-Language and by `ui_locales`.
 */
async function languageSteps() {
  const english = await (async () => {
    await page.goto(`${acme}/login`);
    return page.getByRole('heading', { level: 1 }).innerText();
  })();
  await step('German by Accept-Language: <html lang="de">, a German heading', async () => {
    const de = await browser.newContext({ locale: 'de-DE', extraHTTPHeaders: { 'accept-language': 'de' } });
    const p = await de.newPage();
    current = p;
    try {
      await p.goto(`${acme}/login`);
      check((await p.getAttribute('html', 'lang'))?.startsWith('de'), `lang ${await p.getAttribute('html', 'lang')}`);
      const h = await p.getByRole('heading', { level: 1 }).innerText();
      check(h !== english, `heading still English: ${h}`);
      await inspect(p, 'sign-in-de');
    } finally {
      current = page;
      await de.close();
    }
  });
  await step('French by ui_locales on the authorization request', async () => {
    const fr = await browser.newContext();
    const p = await fr.newPage();
    current = p;
    try {
      await p.goto(`${rp.base}/start?ui_locales=fr`);
      await p.getByRole('heading', { level: 1 }).waitFor();
      check((await p.getAttribute('html', 'lang'))?.startsWith('fr'), `lang ${await p.getAttribute('html', 'lang')}`);
      const h = await p.getByRole('heading', { level: 1 }).innerText();
      check(h !== english, `heading still English: ${h}`);
      await inspect(p, 'sign-in-fr');
    } finally {
      current = page;
      await fr.close();
    }
  });
}

await languageSteps();

await browser.close();
server.child.kill('SIGTERM');
sink.close();
rp.close();
idp.close();
rmSync(server.dir, { recursive: true, force: true });
if (failed) {
  console.log(`\nfailed: ${failures.join('; ')}`);
  console.log(`heimdall output (last 3000 chars):\n${server.output().slice(-3000)}`);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
