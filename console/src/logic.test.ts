import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, gql, setCsrf, signIn } from './api';
import { match } from './router';
import { catalogueText, parseCatalogue } from './pages/roles';
import { auditFilter } from './pages/audit';
import { isPublished } from './pages/keys';
import { scale } from './pages/dashboard';
import { splitList } from './ui';
import { brandingInput, buttonText, contrast, isColor } from './pages/branding';
import { TypedDocumentString } from './gql/graphql';

const Probe = new TypedDocumentString<{ oauthScopes: { name: string }[] }, Record<string, never>>(
  'query Probe { oauthScopes { name } }',
);

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrf(null);
});

describe('the role catalogue document', () => {
  it('parses roles with defaults', () => {
    expect(parseCatalogue('[{"name": "billing", "permissions": ["invoice.read"]}, {"name": "x"}]')).toEqual([
      { name: 'billing', displayName: null, description: null, permissions: ['invoice.read'] },
      { name: 'x', displayName: null, description: null, permissions: [] },
    ]);
  });
  it('explains what is wrong', () => {
    expect(() => parseCatalogue('{')).toThrow(/not valid JSON/);
    expect(() => parseCatalogue('{}')).toThrow(/array/);
    expect(() => parseCatalogue('[{}]')).toThrow(/needs a "name"/);
    expect(() => parseCatalogue('[{"name": "a", "permissions": [1]}]')).toThrow(/array of strings/);
  });
  it('round-trips the custom roles only', () => {
    const text = catalogueText([
      { name: 'owner', permissions: ['*'], isSystem: true },
      { name: 'support', displayName: 'Support', permissions: ['user.read'], isSystem: false },
    ]);
    expect(parseCatalogue(text)).toEqual([{ name: 'support', displayName: 'Support', description: null, permissions: ['user.read'] }]);
  });
});

describe('small rules', () => {
  it('matches routes', () => {
    expect(match('/apps/:app/users/:id', '/apps/acme/users/42')).toEqual({ app: 'acme', id: '42' });
    expect(match('/apps/:app', '/apps/acme/users')).toBeNull();
    expect(match('/', '/')).toEqual({});
  });
  it('builds the audit filter from the form', () => {
    expect(auditFilter({ action: ' user.* ', actorId: '', targetId: 't', since: '', until: '' })).toEqual({ action: 'user.*', targetId: 't' });
    const f = auditFilter({ action: '', actorId: '', targetId: '', since: '2026-01-02T03:04', until: '' });
    expect(f.since).toBe(new Date('2026-01-02T03:04').toISOString());
  });
  it('tells which signing keys are published', () => {
    const now = new Date('2026-01-10T00:00:00Z');
    expect(isPublished({ status: 'active' }, now)).toBe(true);
    expect(isPublished({ status: 'retired', publishUntil: '2026-01-12T00:00:00Z' }, now)).toBe(true);
    expect(isPublished({ status: 'retired', publishUntil: '2026-01-09T00:00:00Z' }, now)).toBe(false);
    expect(isPublished({ status: 'retired', publishUntil: null }, now)).toBe(false);
  });
  it('scales the day chart to its tallest bar', () => {
    const bars = scale(
      [
        { day: 'a', signIns: 10, failedSignIns: 5 },
        { day: 'b', signIns: 0, failedSignIns: 0 },
      ],
      100,
    );
    expect(bars).toEqual({ max: 10, ok: [100, 0], failed: [50, 0] });
    expect(scale([{ day: 'a', signIns: 0, failedSignIns: 0 }], 100).max).toBe(1);
  });
  it('splits lists', () => {
    expect(splitList('a, b\n c,,')).toEqual(['a', 'b', 'c']);
  });
});

describe('the transport', () => {
  it('sends the CSRF token and throws every GraphQL error', async () => {
    const fetchMock = vi.fn(async () =>
      new Response(
        JSON.stringify({
          data: null,
          errors: [{ message: 'missing permissions: audit.read', extensions: { code: 'FORBIDDEN', missing: ['audit.read'] } }],
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      ),
    );
    vi.stubGlobal('fetch', fetchMock);
    setCsrf('token-1');
    const error = await gql(Probe).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe('missing permissions: audit.read');
    expect((error as ApiError).code).toBe('FORBIDDEN');
    expect((error as ApiError).missing).toEqual(['audit.read']);
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/graphql');
    expect((init.headers as Record<string, string>)['x-heimdall-csrf']).toBe('token-1');
    expect(init.credentials).toBe('same-origin');
    expect(JSON.parse(init.body as string).query).toContain('oauthScopes');
  });

  it('keeps the key out of storage and the CSRF token in memory', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        new Response(JSON.stringify({ data: { principal: 'root', csrf_token: 'c', app: null, app_id: null, expires_at: '', idle_expires_at: '' } }), {
          status: 201,
        }),
      ),
    );
    const session = await signIn('hm_root_secret');
    expect(session.csrf_token).toBe('c');
    expect(JSON.stringify(localStorage) + JSON.stringify(sessionStorage)).not.toContain('hm_root_secret');
  });

  it('reports a refused sign-in with the server message', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ error: { code: 'unauthenticated', message: 'the key is not valid' } }), { status: 401 })),
    );
    await expect(signIn('nope')).rejects.toThrow('the key is not valid');
  });
});

describe('permissions', () => {
  it('match like the server: wildcards, and . and : alike', async () => {
    const { permits, endUserCapabilities } = await import('./ui');
    expect(permits(['*'], 'user.update')).toBe(true);
    expect(permits(['user.read'], 'user.update')).toBe(false);
    expect(permits(['user:*'], 'user.update')).toBe(true);
    expect(permits(['oauth_clients.update'], 'oauth_clients:update')).toBe(true);
    const caps = endUserCapabilities(['user.read']);
    expect(caps.missing('user.read')).toBeNull();
    expect(caps.missing('user.update')).toBe('user.update');
    expect(caps.missing('key')).toBe('an app key or root key');
    expect(caps.missing(null)).toBeNull();
  });
});

describe('branding', () => {
  it('picks the button text that reads better and reaches 4.5:1 on typical brand colours', () => {
    expect(buttonText('#ffd400')).toBe('#000000');
    expect(buttonText('#1a237e')).toBe('#ffffff');
    for (const c of ['#2457c5', '#ff5722', '#00a86b', '#777777']) {
      expect(contrast(c, buttonText(c))).toBeGreaterThanOrEqual(4.5);
    }
  });
  it('accepts only #rrggbb and clears empty fields', () => {
    expect(isColor('#12abEF')).toBe(true);
    expect(isColor('red')).toBe(false);
    expect(isColor('#123')).toBe(false);
    expect(brandingInput({ productName: ' Acme ', logoUrl: '', primaryColor: '#112233', backgroundColor: '', customCssUrl: '' })).toEqual({
      productName: 'Acme',
      logoUrl: null,
      primaryColor: '#112233',
      backgroundColor: null,
      customCssUrl: null,
    });
  });
});
