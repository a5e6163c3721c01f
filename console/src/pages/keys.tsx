// Signing keys (rotation, which are published) and API keys (PAKs).
import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { useMutation, useQuery } from '../hooks';
import { Action, Badge, Dialog, Empty, ErrorBox, Field, Loading, PageHeader, SecretOnce, Time } from '../ui';

const SigningKeysQuery = graphql(`
  query SigningKeys($app: String!) {
    app(name: $app) {
      id
      issuer
      settings {
        signingAlg
      }
      signingKeys {
        kid
        alg
        status
        createdAt
        retiredAt
        publishUntil
      }
    }
  }
`);

const RotateKey = graphql(`
  mutation RotateSigningKey($app: String!) {
    rotateSigningKey(app: $app) {
      kid
      alg
    }
  }
`);

/** Whether a key is in the JWKS now: the active one, and retired ones until `publishUntil`. */
export function isPublished(key: { status: string; publishUntil?: string | null }, now = new Date()): boolean {
  if (key.status === 'active') return true;
  return !!key.publishUntil && new Date(key.publishUntil) > now;
}

export function SigningKeysPage({ app }: { app: string }) {
  const keys = useQuery(SigningKeysQuery, { app });
  const rotate = useMutation(RotateKey);
  const [confirm, setConfirm] = useState(false);
  const doRotate = async () => {
    const done = await rotate.run({ app });
    setConfirm(false);
    if (done) keys.reload();
  };
  const list = keys.data?.app?.signingKeys ?? [];
  return (
    <>
      <PageHeader title={`Signing keys · ${app}`}>
        <Action need="key" className="primary" onClick={() => setConfirm(true)}>
          Rotate signing key
        </Action>
      </PageHeader>
      {keys.data?.app ? (
        <p>
          Published at <span className="mono">{keys.data.app.issuer}/v1/.well-known/jwks.json</span>. A rotated key stays published for 7 days.
        </p>
      ) : null}
      {keys.loading && !keys.data ? <Loading /> : null}
      <ErrorBox error={keys.error} />
      <ErrorBox error={rotate.error} />
      {rotate.data ? <p role="status">New active key {rotate.data.rotateSigningKey.kid}.</p> : null}
      {keys.data && list.length === 0 ? <Empty>No signing keys.</Empty> : null}
      {list.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">Signing keys, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Key id (kid)</th>
                <th scope="col">Algorithm</th>
                <th scope="col">Status</th>
                <th scope="col">Published</th>
                <th scope="col">Created</th>
                <th scope="col">Published until</th>
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.kid}>
                  <td className="mono">{k.kid}</td>
                  <td>{k.alg}</td>
                  <td>
                    <Badge tone={k.status === 'active' ? 'ok' : 'neutral'}>{k.status}</Badge>
                  </td>
                  <td>{isPublished(k) ? 'yes' : 'no'}</td>
                  <td>
                    <Time value={k.createdAt} />
                  </td>
                  <td>{k.status === 'active' ? '—' : <Time value={k.publishUntil} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Dialog open={confirm} title="Rotate the signing key?" onClose={() => setConfirm(false)}>
        <p>A new key signs from now on; the current one stays published for 7 days so that tokens it signed still verify.</p>
        <div className="row">
          <button type="button" className="primary" onClick={doRotate} disabled={rotate.running}>
            Rotate now
          </button>
          <button type="button" onClick={() => setConfirm(false)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}

const ApiKeysQuery = graphql(`
  query ApiKeys($app: String!) {
    app(name: $app) {
      id
      apiKeys(first: 100) {
        nodes {
          id
          name
          hint
          createdAt
          lastUsedAt
        }
      }
    }
  }
`);

const CreateKey = graphql(`
  mutation CreateApiKey($app: String!, $name: String) {
    createApiKey(app: $app, name: $name) {
      key
      apiKey {
        id
        name
      }
    }
  }
`);

const RevokeKey = graphql(`
  mutation RevokeApiKey($app: String!, $id: ID!) {
    revokeApiKey(app: $app, id: $id)
  }
`);

export function ApiKeysPage({ app }: { app: string }) {
  const keys = useQuery(ApiKeysQuery, { app });
  const create = useMutation(CreateKey);
  const revoke = useMutation(RevokeKey);
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({ app, name });
    if (done) {
      setSecret(done.createApiKey.key);
      setName('');
      keys.reload();
    }
  };
  const list = keys.data?.app?.apiKeys.nodes ?? [];
  return (
    <>
      <PageHeader title={`API keys · ${app}`} />
      {keys.loading && !keys.data ? <Loading /> : null}
      <ErrorBox error={keys.error} />
      <ErrorBox error={revoke.error} />
      {keys.data && list.length === 0 ? <Empty>No app keys yet.</Empty> : null}
      {list.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">App keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Ends with</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td className="mono">…{k.hint}</td>
                  <td>
                    <Time value={k.createdAt} />
                  </td>
                  <td>
                    <Time value={k.lastUsedAt} />
                  </td>
                  <td>
                    <Action
                      need="key"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Revoke the key ${k.name}? Its console sessions end too.`)) {
                          void revoke.run({ app, id: k.id }).then((ok) => ok && keys.reload());
                        }
                      }}
                    >
                      Revoke
                    </Action>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <section className="card" aria-labelledby="create-key">
        <h2 id="create-key">Create an app key</h2>
        <form className="row wrap" onSubmit={submit}>
          <Field label="Name">
            {(p) => <input {...p} required value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Action need="key" type="submit" className="primary" disabled={create.running}>
            Create key
          </Action>
        </form>
        <ErrorBox error={create.error} />
      </section>
      <Dialog open={!!secret} title="App key" onClose={() => setSecret(undefined)}>
        {secret ? (
          <>
            <SecretOnce label="App key" secret={secret} />
            <button type="button" className="primary" onClick={() => setSecret(undefined)}>
              I have stored it
            </button>
          </>
        ) : null}
      </Dialog>
    </>
  );
}
