// The shell: sign-in, the layout (skip link, header, navigation) and the routes.
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactElement } from 'react';
import {
  ApiError,
  currentSession,
  finishAppSignIn,
  setSessionListener,
  signIn,
  signOut,
  startAppSignIn,
  type Session,
} from './api';
import { graphql } from './gql';
import { useQuery } from './hooks';
import { Link, PathContext, match, navigate, usePath } from './router';
import { CapabilitiesContext, ErrorBox, Field, Loading, endUserCapabilities, type Capabilities } from './ui';
import { AppsPage, AppSettingsPage } from './pages/apps';
import { Dashboard } from './pages/dashboard';
import { UsersPage, UserPage } from './pages/users';
import { RolesPage } from './pages/roles';
import { TenantsPage } from './pages/tenants';
import { M2mPage } from './pages/m2m';
import { OauthClientsPage } from './pages/oauth';
import { WebhooksPage } from './pages/webhooks';
import { AuditPage } from './pages/audit';
import { SigningKeysPage, ApiKeysPage } from './pages/keys';

const MyPermissions = graphql(`
  query MyPermissions {
    myPermissions {
      role
      permissions
    }
  }
`);

const AppNames = graphql(`
  query AppNames {
    apps(first: 100) {
      nodes {
        name
        displayName
      }
    }
  }
`);

export const SECTIONS: { path: string; label: string }[] = [
  { path: '', label: 'Dashboard' },
  { path: '/users', label: 'Users' },
  { path: '/roles', label: 'Roles' },
  { path: '/tenants', label: 'Tenants' },
  { path: '/m2m-clients', label: 'Machine clients' },
  { path: '/oauth-clients', label: 'OAuth clients' },
  { path: '/webhooks', label: 'Webhooks' },
  { path: '/audit-log', label: 'Audit log' },
  { path: '/signing-keys', label: 'Signing keys' },
  { path: '/api-keys', label: 'API keys' },
  { path: '/settings', label: 'Settings' },
];

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(key);
      setKey('');
      onSignedIn(session);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError([{ message: String(e) }], 0));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    document.title = 'Sign in · Heimdall console';
  }, []);
  return (
    <main id="main" className="signin">
      <h1>Heimdall console</h1>
      <form onSubmit={submit} className="card">
        <Field
          label="Root key or app key"
          hint="Pasted once: it is exchanged for a session cookie and is not kept in this browser."
        >
          {(props) => (
            <input
              {...props}
              type="password"
              name="key"
              autoComplete="off"
              spellCheck={false}
              required
              value={key}
              onChange={(e) => setKey(e.target.value)}
              placeholder="hm_root_… or hm_pak_…"
            />
          )}
        </Field>
        <ErrorBox error={error} title="Could not sign in" />
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <AppAdminSignIn />
    </main>
  );
}

/** App administrators who are end users sign in through the app's hosted login. */
function AppAdminSignIn() {
  const [app, setApp] = useState('');
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      window.location.assign(await startAppSignIn(app.trim()));
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError([{ message: String(e) }], 0));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="card" aria-labelledby="app-admin">
      <h2 id="app-admin">App administrators</h2>
      <p className="hint">Sign in with your account of the app; you see what your role allows.</p>
      <Field label="App">
        {(props) => <input {...props} name="app" required value={app} onChange={(e) => setApp(e.target.value)} placeholder="my-app" />}
      </Field>
      <ErrorBox error={error} title="Could not start the sign-in" />
      <button type="submit" disabled={busy || !app.trim()}>
        Continue to the app's sign-in
      </button>
    </form>
  );
}

function ThemeToggle() {
  const [theme, setTheme] = useState<string>(() => document.documentElement.dataset.theme ?? 'auto');
  useEffect(() => {
    if (theme === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);
  return (
    <label className="theme">
      <span className="visually-hidden">Colour theme</span>
      <select value={theme} onChange={(e) => setTheme(e.target.value)}>
        <option value="auto">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

function AppSwitcher({ session, current }: { session: Session; current: string | null }) {
  const apps = useQuery(AppNames, {}, { skip: session.principal !== 'root' });
  const names =
    session.principal === 'root'
      ? (apps.data?.apps.nodes ?? []).map((a) => a.name)
      : session.app
        ? [session.app]
        : [];
  return (
    <label className="switcher">
      <span className="visually-hidden">App</span>
      <select
        value={current ?? ''}
        onChange={(e) => navigate(e.target.value ? `/apps/${e.target.value}` : '/')}
      >
        {session.principal === 'root' ? <option value="">All apps</option> : null}
        {current && !names.includes(current) ? <option value={current}>{current}</option> : null}
        {names.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}

function Routes({ path, session }: { path: string; session: Session }) {
  const routes: [string, (p: Record<string, string>) => ReactElement][] = [
    ['/', () => <AppsPage />],
    ['/apps', () => <AppsPage />],
    ['/apps/:app', (p) => <Dashboard app={p.app} />],
    ['/apps/:app/users', (p) => <UsersPage app={p.app} />],
    ['/apps/:app/users/:id', (p) => <UserPage app={p.app} id={p.id} />],
    ['/apps/:app/roles', (p) => <RolesPage app={p.app} />],
    ['/apps/:app/tenants', (p) => <TenantsPage app={p.app} />],
    ['/apps/:app/m2m-clients', (p) => <M2mPage app={p.app} />],
    ['/apps/:app/oauth-clients', (p) => <OauthClientsPage app={p.app} />],
    ['/apps/:app/webhooks', (p) => <WebhooksPage app={p.app} />],
    ['/apps/:app/audit-log', (p) => <AuditPage app={p.app} />],
    ['/apps/:app/signing-keys', (p) => <SigningKeysPage app={p.app} />],
    ['/apps/:app/api-keys', (p) => <ApiKeysPage app={p.app} />],
    ['/apps/:app/settings', (p) => <AppSettingsPage app={p.app} />],
  ];
  if (session.principal !== 'root' && session.app && (path === '/' || path === '/apps' || path === '/callback')) {
    return <Dashboard app={session.app} />;
  }
  for (const [pattern, render] of routes) {
    const params = match(pattern, path);
    if (params) return render(params);
  }
  return (
    <div>
      <h1 id="page-title" tabIndex={-1}>
        Not found
      </h1>
      <p>
        There is no page at this address. <Link to="/">Go to the start</Link>.
      </p>
    </div>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  const app = appOf(path) ?? session.app;
  const firstPath = useRef(path);
  useEffect(() => {
    setMenuOpen(false);
    // After a client-side navigation, focus goes to the new page's title (as a
    // page load would start there); the first page keeps the browser's focus.
    if (firstPath.current !== path) {
      firstPath.current = '';
      document.getElementById('page-title')?.focus({ preventScroll: false });
    }
  }, [path]);
  const permissions = useQuery(MyPermissions, {}, { skip: session.principal !== 'end_user' });
  const held = permissions.data?.myPermissions.permissions;
  const capabilities: Capabilities = useMemo(
    () =>
      session.principal === 'end_user'
        ? endUserCapabilities(held ?? [])
        : { root: session.principal === 'root', missing: () => null },
    [session, held],
  );
  return (
    <CapabilitiesContext.Provider value={capabilities}>
      <PathContext.Provider value={path}>
        <a className="skip" href="#main">
          Skip to content
        </a>
        <header className="top">
          <Link to="/" className="brand">
            Heimdall
          </Link>
          <AppSwitcher session={session} current={app} />
          <button
            type="button"
            className="menu-button"
            aria-expanded={menuOpen}
            aria-controls="nav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
          <div className="top-right">
            <span className="who">
              {session.principal === 'root'
                ? 'Root key'
                : session.principal === 'app_key'
                  ? `App key · ${session.app}`
                  : `${permissions.data?.myPermissions.role ?? 'User'} · ${session.app}`}
            </span>
            <ThemeToggle />
            <button type="button" className="ghost" onClick={onSignOut}>
              Sign out
            </button>
          </div>
        </header>
        <div className="layout">
          <nav id="nav" aria-label="Sections" className={menuOpen ? 'open' : undefined}>
            <ul>
              {session.principal === 'root' ? (
                <li>
                  <Link to="/apps">Apps</Link>
                </li>
              ) : null}
              {app
                ? SECTIONS.map((s) => (
                    <li key={s.path}>
                      <Link to={`/apps/${app}${s.path}`}>{s.label}</Link>
                    </li>
                  ))
                : null}
            </ul>
          </nav>
          <main id="main" tabIndex={-1}>
            <Routes path={path} session={session} />
          </main>
        </div>
      </PathContext.Provider>
    </CapabilitiesContext.Provider>
  );
}

/** The app named by a path (`/apps/acme/...`). */
export function appOf(path: string): string | null {
  const m = /^\/apps\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    const query = new URLSearchParams(window.location.search);
    const callback = window.location.pathname.endsWith('/console/callback');
    const code = query.get('code');
    const flowState = query.get('state');
    const denied = query.get('error');
    const start: Promise<Session | null> =
      callback && code && flowState
        ? finishAppSignIn(code, flowState).then((s) => {
            navigate(s.app ? `/apps/${s.app}` : '/', true);
            return s;
          })
        : callback && denied
          ? Promise.reject(new ApiError([{ message: query.get('error_description') ?? denied, extensions: { code: denied } }], 0))
          : currentSession();
    start
      .then(setSession)
      .catch((e: unknown) => {
        setError(e instanceof ApiError ? e : new ApiError([{ message: String(e) }], 0));
        setSession(null);
        if (callback) navigate('/', true);
      });
    setSessionListener(() => setSession(null));
    return () => setSessionListener(null);
  }, []);
  if (session === undefined) {
    return (
      <main id="main">
        <Loading label="Checking the session…" />
      </main>
    );
  }
  if (session === null) {
    return (
      <>
        {error ? <ErrorBox error={error} title="Sign-in failed" /> : null}
        <SignIn onSignedIn={setSession} />
      </>
    );
  }
  return (
    <Shell
      session={session}
      onSignOut={() => {
        void signOut().then(() => {
          setSession(null);
          navigate('/', true);
        });
      }}
    />
  );
}
