// Users: search and filters, creation, and one user's role, status, sessions,
// linked identities and second factors.
import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { useMutation, usePaged, useQuery } from '../hooks';
import { Link } from '../router';
import { Action, Badge, Empty, ErrorBox, Field, Loading, PageHeader, Time, useCapabilities } from '../ui';

const UsersQuery = graphql(`
  query Users($app: String!, $filter: UserFilterInput, $after: String) {
    users(app: $app, filter: $filter, first: 25, after: $after) {
      nodes {
        id
        email
        displayName
        status
        emailVerified
        createdAt
        lastSignInAt
        role {
          name
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const CreateUser = graphql(`
  mutation CreateUser($app: String!, $input: CreateUserInput!) {
    createUser(app: $app, input: $input) {
      id
      email
    }
  }
`);

export function UsersPage({ app }: { app: string }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('');
  const [status, setStatus] = useState('');
  const [tenantId, setTenantId] = useState('');
  const [filter, setFilter] = useState<{ email?: string; role?: string; status?: string; tenantId?: string }>({});
  const capabilities = useCapabilities();
  // Optional data: a principal without these permissions filters without them.
  const roleNames = useQuery(RoleNames, { app });
  const tenantNames = useQuery(TenantNames, { app }, { skip: capabilities.missing('tenant.manage') !== null });
  const users = usePaged(UsersQuery, { app, filter, after: null as string | null }, (r) => r.users);
  const create = useMutation(CreateUser);
  const [newUser, setNewUser] = useState({ email: '', password: '', displayName: '', role: '' });
  const [created, setCreated] = useState<string>();

  const search = (event: FormEvent) => {
    event.preventDefault();
    setFilter({
      ...(email.trim() ? { email: email.trim() } : {}),
      ...(role ? { role } : {}),
      ...(status ? { status } : {}),
      ...(tenantId ? { tenantId } : {}),
    });
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({
      app,
      input: {
        email: newUser.email,
        password: newUser.password || null,
        displayName: newUser.displayName || null,
        role: newUser.role || null,
      },
    });
    if (done) {
      setCreated(done.createUser.email);
      setNewUser({ email: '', password: '', displayName: '', role: '' });
      users.reload();
    }
  };
  const roles = roleNames.data?.roles ?? [];
  return (
    <>
      <PageHeader title={`Users · ${app}`} />
      <form className="filters" onSubmit={search} role="search" aria-label="Filter users">
        <Field label="Email">
          {(p) => <input {...p} type="search" value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Role">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="">Any role</option>
              {roles.map((r) => (
                <option key={r.name}>{r.name}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(p) => (
            <select {...p} value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">Any status</option>
              <option value="active">active</option>
              <option value="deactivated">deactivated</option>
            </select>
          )}
        </Field>
        <Field label="Tenant">
          {(p) => (
            <select {...p} value={tenantId} onChange={(e) => setTenantId(e.target.value)}>
              <option value="">Any tenant</option>
              {(tenantNames.data?.tenants.nodes ?? []).map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit">Search</button>
      </form>
      {capabilities.missing('role.manage') && capabilities.missing('role.assign') ? null : (
        <ErrorBox error={roleNames.error} title="The roles could not be loaded" />
      )}
      <ErrorBox error={tenantNames.error} title="The tenants could not be loaded" />
      <ErrorBox error={users.error} />
      {users.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last sign-in</th>
              </tr>
            </thead>
            <tbody>
              {users.items.map((u) => (
                <tr key={u.id}>
                  <td>
                    <Link to={`/apps/${app}/users/${u.id}`}>{u.email}</Link>
                  </td>
                  <td>{u.displayName ?? '—'}</td>
                  <td>{u.role.name}</td>
                  <td>
                    <Badge tone={u.status === 'active' ? 'ok' : 'warn'}>{u.status}</Badge>
                  </td>
                  <td>
                    <Time value={u.lastSignInAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {users.loading ? <Loading /> : null}
      {!users.loading && !users.error && users.items.length === 0 ? <Empty>No users match.</Empty> : null}
      {users.hasMore ? (
        <button type="button" onClick={users.more} disabled={users.loading}>
          Load more
        </button>
      ) : null}

      <section className="card" aria-labelledby="create-user">
        <h2 id="create-user">Create a user</h2>
        <form onSubmit={submit} className="form-grid">
          <Field label="Email">
            {(p) => (
              <input {...p} type="email" required value={newUser.email} onChange={(e) => setNewUser({ ...newUser, email: e.target.value })} />
            )}
          </Field>
          <Field label="Password" hint="Optional: without one the user signs in through a provider or a reset.">
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="new-password"
                value={newUser.password}
                onChange={(e) => setNewUser({ ...newUser, password: e.target.value })}
              />
            )}
          </Field>
          <Field label="Display name">
            {(p) => <input {...p} value={newUser.displayName} onChange={(e) => setNewUser({ ...newUser, displayName: e.target.value })} />}
          </Field>
          <Field label="Role">
            {(p) => (
              <select {...p} value={newUser.role} onChange={(e) => setNewUser({ ...newUser, role: e.target.value })}>
                <option value="">The app's default role</option>
                {roles.map((r) => (
                  <option key={r.name}>{r.name}</option>
                ))}
              </select>
            )}
          </Field>
          <ErrorBox error={create.error} />
          <div className="row">
            <Action need="user.update" type="submit" className="primary" disabled={create.running}>
              Create user
            </Action>
            <span role="status">{created ? `Created ${created}.` : ''}</span>
          </div>
        </form>
      </section>
    </>
  );
}

const UserQuery = graphql(`
  query User($app: String!, $id: ID!) {
    user(app: $app, id: $id) {
      id
      email
      emailVerified
      displayName
      status
      createdAt
      updatedAt
      lastSignInAt
      permissions
      role {
        name
      }
      tenants {
        role
        tenant {
          id
          name
        }
      }
      sessions {
        id
        userAgent
        ip
        createdAt
        lastUsedAt
        expiresAt
      }
    }
    userIdentities(app: $app, userId: $id) {
      id
      provider
      subject
      email
      createdAt
      lastUsedAt
    }
    userMfaFactors(app: $app, userId: $id) {
      recoveryCodesRemaining
      factors {
        id
        type
        name
        createdAt
        lastUsedAt
      }
    }
  }
`);

const RoleNames = graphql(`
  query RoleNames($app: String!) {
    roles(app: $app) {
      name
    }
  }
`);

const TenantNames = graphql(`
  query TenantNames($app: String!) {
    tenants(app: $app, first: 100) {
      nodes {
        id
        name
      }
    }
  }
`);

const SetRole = graphql(`
  mutation SetUserRole($app: String!, $id: ID!, $role: String!) {
    updateUser(app: $app, id: $id, input: { role: $role }) {
      id
      role {
        name
      }
    }
  }
`);

const Deactivate = graphql(`
  mutation DeactivateUser($app: String!, $id: ID!) {
    deactivateUser(app: $app, id: $id) {
      id
      status
    }
  }
`);

const Reactivate = graphql(`
  mutation ReactivateUser($app: String!, $id: ID!) {
    reactivateUser(app: $app, id: $id) {
      id
      status
    }
  }
`);

const RevokeSessions = graphql(`
  mutation RevokeUserSessions($app: String!, $id: ID!) {
    revokeUserSessions(app: $app, id: $id)
  }
`);

const ResetMfa = graphql(`
  mutation ResetUserMfa($app: String!, $userId: ID!) {
    resetUserMfa(app: $app, userId: $userId)
  }
`);

const RevokeOne = graphql(`
  mutation RevokeUserSession($app: String!, $userId: ID!, $id: ID!) {
    revokeUserSession(app: $app, userId: $userId, id: $id)
  }
`);

const Unlink = graphql(`
  mutation UnlinkIdentity($app: String!, $userId: ID!, $id: ID!) {
    unlinkUserIdentity(app: $app, userId: $userId, id: $id)
  }
`);

export function UserPage({ app, id }: { app: string; id: string }) {
  const query = useQuery(UserQuery, { app, id });
  const capabilities = useCapabilities();
  const roleNames = useQuery(RoleNames, { app }, { skip: capabilities.missing('role.assign') !== null });
  const setRole = useMutation(SetRole);
  const deactivate = useMutation(Deactivate);
  const reactivate = useMutation(Reactivate);
  const revoke = useMutation(RevokeSessions);
  const unlink = useMutation(Unlink);
  const resetMfa = useMutation(ResetMfa);
  const revokeOne = useMutation(RevokeOne);
  const [role, setRoleValue] = useState<string>();
  const user = query.data?.user;
  const after = (ok: unknown) => ok && query.reload();
  return (
    <>
      <PageHeader title={user ? user.email : 'User'}>
        <Link to={`/apps/${app}/users`}>All users</Link>
      </PageHeader>
      {query.loading && !user ? <Loading /> : null}
      <ErrorBox error={query.error} />
      {query.data && !user ? <Empty>No such user.</Empty> : null}
      {user ? (
        <>
          <section className="card" aria-labelledby="u-profile">
            <h2 id="u-profile">Profile</h2>
            <dl className="props">
              <dt>Email</dt>
              <dd>
                {user.email} {user.emailVerified ? <Badge tone="ok">verified</Badge> : <Badge>unverified</Badge>}
              </dd>
              <dt>Name</dt>
              <dd>{user.displayName ?? '—'}</dd>
              <dt>Status</dt>
              <dd>
                <Badge tone={user.status === 'active' ? 'ok' : 'warn'}>{user.status}</Badge>
              </dd>
              <dt>Created</dt>
              <dd>
                <Time value={user.createdAt} />
              </dd>
              <dt>Last sign-in</dt>
              <dd>
                <Time value={user.lastSignInAt} />
              </dd>
              <dt>Permissions</dt>
              <dd className="mono">{user.permissions.join(', ') || 'none'}</dd>
              <dt>Tenants</dt>
              <dd>{user.tenants.map((t) => `${t.tenant.name} (${t.role})`).join(', ') || 'none'}</dd>
            </dl>
            <div className="row">
              {user.status === 'active' ? (
                <Action need="user.update" onClick={() => deactivate.run({ app, id }).then(after)}>
                  Deactivate
                </Action>
              ) : (
                <Action need="user.update" onClick={() => reactivate.run({ app, id }).then(after)}>
                  Reactivate
                </Action>
              )}
            </div>
            <ErrorBox error={deactivate.error ?? reactivate.error} />
          </section>
          <section className="card" aria-labelledby="u-role">
            <h2 id="u-role">Role</h2>
            <form
              className="row"
              onSubmit={(e) => {
                e.preventDefault();
                void setRole.run({ app, id, role: role ?? user.role.name }).then(after);
              }}
            >
              <label>
                App role{' '}
                <select value={role ?? user.role.name} onChange={(e) => setRoleValue(e.target.value)}>
                  {(roleNames.data?.roles ?? [{ name: user.role.name }]).map((r) => (
                    <option key={r.name}>{r.name}</option>
                  ))}
                </select>
              </label>
              <Action need="role.assign" type="submit" disabled={setRole.running}>
                Change role
              </Action>
            </form>
            <ErrorBox error={roleNames.error ?? setRole.error} />
          </section>
          <section className="card" aria-labelledby="u-sessions">
            <h2 id="u-sessions">Sessions</h2>
            {user.sessions.length === 0 ? <Empty>No live sessions.</Empty> : null}
            {user.sessions.length > 0 ? (
              <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Started</th>
                      <th scope="col">Last used</th>
                      <th scope="col">IP</th>
                      <th scope="col">Browser</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {user.sessions.map((s) => (
                      <tr key={s.id}>
                        <td>
                          <Time value={s.createdAt} />
                        </td>
                        <td>
                          <Time value={s.lastUsedAt} />
                        </td>
                        <td>{s.ip ?? '—'}</td>
                        <td className="ellipsis">{s.userAgent ?? '—'}</td>
                        <td>
                          <Action need="user.update" onClick={() => revokeOne.run({ app, userId: id, id: s.id }).then(after)}>
                            Revoke
                          </Action>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
            <Action need="user.update" disabled={user.sessions.length === 0} onClick={() => revoke.run({ app, id }).then(after)}>
              Revoke all sessions
            </Action>
            {revoke.data ? <p role="status">Revoked {revoke.data.revokeUserSessions} sessions.</p> : null}
            <ErrorBox error={revoke.error ?? revokeOne.error} />
          </section>
          <section className="card" aria-labelledby="u-identities">
            <h2 id="u-identities">Linked identities</h2>
            {query.data?.userIdentities.length === 0 ? <Empty>No linked identities.</Empty> : null}
            <ul className="plain">
              {(query.data?.userIdentities ?? []).map((i) => (
                <li key={i.id} className="row">
                  <span>
                    <strong>{i.provider}</strong> · <span className="mono">{i.subject}</span> {i.email ? `· ${i.email}` : ''}
                  </span>
                  <Action need="user.update" onClick={() => unlink.run({ app, userId: id, id: i.id }).then(after)}>
                    Unlink
                  </Action>
                </li>
              ))}
            </ul>
            <ErrorBox error={unlink.error} />
          </section>
          <section className="card" aria-labelledby="u-mfa">
            <h2 id="u-mfa">Second factors</h2>
            {query.data?.userMfaFactors.factors.length === 0 ? <Empty>No second factor enrolled.</Empty> : null}
            <ul className="plain">
              {(query.data?.userMfaFactors.factors ?? []).map((f) => (
                <li key={f.id}>
                  <strong>{f.name}</strong> · {f.type === 'totp' ? 'authenticator app' : 'passkey or security key'} · added{' '}
                  <Time value={f.createdAt} /> · last used <Time value={f.lastUsedAt} />
                </li>
              ))}
            </ul>
            {query.data?.userMfaFactors.factors.length ? (
              <p>{query.data.userMfaFactors.recoveryCodesRemaining} unused recovery codes.</p>
            ) : null}
            <Action
              need="user.update"
              disabled={!query.data?.userMfaFactors.factors.length}
              onClick={() => resetMfa.run({ app, userId: id }).then(after)}
            >
              Reset second factors (lost device)
            </Action>
            {resetMfa.data ? <p role="status">Removed {resetMfa.data.resetUserMfa} factors.</p> : null}
            <ErrorBox error={resetMfa.error} />
          </section>
        </>
      ) : null}
    </>
  );
}
