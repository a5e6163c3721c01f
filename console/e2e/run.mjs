// End-to-end test of the admin console in Debian's Chromium against a real
// `heimdall` binary on SQLite (a temporary data dir, a fixed root key). It walks
// the operator's scenario, checks every page with axe-core (no serious or critical
// violations, light and dark, desktop and 360 px) and saves screenshots under
// target/console-e2e/. Prints "N passed, N failed" and exits non-zero on failure.
//
// Environment: HEIMDALL_BIN (default target/debug/heimdall), CHROMIUM
// (default /usr/bin/chromium), E2E_DOCS=1 also writes docs/src/images/console-*.png.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync, copyFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const bin = process.env.HEIMDALL_BIN ?? join(repo, 'target', 'debug', 'heimdall');
const shots = join(repo, 'target', 'console-e2e');
const docsImages = join(repo, 'docs', 'src', 'images');
const ROOT_KEY = 'hm_root_e2e-console-0123456789abcdefghijklmnopqrstuv';
const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
const axeSource = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

let passed = 0;
let failed = 0;
const failures = [];

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`  ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed++;
    failures.push(name);
    await globalThis.e2ePage
      ?.screenshot({ path: join(shots, `FAILED-${failed}.png`), fullPage: true })
      .catch(() => {});
    console.log(`  FAIL ${name}\n       ${String(error?.stack ?? error).split('\n').slice(0, 6).join('\n       ')}`);
  }
}

function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

async function startServer() {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'heimdall-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      HEIMDALL_DATABASE_URL: `sqlite://${join(dir, 'heimdall.db')}?mode=rwc`,
      HEIMDALL_BIND: `127.0.0.1:${port}`,
      HEIMDALL_DATA_DIR: dir,
      HEIMDALL_ROOT_KEY: ROOT_KEY,
      HEIMDALL_MASTER_KEY: MASTER_KEY,
      HEIMDALL_WEBHOOK_ALLOW_PRIVATE: 'true',
      HEIMDALL_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return { base, child, dir, output: () => output };
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error(`heimdall did not start:\n${output}`);
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
  if (serious.length) {
    throw new Error(`axe (${label}): ${JSON.stringify(serious, null, 1)}`);
  }
}

async function shot(page, name, { docs = false } = {}) {
  mkdirSync(shots, { recursive: true });
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  if (docs && process.env.E2E_DOCS === '1') {
    mkdirSync(docsImages, { recursive: true });
    copyFileSync(path, join(docsImages, `console-${name.replace(/-page$/, '')}.png`));
  }
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 10000 });
}

/** Waits until no loading indicator has been shown for a moment. */
async function idle(page) {
  await page.waitForTimeout(150);
  await page.waitForFunction(() => !document.querySelector('.loading'), null, { timeout: 10000 });
  await page.waitForTimeout(150);
  await page.waitForFunction(() => !document.querySelector('.loading'), null, { timeout: 10000 });
}

// A webhook receiver: acknowledges every delivery.
const received = [];
const receiver = createHttpServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    received.push(body);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
await new Promise((ok) => receiver.listen(0, '127.0.0.1', ok));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;

const server = await startServer();
const m2m = {};
const console_ = `${server.base}/console`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
globalThis.e2ePage = page;
mkdirSync(shots, { recursive: true });
const cspViolations = [];
const pageErrors = [];
page.on('console', (m) => {
  if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
});
page.on('pageerror', (e) => pageErrors.push(String(e)));
const externalRequests = [];
page.on('request', (r) => {
  if (!r.url().startsWith(server.base) && !r.url().startsWith('data:')) externalRequests.push(r.url());
});

const APP = 'e2e-shop';
const PAGES = [
  ['', 'dashboard'],
  ['/users', 'users'],
  ['/roles', 'roles'],
  ['/tenants', 'tenants'],
  ['/m2m-clients', 'machine-clients'],
  ['/oauth-clients', 'oauth-clients'],
  ['/webhooks', 'webhooks'],
  ['/audit-log', 'audit-log'],
  ['/signing-keys', 'signing-keys'],
  ['/api-keys', 'api-keys'],
  ['/settings', 'settings'],
];

console.log(`heimdall at ${server.base}; chromium ${browser.version()}`);
try {
  await step('sign-in page: a bad key shows the server error', async () => {
    await page.goto(`${console_}/`);
    await heading(page, 'Heimdall console');
    await axe(page, 'sign-in');
    await shot(page, 'sign-in', { docs: true });
    await page.getByLabel('Root key or app key').fill('hm_root_wrong-key-000000000000000000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not a valid root key' }).waitFor();
  });

  await step('sign in with the root key; the key is in no browser storage', async () => {
    await page.getByLabel('Root key or app key').fill(ROOT_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Apps');
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    if (stored.includes(ROOT_KEY) || stored.includes('hm_cs_')) throw new Error(`secret in browser storage: ${stored}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'heimdall_console');
    if (!session || !session.httpOnly || session.sameSite !== 'Strict') throw new Error(`cookie: ${JSON.stringify(cookies)}`);
  });

  await step('create an app', async () => {
    await page.getByLabel('Name (slug)').fill(APP);
    await page.getByLabel('Display name').fill('E2E Shop');
    await page.getByRole('button', { name: 'Create app' }).click();
    await heading(page, `Dashboard · ${APP}`);
    await idle(page);
  });

  await step('create a role through the catalogue editor: dry-run diff, then applied', async () => {
    await page.getByRole('link', { name: 'Roles', exact: true }).click();
    await heading(page, `Roles · ${APP}`);
    await idle(page);
    const catalogue = JSON.stringify([{ name: 'support', displayName: 'Support', permissions: ['user.read', 'ticket.reply'] }], null, 2);
    await page.getByLabel('Catalogue (JSON)').fill(catalogue);
    await page.getByRole('button', { name: 'Preview changes' }).click();
    const diff = page.getByTestId('role-diff');
    await diff.getByText('create role support').waitFor();
    await shot(page, 'roles', { docs: true });
    // A dry run changes nothing.
    const before = await page.evaluate(async (app) => {
      const r = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ roles(app: "${app}") { name } }` }) });
      return r.status;
    }, APP);
    if (before !== 403) throw new Error(`the cookie without the CSRF header must be refused, got ${before}`);
    await page.getByRole('button', { name: 'Apply changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Applied: 1 created' }).waitFor();
    await page.getByText('"support"').first().waitFor();
  });

  await step('create a user with that role and see it in the list', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await heading(page, `Users · ${APP}`);
    await idle(page);
    const form = page.locator('section', { has: page.getByRole('heading', { name: 'Create a user' }) });
    await form.getByLabel('Email').fill('ada@example.com');
    await form.getByLabel('Password').fill('correct horse battery staple');
    await form.getByLabel('Display name').fill('Ada');
    await form.getByLabel('Role').selectOption('support');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').filter({ hasText: 'Created ada@example.com' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'ada@example.com' });
    await row.waitFor();
    if (!(await row.innerText()).includes('support')) throw new Error('the new user does not show its role');
    // Search by email and filter by role.
    await page.getByRole('search').getByLabel('Email').fill('ada@');
    await page.getByRole('search').getByLabel('Role').selectOption('support');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('row').filter({ hasText: 'ada@example.com' }).waitFor();
    await shot(page, 'users', { docs: true });
    await row.getByRole('link', { name: 'ada@example.com' }).click();
    await heading(page, 'ada@example.com');
    await idle(page);
    await axe(page, 'user');
    await shot(page, 'user');
  });

  await step('create a machine client: the secret is shown once', async () => {
    await page.getByRole('link', { name: 'Machine clients' }).click();
    await heading(page, `Machine clients · ${APP}`);
    await idle(page);
    await page.getByLabel('Name', { exact: true }).fill('billing-worker');
    await page.getByLabel('Scopes').fill('invoice.read');
    await page.getByRole('button', { name: 'Create client' }).click();
    const secret = page.getByTestId('secret-once');
    await secret.waitFor();
    const value = await secret.getByRole('textbox').inputValue();
    if (!value.startsWith('hm_sec_')) throw new Error(`secret: ${value}`);
    m2m.secret = value;
    m2m.clientId = await page.getByText(/^m2m_/).first().innerText();
    await secret.getByRole('button', { name: /Copy/ }).waitFor();
    await axe(page, 'secret dialog');
    await shot(page, 'machine-client-secret', { docs: true });
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await page.getByRole('row').filter({ hasText: 'billing-worker' }).waitFor();
    if ((await page.content()).includes(value)) throw new Error('the secret is still on the page');
  });

  await step('rotate a signing key', async () => {
    await page.getByRole('link', { name: 'Signing keys' }).click();
    await heading(page, `Signing keys · ${APP}`);
    await idle(page);
    const before = await page.getByRole('row').count();
    await page.getByRole('button', { name: 'Rotate signing key' }).click();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByRole('status').filter({ hasText: 'New active key' }).waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('tbody tr').length === n, before);
    await page.getByRole('cell', { name: 'retired' }).waitFor();
    await shot(page, 'signing-keys', { docs: true });
  });

  await step('branding: a live preview from unsaved values, then the hosted login shows it', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await heading(page, `Settings · ${APP}`);
    await page.getByLabel('Product name').fill('Shopfront');
    await page.getByLabel('Primary colour').fill('#ffd400');
    const title = page.getByTestId('branding-preview-title');
    await title.filter({ hasText: 'Sign in to Shopfront' }).waitFor();
    const button = page.getByTestId('branding-preview-button');
    const colours = await button.evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]);
    check(colours[0] === 'rgb(255, 212, 0)' && colours[1] === 'rgb(0, 0, 0)', `preview button ${colours}`);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const login = await (await fetch(`${server.base}/${APP}/login`)).text();
    check(login.includes('Shopfront') && login.toLowerCase().includes('#ffd400'), 'the hosted login does not show the saved branding');
  });

  await step('webhooks: add an endpoint, see deliveries as a timeline, redeliver', async () => {
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await heading(page, `Webhooks · ${APP}`);
    await idle(page);
    await page.getByLabel('URL').fill(hookUrl);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByTestId('secret-once').waitFor();
    await page.getByRole('button', { name: 'I have stored it' }).click();
    // Activity for the dashboard and the deliveries: sign-ins, failures, a machine token.
    const post = (path, body) =>
      fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < 3; i++) {
      const r = await post(`/${APP}/v1/auth/signin`, { email: 'ada@example.com', password: 'correct horse battery staple' });
      if (r.status !== 200) throw new Error(`sign-in: ${r.status} ${await r.text()}`);
    }
    for (let i = 0; i < 2; i++) await post(`/${APP}/v1/auth/signin`, { email: 'ada@example.com', password: 'wrong password' });
    const token = await post(`/v1/apps/${APP}/tokens`, { grant_type: 'client_credentials', client_id: m2m.clientId, client_secret: m2m.secret });
    if (token.status !== 200) throw new Error(`machine token: ${token.status} ${await token.text()}`);
    for (let i = 0; i < 50 && received.length < 3; i++) await new Promise((r) => setTimeout(r, 200));
    if (received.length < 3) throw new Error(`the receiver got ${received.length} deliveries`);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const timeline = page.locator('ol.timeline');
    await timeline.getByText('user.signed_in').first().waitFor();
    await timeline.getByText('succeeded').first().waitFor();
    const before = received.length;
    await timeline.getByRole('button', { name: 'Redeliver' }).first().click();
    for (let i = 0; i < 50 && received.length === before; i++) await new Promise((r) => setTimeout(r, 200));
    if (received.length === before) throw new Error('the redelivery did not arrive');
    // A test event reaches the receiver and shows in the timeline.
    await page.getByRole('button', { name: 'Send a test event' }).click();
    for (let i = 0; i < 50 && !received.some((r) => r.includes('"webhook.test"')); i++) await new Promise((r) => setTimeout(r, 200));
    if (!received.some((r) => r.includes('"webhook.test"'))) throw new Error('the test event did not arrive');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await timeline.getByText('webhook.test').first().waitFor();
    await idle(page);
    await shot(page, 'webhooks', { docs: true });
  });

  await step("a user's page: revoke one session, second factors", async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: 'ada@example.com' }).click();
    await heading(page, 'ada@example.com');
    await idle(page);
    const sessions = page.locator('section', { has: page.getByRole('heading', { name: 'Sessions' }) });
    const rows = sessions.locator('tbody tr');
    const count = await rows.count();
    if (count < 2) throw new Error(`expected the sign-ins' sessions, found ${count}`);
    await rows.first().getByRole('button', { name: 'Revoke' }).click();
    await page.waitForFunction((n) => {
      const section = [...document.querySelectorAll('section')].find((s) => s.querySelector('h2')?.textContent === 'Sessions');
      return section && section.querySelectorAll('tbody tr').length === n - 1;
    }, count);
    const mfa = page.locator('section', { has: page.getByRole('heading', { name: 'Second factors' }) });
    await mfa.getByText('No second factor enrolled.').waitFor();
    await axe(page, 'user with sessions');
  });

  await step('dashboard: sign-ins, failures, tokens per grant, webhook success rate', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await heading(page, `Dashboard · ${APP}`);
    await idle(page);
    await page.getByText('Sign-ins (3)').waitFor();
    await page.getByText('Failed sign-ins (2)').waitFor();
    await page.getByRole('img', { name: /Success rate 100%/ }).waitFor();
    await page.getByText('Client credentials').waitFor();
    await shot(page, 'dashboard', { docs: true });
  });

  await step('find all of it in the audit log, with the details drawer', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await heading(page, `Audit log · ${APP}`);
    await idle(page);
    for (const action of ['app.created', 'role.created', 'user.created', 'm2m_client.created', 'signing_key.rotated']) {
      await page.getByRole('cell', { name: action, exact: true }).first().waitFor({ timeout: 10000 });
    }
    await page.getByRole('button', { name: 'Details of signing_key.rotated' }).click();
    await page.getByRole('dialog').getByText('Metadata').waitFor();
    await axe(page, 'audit drawer');
    await shot(page, 'audit-log-details');
    await page.keyboard.press('Escape');
    await page.getByRole('search').getByLabel('Action').fill('user.*');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('tbody td.mono')].every((td) => td.textContent.startsWith('user.')));
    await shot(page, 'audit-log', { docs: true });
  });

  await step('a GraphQL error is shown with its message', async () => {
    await page.getByRole('link', { name: 'Tenants' }).click();
    await heading(page, `Tenants · ${APP}`);
    await page.getByLabel('Slug').fill('Not A Slug!');
    await page.getByLabel('Name', { exact: true }).fill('Acme');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('alert').filter({ hasText: 'BAD_USER_INPUT' }).waitFor();
    await page.getByLabel('Slug').fill('acme');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'Members of Acme' }).waitFor();
  });

  await step('register a first-party public OAuth client', async () => {
    await page.getByRole('link', { name: 'OAuth clients' }).click();
    await heading(page, `OAuth clients · ${APP}`);
    await idle(page);
    await page.getByLabel('Name', { exact: true }).fill('Shop web app');
    await page.getByLabel('Redirect URIs').fill('https://shop.example.com/callback');
    await page.getByLabel('Client type').selectOption('public');
    await page.getByLabel(/First-party/).check();
    await page.getByRole('button', { name: 'Register client' }).click();
    await page.getByRole('row').filter({ hasText: 'Shop web app' }).getByText('first-party').waitFor();
  });

  for (const dark of [false, true]) {
    await step(`every page passes axe (${dark ? 'dark' : 'light'}, desktop)`, async () => {
      await page.emulateMedia({ colorScheme: dark ? 'dark' : 'light' });
      for (const [path, name] of PAGES) {
        await page.goto(`${console_}/apps/${APP}${path}`);
        await page.locator('h1').first().waitFor();
        await idle(page);
        await axe(page, `${name}${dark ? ' dark' : ''}`);
        await shot(page, dark ? `${name}-dark` : `${name}-page`, { docs: !dark && ['tenants', 'oauth-clients', 'api-keys', 'settings'].includes(name) });
      }
      await page.goto(`${console_}/apps`);
      await heading(page, 'Apps');
      await idle(page);
      await axe(page, 'apps');
      await shot(page, dark ? 'apps-dark' : 'apps', { docs: !dark });
    });
  }

  await step('works at 360 px: the menu opens and every page passes axe', async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 360, height: 780 });
    for (const [path, name] of PAGES) {
      await page.goto(`${console_}/apps/${APP}${path}`);
      await page.locator('h1').first().waitFor();
      await idle(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) throw new Error(`${name}: the page scrolls sideways by ${overflow}px at 360 px`);
      await axe(page, `${name} 360px`);
      await shot(page, `${name}-360`);
    }
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
    await heading(page, `Users · ${APP}`);
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  await step('keyboard: skip link and navigation without a mouse', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${console_}/apps/${APP}`);
    await heading(page, `Dashboard · ${APP}`);
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.textContent);
    if (first !== 'Skip to content') throw new Error(`first tab stop: ${first}`);
    await page.keyboard.press('Enter');
    const focused = await page.evaluate(() => document.activeElement?.id);
    if (focused !== 'main') throw new Error(`skip link focused ${focused}`);
    await page.getByRole('link', { name: 'Webhooks' }).focus();
    await page.keyboard.press('Enter');
    await heading(page, `Webhooks · ${APP}`);
    const title = await page.evaluate(() => document.activeElement?.id);
    if (title !== 'page-title') throw new Error(`after navigation focus is on ${title}`);
  });

  await step('a reload keeps the session; sign-out ends it', async () => {
    await page.reload();
    await heading(page, `Webhooks · ${APP}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Heimdall console');
    const status = await page.evaluate(async () => (await fetch('/console/session')).status);
    if (status !== 401) throw new Error(`session after sign-out: ${status}`);
  });

  await step('an end-user admin signs in through the hosted login; forbidden actions are disabled and named', async () => {
    const rootGql = async (query) => {
      const r = await fetch(`${server.base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ROOT_KEY}` },
        body: JSON.stringify({ query }),
      });
      const body = await r.json();
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    await rootGql(`mutation { syncRoles(app: "${APP}", input: { roles: [
      { name: "support", displayName: "Support", permissions: ["user.read", "ticket.reply"] },
      { name: "helpdesk", displayName: "Helpdesk", permissions: ["user.read", "audit.read"] } ] }) { created } }`);
    await rootGql(`mutation { createUser(app: "${APP}", input: { email: "help@example.com", password: "correct horse battery staple", role: "helpdesk" }) { id } }`);
    await page.goto(`${console_}/`);
    await heading(page, 'Heimdall console');
    await page.getByLabel('App', { exact: true }).fill(APP);
    await page.getByRole('button', { name: "Continue to the app's sign-in" }).click();
    // The app's hosted login page.
    await page.locator('#email').waitFor();
    await page.locator('#email').fill('help@example.com');
    await page.locator('#password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await heading(page, `Dashboard · ${APP}`);
    await page.getByText(`helpdesk · ${APP}`).waitFor();
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    if (/hm_|verifier/.test(stored)) throw new Error(`secret in browser storage: ${stored}`);
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await heading(page, `Users · ${APP}`);
    await idle(page);
    await page.getByText('Requires user.update').first().waitFor();
    await page.getByRole('link', { name: 'ada@example.com' }).click();
    await heading(page, 'ada@example.com');
    await idle(page);
    const deactivate = page.getByRole('button', { name: 'Deactivate' });
    if (!(await deactivate.isDisabled())) throw new Error('Deactivate is enabled for a user without user.update');
    await page.getByText('Requires user.update').first().waitFor();
    await page.getByText('Requires role.assign').waitFor();
    await axe(page, 'end-user admin');
    await shot(page, 'end-user-admin', { docs: true });
    await page.getByRole('link', { name: 'Signing keys' }).click();
    await heading(page, `Signing keys · ${APP}`);
    await page.getByText('Requires an app key or root key').first().waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Heimdall console');
  });

  await step('no third-party requests, no CSP violations, no page errors', async () => {
    if (externalRequests.length) throw new Error(`external: ${externalRequests.join(', ')}`);
    if (cspViolations.length) throw new Error(`CSP: ${cspViolations.join('\n')}`);
    if (pageErrors.length) throw new Error(`errors: ${pageErrors.join('\n')}`);
  });
} finally {
  await browser.close();
  receiver.close();
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r).once('error', r));
  rmSync(server.dir, { recursive: true, force: true });
}

console.log(`\nscreenshots in ${shots}`);
if (failures.length) console.log(`failed: ${failures.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
