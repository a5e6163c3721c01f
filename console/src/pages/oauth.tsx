// OAuth clients of the app, including first-party ones (keys only).
import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { useMutation, usePaged, useQuery } from '../hooks';
import { Action, Badge, Dialog, Empty, ErrorBox, Field, Loading, PageHeader, SecretOnce, Time, splitList, useCapabilities } from '../ui';

const ClientsQuery = graphql(`
  query OauthClients($app: String!, $after: String) {
    oauthClients(app: $app, first: 50, after: $after) {
      nodes {
        id
        name
        clientType
        isFirstParty
        isActive
        redirectUris
        allowedScopes
        createdAt
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const Scopes = graphql(`
  query OauthScopes {
    oauthScopes {
      name
      description
    }
  }
`);

const CreateClient = graphql(`
  mutation CreateOauthClient($app: String!, $input: CreateOAuthClientInput!) {
    createOauthClient(app: $app, input: $input) {
      clientSecret
      client {
        id
        name
      }
    }
  }
`);

const Regenerate = graphql(`
  mutation RegenerateOauthSecret($app: String!, $id: ID!) {
    regenerateOauthClientSecret(app: $app, id: $id) {
      success
      clientSecret
      error
    }
  }
`);

const DeleteClient = graphql(`
  mutation DeleteOauthClient($app: String!, $id: ID!) {
    deleteOauthClient(app: $app, id: $id) {
      success
      error
    }
  }
`);

export function OauthClientsPage({ app }: { app: string }) {
  const clients = usePaged(ClientsQuery, { app, after: null as string | null }, (r) => r.oauthClients);
  const scopes = useQuery(Scopes, {});
  const create = useMutation(CreateClient);
  const regenerate = useMutation(Regenerate);
  const remove = useMutation(DeleteClient);
  const capabilities = useCapabilities();
  const [form, setForm] = useState({ name: '', redirectUris: '', clientType: 'confidential', firstParty: false });
  const [chosen, setChosen] = useState<string[]>(['openid', 'profile', 'email']);
  const [secret, setSecret] = useState<{ name: string; secret: string }>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({
      app,
      input: {
        name: form.name,
        redirectUris: splitList(form.redirectUris),
        allowedScopes: chosen,
        clientType: form.clientType,
        isFirstParty: form.firstParty,
      },
    });
    if (done) {
      if (done.createOauthClient.clientSecret) {
        setSecret({ name: done.createOauthClient.client.name, secret: done.createOauthClient.clientSecret });
      }
      setForm({ name: '', redirectUris: '', clientType: 'confidential', firstParty: false });
      clients.reload();
    }
  };
  return (
    <>
      <PageHeader title={`OAuth clients · ${app}`} />
      <ErrorBox error={clients.error} />
      {clients.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">OAuth clients</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Client id</th>
                <th scope="col">Type</th>
                <th scope="col">Redirect URIs</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {clients.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    {c.name} {c.isFirstParty ? <Badge tone="ok">first-party</Badge> : null} {!c.isActive ? <Badge tone="warn">inactive</Badge> : null}
                  </td>
                  <td className="mono">{c.id}</td>
                  <td>{c.clientType}</td>
                  <td className="mono">{c.redirectUris.join(' ')}</td>
                  <td>
                    <Time value={c.createdAt} />
                  </td>
                  <td>
                    <div className="row">
                    {c.clientType === 'confidential' ? (
                      <Action
                        need="oauth_clients:update"
                        onClick={() =>
                          void regenerate.run({ app, id: c.id }).then((r) => {
                            if (r?.regenerateOauthClientSecret.clientSecret) {
                              setSecret({ name: c.name, secret: r.regenerateOauthClientSecret.clientSecret });
                            }
                          })
                        }
                      >
                        New secret
                      </Action>
                    ) : null}
                    <Action
                      need="oauth_clients:delete"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete ${c.name}?`)) void remove.run({ app, id: c.id }).then((ok) => ok && clients.reload());
                      }}
                    >
                      Delete
                    </Action>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {clients.loading ? <Loading /> : null}
      {!clients.loading && !clients.error && clients.items.length === 0 ? <Empty>No OAuth clients yet.</Empty> : null}
      <ErrorBox error={regenerate.error ?? remove.error} />
      <section className="card" aria-labelledby="create-oauth">
        <h2 id="create-oauth">Register a client</h2>
        <form className="form-grid" onSubmit={submit}>
          <Field label="Name" hint="Shown on the consent screen.">
            {(p) => <input {...p} required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
          </Field>
          <Field label="Redirect URIs" hint="One per line; matched exactly.">
            {(p) => <textarea {...p} required rows={2} value={form.redirectUris} onChange={(e) => setForm({ ...form, redirectUris: e.target.value })} />}
          </Field>
          <Field label="Client type" hint="Public clients (SPAs, mobile apps) have no secret and use PKCE.">
            {(p) => (
              <select {...p} value={form.clientType} onChange={(e) => setForm({ ...form, clientType: e.target.value })}>
                <option value="confidential">confidential</option>
                <option value="public">public</option>
              </select>
            )}
          </Field>
          <fieldset>
            <legend>Allowed scopes</legend>
            {(scopes.data?.oauthScopes ?? []).map((s) => (
              <label key={s.name} className="check">
                <input
                  type="checkbox"
                  checked={chosen.includes(s.name)}
                  onChange={(e) => setChosen(e.target.checked ? [...chosen, s.name] : chosen.filter((c) => c !== s.name))}
                />{' '}
                <span className="mono">{s.name}</span> — {s.description}
              </label>
            ))}
          </fieldset>
          <label className="check">
            <input
              type="checkbox"
              checked={form.firstParty}
              disabled={capabilities.missing('key') !== null}
              onChange={(e) => setForm({ ...form, firstParty: e.target.checked })}
            />{' '}
            First-party (skips the consent screen){capabilities.missing('key') ? <small className="forbidden-note"> — requires {capabilities.missing('key')}</small> : null}
          </label>
          <ErrorBox error={scopes.error ?? create.error} />
          <div>
            <button type="submit" className="primary" disabled={create.running}>
              Register client
            </button>
          </div>
        </form>
      </section>
      <Dialog open={!!secret} title="Client secret" onClose={() => setSecret(undefined)}>
        {secret ? (
          <>
            <SecretOnce label={`Secret of ${secret.name}`} secret={secret.secret} />
            <button type="button" className="primary" onClick={() => setSecret(undefined)}>
              I have stored it
            </button>
          </>
        ) : null}
      </Dialog>
    </>
  );
}
