// The audit log: filters, infinite scroll, a details drawer.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { AuditLogFilter } from '../gql/graphql';
import { usePaged } from '../hooks';
import { Dialog, Empty, ErrorBox, Field, Loading, PageHeader, Time } from '../ui';

const AuditQuery = graphql(`
  query AuditLog($app: String!, $filter: AuditLogFilter, $after: String) {
    auditLog(app: $app, filter: $filter, first: 50, after: $after) {
      nodes {
        id
        action
        createdAt
        ip
        userAgent
        metadata
        actor {
          type
          id
        }
        target {
          type
          id
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** The filter the form describes: empty fields left out, local times as instants. */
export function auditFilter(form: { action: string; actorId: string; targetId: string; since: string; until: string }): AuditLogFilter {
  const filter: AuditLogFilter = {};
  if (form.action.trim()) filter.action = form.action.trim();
  if (form.actorId.trim()) filter.actorId = form.actorId.trim();
  if (form.targetId.trim()) filter.targetId = form.targetId.trim();
  if (form.since) filter.since = new Date(form.since).toISOString();
  if (form.until) filter.until = new Date(form.until).toISOString();
  return filter;
}

export function AuditPage({ app }: { app: string }) {
  const [form, setForm] = useState({ action: '', actorId: '', targetId: '', since: '', until: '' });
  const [filter, setFilter] = useState<AuditLogFilter>({});
  const log = usePaged(AuditQuery, { app, filter, after: null as string | null }, (r) => r.auditLog);
  const [open, setOpen] = useState<string>();
  const sentinel = useRef<HTMLDivElement>(null);
  const { more } = log;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) more();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [more]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilter(auditFilter(form));
  };
  const entry = log.items.find((e) => e.id === open);
  return (
    <>
      <PageHeader title={`Audit log · ${app}`} />
      <form className="filters" onSubmit={submit} role="search" aria-label="Filter the audit log">
        <Field label="Action" hint="user.created, or a family: user.*">
          {(p) => <input {...p} value={form.action} onChange={(e) => setForm({ ...form, action: e.target.value })} />}
        </Field>
        <Field label="Actor id">
          {(p) => <input {...p} value={form.actorId} onChange={(e) => setForm({ ...form, actorId: e.target.value })} />}
        </Field>
        <Field label="Target id">
          {(p) => <input {...p} value={form.targetId} onChange={(e) => setForm({ ...form, targetId: e.target.value })} />}
        </Field>
        <Field label="Since">
          {(p) => <input {...p} type="datetime-local" value={form.since} onChange={(e) => setForm({ ...form, since: e.target.value })} />}
        </Field>
        <Field label="Until">
          {(p) => <input {...p} type="datetime-local" value={form.until} onChange={(e) => setForm({ ...form, until: e.target.value })} />}
        </Field>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={log.error} />
      {log.items.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table className="audit">
            <caption className="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {log.items.map((e) => (
                <tr key={e.id}>
                  <td>
                    <Time value={e.createdAt} />
                  </td>
                  <td className="mono">{e.action}</td>
                  <td>
                    {e.actor.type}
                    {e.actor.id ? <span className="mono"> {e.actor.id.slice(0, 12)}</span> : null}
                  </td>
                  <td>{e.target ? `${e.target.type} ${e.target.id?.slice(0, 12) ?? ''}` : '—'}</td>
                  <td>
                    <button type="button" className="ghost" onClick={() => setOpen(e.id)} aria-label={`Details of ${e.action}`}>
                      Details
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {log.loading ? <Loading /> : null}
      {!log.loading && !log.error && log.items.length === 0 ? <Empty>No entries match.</Empty> : null}
      <div ref={sentinel} aria-hidden="true" className="sentinel" />
      {log.hasMore ? (
        <button type="button" onClick={log.more} disabled={log.loading}>
          Load more
        </button>
      ) : null}
      <Dialog open={!!entry} title={entry ? entry.action : 'Entry'} onClose={() => setOpen(undefined)} wide>
        {entry ? (
          <dl className="props">
            <dt>Id</dt>
            <dd className="mono">{entry.id}</dd>
            <dt>Time</dt>
            <dd>
              <Time value={entry.createdAt} />
            </dd>
            <dt>Actor</dt>
            <dd className="mono">
              {entry.actor.type} {entry.actor.id ?? ''}
            </dd>
            <dt>Target</dt>
            <dd className="mono">{entry.target ? `${entry.target.type} ${entry.target.id ?? ''}` : '—'}</dd>
            <dt>IP</dt>
            <dd>{entry.ip ?? '—'}</dd>
            <dt>User agent</dt>
            <dd>{entry.userAgent ?? '—'}</dd>
            <dt>Metadata</dt>
            <dd>
              <pre>{JSON.stringify(entry.metadata, null, 2)}</pre>
            </dd>
          </dl>
        ) : null}
      </Dialog>
    </>
  );
}
