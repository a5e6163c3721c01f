// Tenants and their members.
import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { useMutation, usePaged, useQuery } from '../hooks';
import { Action, Empty, ErrorBox, Field, Loading, PageHeader, Time, useCapabilities } from '../ui';

const TenantsQuery = graphql(`
  query Tenants($app: String!, $after: String) {
    tenants(app: $app, first: 50, after: $after) {
      nodes {
        id
        slug
        name
        createdAt
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const TenantQuery = graphql(`
  query Tenant($app: String!, $id: ID!) {
    tenant(app: $app, id: $id) {
      id
      slug
      name
      requireMfa
      members {
        role
        createdAt
        user {
          id
          email
        }
      }
    }
    roles(app: $app) {
      name
    }
  }
`);

const FindUser = graphql(`
  query FindUserByEmail($app: String!, $email: String!) {
    users(app: $app, filter: { email: $email }, first: 1) {
      nodes {
        id
        email
      }
    }
  }
`);

const CreateTenant = graphql(`
  mutation CreateTenant($app: String!, $input: TenantInput!) {
    createTenant(app: $app, input: $input) {
      id
    }
  }
`);

const AddMember = graphql(`
  mutation AddTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {
    addTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {
      role
    }
  }
`);

const UpdateMember = graphql(`
  mutation UpdateTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {
    updateTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {
      role
    }
  }
`);

const SetRequireMfa = graphql(`
  mutation SetTenantRequireMfa($app: String!, $id: ID!, $requireMfa: Boolean!) {
    updateTenant(app: $app, id: $id, input: { requireMfa: $requireMfa }) {
      id
      requireMfa
    }
  }
`);

const RemoveMember = graphql(`
  mutation RemoveTenantMember($app: String!, $tenantId: ID!, $userId: ID!) {
    removeTenantMember(app: $app, tenantId: $tenantId, userId: $userId)
  }
`);

function Members({ app, id }: { app: string; id: string }) {
  const tenant = useQuery(TenantQuery, { app, id });
  const add = useMutation(AddMember);
  const update = useMutation(UpdateMember);
  const remove = useMutation(RemoveMember);
  const setRequireMfa = useMutation(SetRequireMfa);
  const mfaMissing = useCapabilities().missing('tenant.manage');
  const find = useMutation(FindUser);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [notFound, setNotFound] = useState(false);
  const t = tenant.data?.tenant;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setNotFound(false);
    const found = await find.run({ app, email: email.trim() });
    const user = found?.users.nodes[0];
    if (!user) {
      setNotFound(!!found);
      return;
    }
    if (await add.run({ app, tenantId: id, userId: user.id, role })) {
      setEmail('');
      tenant.reload();
    }
  };
  const roles = tenant.data?.roles ?? [];
  return (
    <section className="card" aria-labelledby="members">
      <h2 id="members">Members{t ? ` of ${t.name}` : ''}</h2>
      {tenant.loading && !t ? <Loading /> : null}
      <ErrorBox error={tenant.error} />
      {t ? (
        <label className="check">
          <input
            type="checkbox"
            checked={t.requireMfa}
            disabled={mfaMissing !== null || setRequireMfa.running}
            onChange={(e) => void setRequireMfa.run({ app, id, requireMfa: e.target.checked }).then((ok) => ok && tenant.reload())}
          />{' '}
          Only sessions signed in with a second factor may make this tenant active
          {mfaMissing ? <small> (requires {mfaMissing})</small> : null}
        </label>
      ) : null}
      <ErrorBox error={setRequireMfa.error} />
      {t && t.members.length === 0 ? <Empty>No members yet.</Empty> : null}
      {t && t.members.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Tenant role</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {t.members.map((m) => (
                <tr key={m.user.id}>
                  <td>{m.user.email}</td>
                  <td>
                    <select
                      aria-label={`Tenant role of ${m.user.email}`}
                      value={m.role}
                      onChange={(e) =>
                        void update.run({ app, tenantId: id, userId: m.user.id, role: e.target.value }).then((ok) => ok && tenant.reload())
                      }
                    >
                      {roles.map((r) => (
                        <option key={r.name}>{r.name}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <Time value={m.createdAt} />
                  </td>
                  <td>
                    <Action need="tenant.manage" onClick={() => remove.run({ app, tenantId: id, userId: m.user.id }).then((ok) => ok && tenant.reload())}>
                      Remove
                    </Action>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ErrorBox error={update.error ?? remove.error} />
      <form className="row wrap" onSubmit={submit}>
        <Field label="Add a member by email">
          {(p) => <input {...p} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Tenant role">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(e.target.value)}>
              {roles.map((r) => (
                <option key={r.name}>{r.name}</option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={add.running}>
          Add member
        </button>
      </form>
      {notFound ? <p role="alert">No user of this app has that email.</p> : null}
      <ErrorBox error={find.error ?? add.error} />
    </section>
  );
}

export function TenantsPage({ app }: { app: string }) {
  const tenants = usePaged(TenantsQuery, { app, after: null as string | null }, (r) => r.tenants);
  const create = useMutation(CreateTenant);
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [selected, setSelected] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({ app, input: { slug, name } });
    if (done) {
      setSlug('');
      setName('');
      setSelected(done.createTenant.id);
      tenants.reload();
    }
  };
  return (
    <>
      <PageHeader title={`Tenants · ${app}`} />
      <ErrorBox error={tenants.error} />
      {tenants.items.length > 0 ? (
        <ul className="plain list-select">
          {tenants.items.map((t) => (
            <li key={t.id}>
              <button type="button" className={selected === t.id ? 'selected' : 'ghost'} aria-pressed={selected === t.id} onClick={() => setSelected(t.id)}>
                {t.name} <span className="mono">({t.slug})</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {tenants.loading ? <Loading /> : null}
      {!tenants.loading && !tenants.error && tenants.items.length === 0 ? <Empty>No tenants yet.</Empty> : null}
      {tenants.hasMore ? (
        <button type="button" onClick={tenants.more}>
          Load more
        </button>
      ) : null}
      {selected ? <Members app={app} id={selected} /> : null}
      <section className="card" aria-labelledby="create-tenant">
        <h2 id="create-tenant">Create a tenant</h2>
        <form className="form-grid" onSubmit={submit}>
          <Field label="Slug">
            {(p) => <input {...p} required value={slug} onChange={(e) => setSlug(e.target.value)} />}
          </Field>
          <Field label="Name">
            {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <ErrorBox error={create.error} />
          <div>
            <Action need="tenant.manage" type="submit" className="primary" disabled={create.running}>
              Create tenant
            </Action>
          </div>
        </form>
      </section>
    </>
  );
}
