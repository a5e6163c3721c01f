// Webhooks: endpoints, their deliveries as a timeline, redelivery, test events.
import { useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import { useMutation, usePaged } from '../hooks';
import { Action, Badge, Dialog, Empty, ErrorBox, Field, Loading, PageHeader, SecretOnce, Time, splitList } from '../ui';

const WebhooksQuery = graphql(`
  query Webhooks($app: String!, $after: String) {
    webhooks(app: $app, first: 50, after: $after) {
      nodes {
        id
        url
        events
        description
        enabled
        createdAt
        previousSecretExpiresAt
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const DeliveriesQuery = graphql(`
  query WebhookDeliveries($app: String!, $webhookId: ID!, $status: String, $after: String) {
    webhookDeliveries(app: $app, webhookId: $webhookId, status: $status, first: 25, after: $after) {
      nodes {
        id
        eventId
        eventType
        attempt
        status
        responseStatus
        latencyMs
        lastError
        createdAt
        nextAttemptAt
        attempts {
          attempt
          responseStatus
          latencyMs
          error
          createdAt
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const CreateWebhook = graphql(`
  mutation CreateWebhook($app: String!, $input: CreateWebhookInput!) {
    createWebhook(app: $app, input: $input) {
      secret
      webhook {
        id
      }
    }
  }
`);

const UpdateWebhook = graphql(`
  mutation SetWebhookEnabled($app: String!, $id: ID!, $enabled: Boolean!) {
    updateWebhook(app: $app, id: $id, input: { enabled: $enabled }) {
      id
      enabled
    }
  }
`);

const RotateWebhook = graphql(`
  mutation RotateWebhookSecret($app: String!, $id: ID!) {
    rotateWebhookSecret(app: $app, id: $id) {
      secret
    }
  }
`);

const DeleteWebhook = graphql(`
  mutation DeleteWebhook($app: String!, $id: ID!) {
    deleteWebhook(app: $app, id: $id)
  }
`);

const Redeliver = graphql(`
  mutation RedeliverWebhook($app: String!, $deliveryId: ID!) {
    redeliverWebhook(app: $app, deliveryId: $deliveryId) {
      id
      status
    }
  }
`);

const SendTest = graphql(`
  mutation SendTestWebhookEvent($app: String!, $id: ID!) {
    sendTestWebhookEvent(app: $app, id: $id) {
      id
      status
    }
  }
`);

function tone(status: string): 'ok' | 'warn' | 'bad' {
  return status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : 'warn';
}

function Deliveries({ app, webhookId }: { app: string; webhookId: string }) {
  const [status, setStatus] = useState('');
  const deliveries = usePaged(
    DeliveriesQuery,
    { app, webhookId, status: status || null, after: null as string | null },
    (r) => r.webhookDeliveries,
  );
  const redeliver = useMutation(Redeliver);
  const sendTest = useMutation(SendTest);
  return (
    <section className="card" aria-labelledby="deliveries">
      <div className="row spread">
        <h2 id="deliveries">Deliveries</h2>
        <span className="row">
        <Action need="key" onClick={() => void sendTest.run({ app, id: webhookId }).then((ok) => ok && deliveries.reload())} disabled={sendTest.running}>
          Send a test event
        </Action>
        <button type="button" onClick={deliveries.reload} disabled={deliveries.loading}>
          Refresh
        </button>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">all</option>
            <option value="pending">pending</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
          </select>
        </label>
        </span>
      </div>
      <ErrorBox error={deliveries.error} />
      <ErrorBox error={redeliver.error ?? sendTest.error} />
      <ol className="timeline">
        {deliveries.items.map((d) => (
          <li key={d.id} className={`tl-${tone(d.status)}`}>
            <div className="row spread">
              <span>
                <strong>{d.eventType}</strong> <Badge tone={tone(d.status)}>{d.status}</Badge> <Time value={d.createdAt} />
              </span>
              <Action need="key" onClick={() => void redeliver.run({ app, deliveryId: d.id }).then((ok) => ok && deliveries.reload())}>
                Redeliver
              </Action>
            </div>
            <ul className="plain attempts">
              {d.attempts.map((a) => (
                <li key={a.attempt}>
                  Attempt {a.attempt}: {a.responseStatus ?? a.error ?? 'no answer'} · {a.latencyMs} ms · <Time value={a.createdAt} />
                </li>
              ))}
            </ul>
            {d.nextAttemptAt && d.status === 'pending' ? (
              <small className="hint">
                Next attempt <Time value={d.nextAttemptAt} />
              </small>
            ) : null}
          </li>
        ))}
      </ol>
      {deliveries.loading ? <Loading /> : null}
      {!deliveries.loading && !deliveries.error && deliveries.items.length === 0 ? <Empty>No deliveries yet.</Empty> : null}
      {deliveries.hasMore ? (
        <button type="button" onClick={deliveries.more}>
          Load more
        </button>
      ) : null}
    </section>
  );
}

export function WebhooksPage({ app }: { app: string }) {
  const hooks = usePaged(WebhooksQuery, { app, after: null as string | null }, (r) => r.webhooks);
  const create = useMutation(CreateWebhook);
  const update = useMutation(UpdateWebhook);
  const rotate = useMutation(RotateWebhook);
  const remove = useMutation(DeleteWebhook);
  const [selected, setSelected] = useState<string>();
  const [form, setForm] = useState({ url: '', events: '*', description: '' });
  const [secret, setSecret] = useState<string>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({
      app,
      input: { url: form.url, events: splitList(form.events), description: form.description || null },
    });
    if (done) {
      setSecret(done.createWebhook.secret);
      setSelected(done.createWebhook.webhook.id);
      setForm({ url: '', events: '*', description: '' });
      hooks.reload();
    }
  };
  return (
    <>
      <PageHeader title={`Webhooks · ${app}`} />
      <ErrorBox error={hooks.error} />
      <ErrorBox error={update.error ?? rotate.error ?? remove.error} />
      {hooks.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">Webhook endpoints</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {hooks.items.map((h) => (
                <tr key={h.id} className={selected === h.id ? 'selected' : undefined}>
                  <td className="mono">{h.url}</td>
                  <td className="mono">{h.events.join(' ')}</td>
                  <td>
                    <Badge tone={h.enabled ? 'ok' : 'warn'}>{h.enabled ? 'enabled' : 'disabled'}</Badge>
                  </td>
                  <td>
                    <div className="row">
                    <button type="button" aria-pressed={selected === h.id} onClick={() => setSelected(h.id)}>
                      Deliveries
                    </button>
                    <Action need="key" onClick={() => void update.run({ app, id: h.id, enabled: !h.enabled }).then((ok) => ok && hooks.reload())}>
                      {h.enabled ? 'Disable' : 'Enable'}
                    </Action>
                    <Action need="key" onClick={() => void rotate.run({ app, id: h.id }).then((r) => r && setSecret(r.rotateWebhookSecret.secret))}>
                      Rotate secret
                    </Action>
                    <Action
                      need="key"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete the endpoint ${h.url}?`)) void remove.run({ app, id: h.id }).then((ok) => ok && hooks.reload());
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
      {hooks.loading ? <Loading /> : null}
      {!hooks.loading && !hooks.error && hooks.items.length === 0 ? <Empty>No webhook endpoints yet.</Empty> : null}
      {selected ? <Deliveries app={app} webhookId={selected} /> : null}
      <section className="card" aria-labelledby="create-webhook">
        <h2 id="create-webhook">Add an endpoint</h2>
        <form className="form-grid" onSubmit={submit}>
          <Field label="URL">
            {(p) => <input {...p} type="url" required value={form.url} onChange={(e) => setForm({ ...form, url: e.target.value })} />}
          </Field>
          <Field label="Events" hint="Comma-separated event types (user.created, …) or * for all.">
            {(p) => <input {...p} required value={form.events} onChange={(e) => setForm({ ...form, events: e.target.value })} />}
          </Field>
          <Field label="Description">
            {(p) => <input {...p} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />}
          </Field>
          <ErrorBox error={create.error} />
          <div>
            <Action need="key" type="submit" className="primary" disabled={create.running}>
              Add endpoint
            </Action>
          </div>
        </form>
      </section>
      <Dialog open={!!secret} title="Signing secret" onClose={() => setSecret(undefined)}>
        {secret ? (
          <>
            <SecretOnce label="Signing secret" secret={secret} />
            <button type="button" className="primary" onClick={() => setSecret(undefined)}>
              I have stored it
            </button>
          </>
        ) : null}
      </Dialog>
    </>
  );
}
