// Apps: the list, creating one (root key), and an app's settings.
import { useEffect, useState, type FormEvent } from 'react';
import { graphql } from '../gql';
import type { MfaPolicy, SigningAlgorithm } from '../gql/graphql';
import { useMutation, useQuery } from '../hooks';
import { Link, navigate } from '../router';
import { Action, Empty, ErrorBox, Field, Loading, PageHeader, Time, splitList, useCapabilities } from '../ui';
import { BrandingPreview, type BrandingForm, brandingInput, emptyBranding, isColor } from './branding';

const AppsList = graphql(`
  query AppsList {
    apps(first: 100) {
      nodes {
        id
        name
        displayName
        issuer
        createdAt
      }
    }
  }
`);

const CreateApp = graphql(`
  mutation CreateApp($input: CreateAppInput!) {
    createApp(input: $input) {
      name
    }
  }
`);

export function AppsPage() {
  const apps = useQuery(AppsList, {});
  const capabilities = useCapabilities();
  const create = useMutation(CreateApp);
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const done = await create.run({ input: { name, displayName: displayName || null } });
    if (done) navigate(`/apps/${done.createApp.name}`);
  };
  return (
    <>
      <PageHeader title="Apps" />
      {apps.loading ? <Loading /> : null}
      <ErrorBox error={apps.error} />
      {apps.data && apps.data.apps.nodes.length === 0 ? <Empty>No apps yet: create the first below.</Empty> : null}
      {apps.data && apps.data.apps.nodes.length > 0 ? (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Table (scrolls sideways)">
          <table>
            <caption className="visually-hidden">Apps</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Display name</th>
                <th scope="col">Issuer</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {apps.data.apps.nodes.map((a) => (
                <tr key={a.id}>
                  <td>
                    <Link to={`/apps/${a.name}`}>{a.name}</Link>
                  </td>
                  <td>{a.displayName}</td>
                  <td className="mono">{a.issuer}</td>
                  <td>
                    <Time value={a.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <section className="card" aria-labelledby="create-app">
        <h2 id="create-app">Create an app</h2>
        {capabilities.root ? (
          <form onSubmit={submit} className="form-grid">
            <Field label="Name (slug)" hint="Lowercase letters, digits and dashes; part of every URL.">
              {(p) => (
                <input {...p} required pattern="[a-z0-9][a-z0-9-]{1,62}" value={name} onChange={(e) => setName(e.target.value)} />
              )}
            </Field>
            <Field label="Display name">
              {(p) => <input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
            </Field>
            <ErrorBox error={create.error} />
            <div>
              <button type="submit" className="primary" disabled={create.running}>
                Create app
              </button>
            </div>
          </form>
        ) : (
          <p className="forbidden-note">Creating apps requires a root key.</p>
        )}
      </section>
    </>
  );
}

const AppSettingsQuery = graphql(`
  query AppSettings($app: String!) {
    app(name: $app) {
      id
      name
      displayName
      issuer
      settings {
        accessTokenTtl
        refreshTokenTtl
        signupEnabled
        passwordMinLength
        requireVerifiedEmail
        defaultRole
        allowedOrigins
        loginUrl
        inviteUrlTemplate
        emailLinkBase
        signingAlg
        embedPermissions
        mfaPolicy
        branding {
          productName
          logoUrl
          primaryColor
          backgroundColor
          customCssUrl
        }
      }
    }
    roles(app: $app) {
      name
    }
  }
`);

const UpdateApp = graphql(`
  mutation UpdateApp($app: String!, $input: UpdateAppInput!) {
    updateApp(name: $app, input: $input) {
      name
      displayName
      updatedAt
    }
  }
`);

interface SettingsForm {
  displayName: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  signupEnabled: boolean;
  passwordMinLength: number;
  requireVerifiedEmail: boolean;
  defaultRole: string;
  allowedOrigins: string;
  loginUrl: string;
  signingAlg: SigningAlgorithm;
  embedPermissions: boolean;
  mfaPolicy: MfaPolicy;
  branding: BrandingForm;
}

export function AppSettingsPage({ app }: { app: string }) {
  const query = useQuery(AppSettingsQuery, { app });
  const update = useMutation(UpdateApp);
  const [form, setForm] = useState<SettingsForm>();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    const a = query.data?.app;
    if (!a) return;
    setForm({
      displayName: a.displayName,
      accessTokenTtl: a.settings.accessTokenTtl,
      refreshTokenTtl: a.settings.refreshTokenTtl,
      signupEnabled: a.settings.signupEnabled,
      passwordMinLength: a.settings.passwordMinLength,
      requireVerifiedEmail: a.settings.requireVerifiedEmail,
      defaultRole: a.settings.defaultRole,
      allowedOrigins: a.settings.allowedOrigins.join('\n'),
      loginUrl: a.settings.loginUrl ?? '',
      signingAlg: a.settings.signingAlg,
      embedPermissions: a.settings.embedPermissions,
      mfaPolicy: a.settings.mfaPolicy,
      branding: {
        productName: a.settings.branding.productName ?? emptyBranding.productName,
        logoUrl: a.settings.branding.logoUrl ?? emptyBranding.logoUrl,
        primaryColor: a.settings.branding.primaryColor ?? emptyBranding.primaryColor,
        backgroundColor: a.settings.branding.backgroundColor ?? emptyBranding.backgroundColor,
        customCssUrl: a.settings.branding.customCssUrl ?? emptyBranding.customCssUrl,
      },
    });
  }, [query.data]);
  const set = <K extends keyof SettingsForm>(key: K, value: SettingsForm[K]) => {
    setSaved(false);
    setForm((f) => (f ? { ...f, [key]: value } : f));
  };
  const setBrand = (key: keyof BrandingForm, value: string) =>
    set('branding', { ...(form?.branding ?? emptyBranding), [key]: value });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!form) return;
    const done = await update.run({
      app,
      input: {
        displayName: form.displayName,
        settings: {
          accessTokenTtl: form.accessTokenTtl,
          refreshTokenTtl: form.refreshTokenTtl,
          signupEnabled: form.signupEnabled,
          passwordMinLength: form.passwordMinLength,
          requireVerifiedEmail: form.requireVerifiedEmail,
          defaultRole: form.defaultRole,
          allowedOrigins: splitList(form.allowedOrigins),
          loginUrl: form.loginUrl.trim() || null,
          signingAlg: form.signingAlg,
          embedPermissions: form.embedPermissions,
          mfaPolicy: form.mfaPolicy,
          branding: brandingInput(form.branding),
        },
      },
    });
    if (done) {
      setSaved(true);
      query.reload();
    }
  };
  return (
    <>
      <PageHeader title={`Settings · ${app}`} />
      {query.loading && !form ? <Loading /> : null}
      <ErrorBox error={query.error} />
      {form && query.data?.app ? (
        <form onSubmit={submit} className="card form-grid">
          <p className="mono">Issuer: {query.data.app.issuer}</p>
          <Field label="Display name">
            {(p) => <input {...p} value={form.displayName} onChange={(e) => set('displayName', e.target.value)} />}
          </Field>
          <Field label="Access token lifetime (seconds)" hint="Between 60 seconds and 1 day.">
            {(p) => (
              <input {...p} type="number" min={60} value={form.accessTokenTtl} onChange={(e) => set('accessTokenTtl', Number(e.target.value))} />
            )}
          </Field>
          <Field label="Refresh token lifetime (seconds)">
            {(p) => (
              <input {...p} type="number" min={60} value={form.refreshTokenTtl} onChange={(e) => set('refreshTokenTtl', Number(e.target.value))} />
            )}
          </Field>
          <Field label="Signing algorithm" hint="Changing it rotates the signing key.">
            {(p) => (
              <select {...p} value={form.signingAlg} onChange={(e) => set('signingAlg', e.target.value as SigningAlgorithm)}>
                <option value="RS256">RS256</option>
                <option value="ES256">ES256</option>
                <option value="EdDSA">EdDSA</option>
              </select>
            )}
          </Field>
          <Field label="Multi-factor authentication" hint="Required: every sign-in needs a second factor; users without one enrol first.">
            {(p) => (
              <select {...p} value={form.mfaPolicy} onChange={(e) => set('mfaPolicy', e.target.value as MfaPolicy)}>
                <option value="OFF">Off</option>
                <option value="OPTIONAL">Optional (users may enrol)</option>
                <option value="REQUIRED">Required</option>
              </select>
            )}
          </Field>
          <Field label="Minimum password length">
            {(p) => (
              <input {...p} type="number" min={8} value={form.passwordMinLength} onChange={(e) => set('passwordMinLength', Number(e.target.value))} />
            )}
          </Field>
          <Field label="Default role of new users">
            {(p) => (
              <select {...p} value={form.defaultRole} onChange={(e) => set('defaultRole', e.target.value)}>
                {(query.data?.roles ?? []).map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Allowed origins (CORS)" hint="One origin per line, e.g. https://app.example.com">
            {(p) => <textarea {...p} rows={3} value={form.allowedOrigins} onChange={(e) => set('allowedOrigins', e.target.value)} />}
          </Field>
          <Field label="Custom login URL" hint="Empty: Heimdall's hosted login page.">
            {(p) => <input {...p} type="url" value={form.loginUrl} onChange={(e) => set('loginUrl', e.target.value)} />}
          </Field>
          <fieldset>
            <legend>Sign-up and tokens</legend>
            <label className="check">
              <input type="checkbox" checked={form.signupEnabled} onChange={(e) => set('signupEnabled', e.target.checked)} /> Sign-up enabled
            </label>
            <label className="check">
              <input type="checkbox" checked={form.requireVerifiedEmail} onChange={(e) => set('requireVerifiedEmail', e.target.checked)} /> Require a verified email to sign in
            </label>
            <label className="check">
              <input type="checkbox" checked={form.embedPermissions} onChange={(e) => set('embedPermissions', e.target.checked)} /> Put the
              permissions claim in access tokens
            </label>
          </fieldset>
          <fieldset>
            <legend>Branding of the hosted pages</legend>
            <Field label="Product name" hint="Shown instead of the app's display name.">
              {(p) => <input {...p} value={form.branding.productName} onChange={(e) => setBrand('productName', e.target.value)} />}
            </Field>
            <Field label="Logo URL" hint="https, or a path on Heimdall's origin.">
              {(p) => <input {...p} value={form.branding.logoUrl} onChange={(e) => setBrand('logoUrl', e.target.value)} />}
            </Field>
            <Field label="Primary colour" hint={form.branding.primaryColor && !isColor(form.branding.primaryColor) ? 'Not a colour yet: use #rrggbb.' : '#rrggbb, for buttons.'}>
              {(p) => <input {...p} value={form.branding.primaryColor} placeholder="#2457c5" onChange={(e) => setBrand('primaryColor', e.target.value)} />}
            </Field>
            <Field label="Background colour" hint={form.branding.backgroundColor && !isColor(form.branding.backgroundColor) ? 'Not a colour yet: use #rrggbb.' : '#rrggbb, behind the card.'}>
              {(p) => <input {...p} value={form.branding.backgroundColor} placeholder="#f3f5f9" onChange={(e) => setBrand('backgroundColor', e.target.value)} />}
            </Field>
            <Field label="Custom style sheet URL" hint="Loaded after Heimdall's style (https or same-origin).">
              {(p) => <input {...p} value={form.branding.customCssUrl} onChange={(e) => setBrand('customCssUrl', e.target.value)} />}
            </Field>
            <BrandingPreview form={form.branding} appName={form.displayName || app} />
          </fieldset>
          <ErrorBox error={update.error} />
          <div className="row">
            <Action need="key" type="submit" className="primary" disabled={update.running}>
              Save settings
            </Action>
            <span role="status">{saved ? 'Saved.' : ''}</span>
          </div>
        </form>
      ) : null}
    </>
  );
}
