// Machine clients: creation and rotation show the secret once.
import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { useMutation, usePaged } from '../hooks';
import { Action, Dialog, Empty, ErrorBox, Field, Loading, PageHeader, SecretOnce, Time, splitList } from '../ui';

const M2mQuery = graphql(`
  query M2mClients($app: String!, $after: String) {
    m2mClients(app: $app, first: 50, after: $after) {
      nodes {
        clientId
        name
        scopes
        createdAt
        lastUsedAt
        previousSecretExpiresAt
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const CreateM2m = graphql(`
  mutation CreateM2mClient($app: String!, $input: CreateM2mClientInput!) {
    createM2mClient(app: $app, input: $input) {
      clientSecret
      client {
        clientId
        name
      }
    }
  }
`);

const RotateM2m = graphql(`
  mutation RotateM2mSecret($app: String!, $clientId: String!, $grace: Int) {
    rotateM2mClientSecret(app: $app, clientId: $clientId, gracePeriodSeconds: $grace) {
      clientSecret
      client {
        clientId
        previousSecretExpiresAt
      }
    }
  }
`);

const DeleteM2m = graphql(`
  mutation DeleteM2mClient($app: String!, $clientId: String!) {
    deleteM2mClient(app: $app, clientId: $clientId)
  }
`);

export function M2mPage({ app }: { app: string }) {
  const clients = usePaged(M2mQuery, { app, after: null as string | null }, (r) => r.m2mClients);
  const create = useMutation(CreateM2m);
  const rotate = useMutation(RotateM2m);
  const remove = useMutation(DeleteM2m);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState('');
  const [secret, setSecret] = useState<{ clientId: string; secret: string }>();
  const [rotating, setRotating] = useState<string>();
  const [grace, setGrace] = useState(86400);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({ app, input: { name, scopes: splitList(scopes) } });
    if (done) {
      setSecret({ clientId: done.createM2mClient.client.clientId, secret: done.createM2mClient.clientSecret });
      setName('');
      setScopes('');
      clients.reload();
    }
  };
  const doRotate = async (event: FormEvent) => {
    event.preventDefault();
    if (!rotating) return;
    const done = await rotate.run({ app, clientId: rotating, grace });
    if (done) {
      setRotating(undefined);
      setSecret({ clientId: done.rotateM2mClientSecret.client.clientId, secret: done.rotateM2mClientSecret.clientSecret });
      clients.reload();
    }
  };
  return (
    <>
      <PageHeader title={`Machine clients · ${app}`} />
      <ErrorBox error={clients.error} />
      {clients.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">Machine clients</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Client id</th>
                <th scope="col">Scopes</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {clients.items.map((c) => (
                <tr key={c.clientId}>
                  <td>{c.name}</td>
                  <td className="mono">{c.clientId}</td>
                  <td className="mono">{c.scopes.join(' ') || '—'}</td>
                  <td>
                    <Time value={c.lastUsedAt} />
                    {c.previousSecretExpiresAt ? (
                      <small className="hint">
                        {' '}
                        · old secret until <Time value={c.previousSecretExpiresAt} />
                      </small>
                    ) : null}
                  </td>
                  <td>
                    <div className="row">
                    <Action need="key" onClick={() => setRotating(c.clientId)}>
                      Rotate secret
                    </Action>
                    <Action
                      need="key"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete ${c.name}? Its tokens stop working.`)) {
                          void remove.run({ app, clientId: c.clientId }).then((ok) => ok && clients.reload());
                        }
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
      {!clients.loading && !clients.error && clients.items.length === 0 ? <Empty>No machine clients yet.</Empty> : null}
      <ErrorBox error={remove.error} />
      <section className="card" aria-labelledby="create-m2m">
        <h2 id="create-m2m">Create a machine client</h2>
        <form className="form-grid" onSubmit={submit}>
          <Field label="Name">
            {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Scopes" hint="Comma-separated permissions its tokens carry, e.g. invoice.read">
            {(p) => <input {...p} value={scopes} onChange={(e) => setScopes(e.target.value)} />}
          </Field>
          <ErrorBox error={create.error} />
          <div>
            <Action need="key" type="submit" className="primary" disabled={create.running}>
              Create client
            </Action>
          </div>
        </form>
      </section>
      <Dialog open={!!secret} title="Client secret" onClose={() => setSecret(undefined)}>
        {secret ? (
          <>
            <p>
              Client id: <span className="mono">{secret.clientId}</span>
            </p>
            <SecretOnce label="Client secret" secret={secret.secret} />
            <button type="button" className="primary" onClick={() => setSecret(undefined)}>
              I have stored it
            </button>
          </>
        ) : null}
      </Dialog>
      <Dialog open={!!rotating} title="Rotate the secret" onClose={() => setRotating(undefined)}>
        <form onSubmit={doRotate} className="form-grid">
          <Field label="Grace period (seconds)" hint="The old secret keeps working this long (0 ends it at once; at most 604800).">
            {(p) => <input {...p} type="number" min={0} max={604800} value={grace} onChange={(e) => setGrace(Number(e.target.value))} />}
          </Field>
          <ErrorBox error={rotate.error} />
          <button type="submit" className="primary" disabled={rotate.running}>
            Rotate
          </button>
        </form>
      </Dialog>
    </>
  );
}
