// The console's only transport: `/graphql` (with the session cookie and its CSRF
// token) and the session exchange at `/console/session`. Nothing is kept in
// browser storage: the CSRF token lives in memory and comes back from
// `GET /console/session` after a reload.
import type { TypedDocumentString } from './gql/graphql';

/** The deployment's base path (`HEIMDALL_BASE_PATH`), named by the server in index.html. */
export function basePath(): string {
  const meta = document.querySelector('meta[name="heimdall-base"]');
  return (meta?.getAttribute('content') ?? '').replace(/\/$/, '');
}

export interface Session {
  principal: 'root' | 'app_key' | 'end_user';
  app_id: string | null;
  app: string | null;
  user_id: string | null;
  csrf_token: string;
  idle_expires_at: string;
  expires_at: string;
}

export interface GqlErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; missing?: string[]; fields?: Record<string, string> };
}

/** A failed request: every GraphQL error, with its message and code. */
export class ApiError extends Error {
  readonly errors: GqlErrorEntry[];
  readonly status: number;
  constructor(errors: GqlErrorEntry[], status: number) {
    super(errors.map((e) => e.message).join('; ') || `request failed (${status})`);
    this.errors = errors;
    this.status = status;
  }
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code;
  }
  /** Permissions the caller lacks (`extensions.missing`), if any. */
  get missing(): string[] {
    return this.errors.flatMap((e) => e.extensions?.missing ?? []);
  }
}

let csrf: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setSessionListener(listener: (() => void) | null): void {
  onUnauthenticated = listener;
}

export function setCsrf(token: string | null): void {
  csrf = token;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function restError(body: unknown, status: number): ApiError {
  const error = (body as { error?: { message?: string; code?: string } } | null)?.error;
  return new ApiError(
    [{ message: error?.message ?? `request failed (${status})`, extensions: { code: error?.code } }],
    status,
  );
}

/** Exchanges a root key or app key for a session cookie; the key is not kept. */
export async function signIn(key: string): Promise<Session> {
  const response = await fetch(`${basePath()}/console/session`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  const body = await readJson(response);
  if (!response.ok) throw restError(body, response.status);
  const session = (body as { data: Session }).data;
  setCsrf(session.csrf_token);
  return session;
}

/**
 * Starts an app administrator's sign-in through the app's hosted login: the
 * server keeps the PKCE verifier in an HttpOnly cookie and answers where to go.
 */
export async function startAppSignIn(app: string): Promise<string> {
  const response = await fetch(`${basePath()}/console/session/oauth`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app }),
  });
  const body = await readJson(response);
  if (!response.ok) throw restError(body, response.status);
  return (body as { data: { authorize_url: string } }).data.authorize_url;
}

/** Redeems the hosted login's `code` and `state` for a console session. */
export async function finishAppSignIn(code: string, state: string): Promise<Session> {
  const response = await fetch(`${basePath()}/console/session`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, state }),
  });
  const body = await readJson(response);
  if (!response.ok) throw restError(body, response.status);
  const session = (body as { data: Session }).data;
  setCsrf(session.csrf_token);
  return session;
}

/** The session of the cookie, or null when there is none. */
export async function currentSession(): Promise<Session | null> {
  const response = await fetch(`${basePath()}/console/session`, { credentials: 'same-origin' });
  if (response.status === 401) return null;
  const body = await readJson(response);
  if (!response.ok) throw restError(body, response.status);
  const session = (body as { data: Session }).data;
  setCsrf(session.csrf_token);
  return session;
}

export async function signOut(): Promise<void> {
  await fetch(`${basePath()}/console/session`, {
    method: 'DELETE',
    credentials: 'same-origin',
    headers: csrf ? { 'x-heimdall-csrf': csrf } : {},
  });
  setCsrf(null);
}

/** Runs one typed operation. Any error in the answer is thrown, never swallowed. */
export async function gql<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  const response = await fetch(`${basePath()}/graphql`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(csrf ? { 'x-heimdall-csrf': csrf } : {}),
    },
    body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
  });
  const body = (await readJson(response)) as { data?: TResult; errors?: GqlErrorEntry[] } | null;
  if (response.status === 401) onUnauthenticated?.();
  if (body?.errors?.length) throw new ApiError(body.errors, response.status);
  if (!response.ok || !body?.data) {
    throw new ApiError([{ message: `request failed (${response.status})` }], response.status);
  }
  return body.data;
}
