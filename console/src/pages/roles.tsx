// Roles: the custom-role catalogue as an editable JSON document; a dry run of
// `syncRoles` shows the diff before the sync is applied.
import { useEffect, useState } from 'react';
import { graphql } from '../gql';
import type { RoleInputObject } from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { Action, Badge, ErrorBox, Field, Loading, PageHeader } from '../ui';
import { ApiError } from '../api';

const RolesQuery = graphql(`
  query Roles($app: String!) {
    roles(app: $app) {
      name
      displayName
      description
      permissions
      isSystem
    }
  }
`);

const SyncRoles = graphql(`
  mutation SyncRoles($app: String!, $input: SyncRolesInput!, $dryRun: Boolean) {
    syncRoles(app: $app, input: $input, dryRun: $dryRun) {
      dryRun
      created
      deleted
      unchanged
      updated {
        name
        added
        removed
      }
    }
  }
`);

/** Parses the editor's document: an array of roles. Throws a readable message. */
export function parseCatalogue(text: string): RoleInputObject[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`The catalogue is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(value)) throw new Error('The catalogue must be a JSON array of roles.');
  return value.map((role, i) => {
    if (typeof role !== 'object' || role === null) throw new Error(`Role ${i + 1} is not an object.`);
    const r = role as Record<string, unknown>;
    if (typeof r.name !== 'string' || !r.name) throw new Error(`Role ${i + 1} needs a "name".`);
    const permissions = r.permissions ?? [];
    if (!Array.isArray(permissions) || permissions.some((p) => typeof p !== 'string')) {
      throw new Error(`Role "${r.name}": "permissions" must be an array of strings.`);
    }
    return {
      name: r.name,
      displayName: typeof r.displayName === 'string' ? r.displayName : null,
      description: typeof r.description === 'string' ? r.description : null,
      permissions: permissions as string[],
    };
  });
}

export function catalogueText(roles: { name: string; displayName?: string | null; description?: string | null; permissions: string[]; isSystem: boolean }[]): string {
  const custom = roles
    .filter((r) => !r.isSystem)
    .map((r) => ({
      name: r.name,
      ...(r.displayName ? { displayName: r.displayName } : {}),
      ...(r.description ? { description: r.description } : {}),
      permissions: r.permissions,
    }));
  return JSON.stringify(custom, null, 2);
}

export function RolesPage({ app }: { app: string }) {
  const roles = useQuery(RolesQuery, { app });
  const preview = useMutation(SyncRoles);
  const apply = useMutation(SyncRoles);
  const [text, setText] = useState('');
  const [reassignTo, setReassignTo] = useState('');
  const [parseError, setParseError] = useState<ApiError>();
  useEffect(() => {
    if (roles.data) setText(catalogueText(roles.data.roles));
  }, [roles.data]);
  const input = () => {
    try {
      setParseError(undefined);
      return { roles: parseCatalogue(text), reassignTo: reassignTo || null };
    } catch (e) {
      setParseError(new ApiError([{ message: (e as Error).message }], 0));
      return null;
    }
  };
  const runPreview = () => {
    apply.reset();
    const i = input();
    if (i) void preview.run({ app, input: i, dryRun: true });
  };
  const runApply = async () => {
    const i = input();
    if (!i) return;
    const done = await apply.run({ app, input: i, dryRun: false });
    if (done) {
      preview.reset();
      roles.reload();
    }
  };
  const diff = preview.data?.syncRoles;
  const nothing = diff && diff.created.length + diff.updated.length + diff.deleted.length === 0;
  return (
    <>
      <PageHeader title={`Roles · ${app}`} />
      {roles.loading && !roles.data ? <Loading /> : null}
      <ErrorBox error={roles.error} />
      {roles.data ? (
        <>
          <section className="card" aria-labelledby="system-roles">
            <h2 id="system-roles">System roles</h2>
            <ul className="plain">
              {roles.data.roles
                .filter((r) => r.isSystem)
                .map((r) => (
                  <li key={r.name}>
                    <strong>{r.name}</strong> <Badge>system</Badge> <span className="mono">{r.permissions.join(', ') || 'no permissions'}</span>
                  </li>
                ))}
            </ul>
          </section>
          <section className="card" aria-labelledby="catalogue">
            <h2 id="catalogue">Custom roles catalogue</h2>
            <p>
              The complete list of custom roles. Preview the changes, then apply them in one atomic sync (the same as{' '}
              <code>PUT /v1/apps/{app}/roles</code> from CI).
            </p>
            <Field label="Catalogue (JSON)" hint='An array like [{"name": "billing", "permissions": ["invoice.read"]}].'>
              {(p) => (
                <textarea
                  {...p}
                  className="code-editor"
                  rows={14}
                  spellCheck={false}
                  value={text}
                  onChange={(e) => {
                    setText(e.target.value);
                    preview.reset();
                  }}
                />
              )}
            </Field>
            <Field label="Move holders of deleted roles to" hint="Required when a deleted role still has holders.">
              {(p) => (
                <select {...p} value={reassignTo} onChange={(e) => setReassignTo(e.target.value)}>
                  <option value="">(none)</option>
                  {roles.data!.roles.map((r) => (
                    <option key={r.name}>{r.name}</option>
                  ))}
                </select>
              )}
            </Field>
            <ErrorBox error={parseError} title="The catalogue cannot be read" />
            <ErrorBox error={preview.error} title="The preview failed" />
            <div className="row">
              <Action need="role.manage" onClick={runPreview} disabled={preview.running}>
                Preview changes
              </Action>
            </div>
            {diff ? (
              <div className="diff" aria-live="polite" data-testid="role-diff">
                <h3>Changes the sync will make</h3>
                {nothing ? <p>No changes.</p> : null}
                <ul className="plain">
                  {diff.created.map((n) => (
                    <li key={`c-${n}`} className="added">
                      + create role <strong>{n}</strong>
                    </li>
                  ))}
                  {diff.updated.map((u) => (
                    <li key={`u-${u.name}`}>
                      ~ update <strong>{u.name}</strong>
                      {u.added.length ? <span className="added"> +{u.added.join(', +')}</span> : null}
                      {u.removed.length ? <span className="removed"> −{u.removed.join(', −')}</span> : null}
                    </li>
                  ))}
                  {diff.deleted.map((n) => (
                    <li key={`d-${n}`} className="removed">
                      − delete role <strong>{n}</strong>
                    </li>
                  ))}
                </ul>
                {diff.unchanged.length ? <p className="hint">Unchanged: {diff.unchanged.join(', ')}</p> : null}
                <ErrorBox error={apply.error} title="The sync failed" />
                <Action need="role.manage" className="primary" onClick={runApply} disabled={apply.running || nothing}>
                  Apply changes
                </Action>
              </div>
            ) : null}
            {apply.data ? (
              <p role="status" className="ok-note">
                Applied: {apply.data.syncRoles.created.length} created, {apply.data.syncRoles.updated.length} updated,{' '}
                {apply.data.syncRoles.deleted.length} deleted.
              </p>
            ) : null}
          </section>
        </>
      ) : null}
    </>
  );
}
