/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Settings to change; omitted fields keep their value, `null` clears optional ones. */
export type AppSettingsInput = {
  accessTokenTtl?: number | null | undefined;
  allowedOrigins?: Array<string> | null | undefined;
  /** Merged into the current branding. */
  branding?: BrandingInput | null | undefined;
  defaultLocale?: string | null | undefined;
  defaultRole?: string | null | undefined;
  emailLinkBase?: string | null | undefined;
  embedPermissions?: boolean | null | undefined;
  inviteUrlTemplate?: string | null | undefined;
  loginUrl?: string | null | undefined;
  mfaPolicy?: MfaPolicy | null | undefined;
  passwordMinLength?: number | null | undefined;
  refreshTokenTtl?: number | null | undefined;
  requireVerifiedEmail?: boolean | null | undefined;
  signingAlg?: SigningAlgorithm | null | undefined;
  signupEnabled?: boolean | null | undefined;
};

/** Filters of `auditLog`; all optional, combined with AND. */
export type AuditLogFilter = {
  /** An action (`user.created`) or a family (`user.*`). */
  action?: string | null | undefined;
  actorId?: string | null | undefined;
  /** Entries at or after this instant. */
  since?: string | null | undefined;
  targetId?: string | null | undefined;
  /** Entries before this instant. */
  until?: string | null | undefined;
};

/** Branding to change: omitted fields keep their value, `null` clears one. */
export type BrandingInput = {
  backgroundColor?: string | null | undefined;
  customCssUrl?: string | null | undefined;
  logoUrl?: string | null | undefined;
  primaryColor?: string | null | undefined;
  productName?: string | null | undefined;
};

export type CreateAppInput = {
  displayName?: string | null | undefined;
  /** The slug: `^[a-z0-9][a-z0-9-]{1,62}$`. */
  name: string;
  settings?: AppSettingsInput | null | undefined;
};

export type CreateM2mClientInput = {
  name: string;
  scopes?: Array<string>;
};

export type CreateOAuthClientInput = {
  /** Required here (the REST API defaults it to openid, profile, email). */
  allowedScopes: Array<string>;
  backchannelLogoutSessionRequired?: boolean | null | undefined;
  /** Where signed Back-Channel Logout tokens are POSTed (https; webhook URL rules). */
  backchannelLogoutUri?: string | null | undefined;
  /** `confidential` (default) or `public`. */
  clientType?: string | null | undefined;
  description?: string | null | undefined;
  /** Token requests must carry a DPoP proof (RFC 9449). */
  dpopBoundAccessTokens?: boolean | null | undefined;
  homepageUrl?: string | null | undefined;
  idTokenSignedResponseAlg?: string | null | undefined;
  /** Skips the consent screen (root key or the app's key only). */
  isFirstParty?: boolean | null | undefined;
  logoUrl?: string | null | undefined;
  name: string;
  /** Where RP-Initiated Logout may send the browser back to. */
  postLogoutRedirectUris?: Array<string> | null | undefined;
  privacyPolicyUrl?: string | null | undefined;
  redirectUris: Array<string>;
  /**
   * An https URL answering a JSON array that lists every redirect URI; the
   * pairwise sector is its host (needed when the redirect URIs span hosts).
   */
  sectorIdentifierUri?: string | null | undefined;
  /** `public` (default) or `pairwise` (OIDC Core §8). */
  subjectType?: string | null | undefined;
  termsOfServiceUrl?: string | null | undefined;
  /** Token exchange (RFC 8693; root key or the app's key only). */
  tokenExchange?: TokenExchangePolicyInput | null | undefined;
};

export type CreateUserInput = {
  /** A JSON object of at most 16 KiB. */
  appMetadata?: unknown;
  displayName?: string | null | undefined;
  email: string;
  emailVerified?: boolean;
  /**
   * Optional: a user without a password signs in through a provider or sets one
   * by password reset.
   */
  password?: string | null | undefined;
  /**
   * A password hash exported by another system, instead of `password`
   * (argon2, bcrypt, scrypt or PBKDF2; replaced by argon2id at the first sign-in).
   */
  passwordHash?: string | null | undefined;
  /** Defaults to the app's `defaultRole`. */
  role?: string | null | undefined;
  /** A JSON object of at most 16 KiB. */
  userMetadata?: unknown;
};

export type CreateWebhookInput = {
  description?: string | null | undefined;
  enabled?: boolean | null | undefined;
  /** Event types, or `["*"]` for all. */
  events: Array<string>;
  url: string;
};

/** Users whose metadata object has `key` at its top level equal to `value`. */
export type MetadataFilterInput = {
  key: string;
  /** `user_metadata` or `app_metadata`. */
  object: string;
  /** JSON when it parses as a JSON scalar (`5`, `true`, `"007"`), else the string. */
  value: string;
};

/** The app setting `mfa_policy` (docs/src/mfa.md). */
export type MfaPolicy =
  /** No second factor is asked for and none can be enrolled. */
  | 'OFF'
  /** Users may enrol; those who did are asked at every sign-in. */
  | 'OPTIONAL'
  /** Every sign-in needs a second factor; users without one enrol first. */
  | 'REQUIRED';

export type RoleInputObject = {
  description?: string | null | undefined;
  displayName?: string | null | undefined;
  name: string;
  permissions?: Array<string>;
};

/** JWS algorithms for app signing keys. */
export type SigningAlgorithm =
  | 'ES256'
  | 'EdDSA'
  | 'RS256';

export type SyncRolesInput = {
  /** Where holders of deleted roles go. */
  reassignTo?: string | null | undefined;
  /** The complete set of custom roles; system roles may be omitted. */
  roles: Array<RoleInputObject>;
};

export type TenantInput = {
  name: string;
  /** Only sessions established with a second factor may make it active. */
  requireMfa?: boolean | null | undefined;
  slug: string;
};

/** A client's token exchange policy (RFC 8693). */
export type TokenExchangePolicyInput = {
  /** The client may use the token-exchange grant. */
  allowed: boolean;
  /** API resource identifiers it may ask tokens for (`audience`/`resource`). */
  audiences: Array<string>;
};

export type UpdateAppInput = {
  displayName?: string | null | undefined;
  settings?: AppSettingsInput | null | undefined;
};

export type UserFilterInput = {
  email?: string | null | undefined;
  /** Top-level key equality on `userMetadata` / `appMetadata` (all must hold). */
  metadata?: Array<MetadataFilterInput>;
  role?: string | null | undefined;
  /** `active` or `deactivated`. */
  status?: string | null | undefined;
  /** Members of this tenant. */
  tenantId?: string | number | null | undefined;
};

export type MyPermissionsQueryVariables = Exact<{ [key: string]: never; }>;


export type MyPermissionsQuery = { myPermissions: { role: string, permissions: Array<string> } };

export type AppNamesQueryVariables = Exact<{ [key: string]: never; }>;


export type AppNamesQuery = { apps: { nodes: Array<{ name: string, displayName: string }> } };

export type AppsListQueryVariables = Exact<{ [key: string]: never; }>;


export type AppsListQuery = { apps: { nodes: Array<{ id: string, name: string, displayName: string, issuer: string, createdAt: string }> } };

export type CreateAppMutationVariables = Exact<{
  input: CreateAppInput;
}>;


export type CreateAppMutation = { createApp: { name: string } };

export type AppSettingsQueryVariables = Exact<{
  app: string;
}>;


export type AppSettingsQuery = { app: { id: string, name: string, displayName: string, issuer: string, settings: { accessTokenTtl: number, refreshTokenTtl: number, signupEnabled: boolean, passwordMinLength: number, requireVerifiedEmail: boolean, defaultRole: string, allowedOrigins: Array<string>, loginUrl: string | null, inviteUrlTemplate: string | null, emailLinkBase: string | null, signingAlg: SigningAlgorithm, embedPermissions: boolean, mfaPolicy: MfaPolicy, branding: { productName: string | null, logoUrl: string | null, primaryColor: string | null, backgroundColor: string | null, customCssUrl: string | null } } } | null, roles: Array<{ name: string }> };

export type UpdateAppMutationVariables = Exact<{
  app: string;
  input: UpdateAppInput;
}>;


export type UpdateAppMutation = { updateApp: { name: string, displayName: string, updatedAt: string } };

export type AuditLogQueryVariables = Exact<{
  app: string;
  filter?: AuditLogFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type AuditLogQuery = { auditLog: { nodes: Array<{ id: string, action: string, createdAt: string, ip: string | null, userAgent: string | null, metadata: unknown, actor: { type: string, id: string | null }, target: { type: string, id: string | null } | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type StatsQueryVariables = Exact<{
  app: string;
  from?: string | null | undefined;
  to?: string | null | undefined;
}>;


export type StatsQuery = { stats: { from: string, to: string, activeSessions: number, days: Array<{ day: string, signIns: number, failedSignIns: number }>, tokensIssued: Array<{ grant: string, count: number }>, webhooks: { succeeded: number, failed: number, pending: number, successRate: number | null } } };

export type SigningKeysQueryVariables = Exact<{
  app: string;
}>;


export type SigningKeysQuery = { app: { id: string, issuer: string, settings: { signingAlg: SigningAlgorithm }, signingKeys: Array<{ kid: string, alg: string, status: string, createdAt: string, retiredAt: string | null, publishUntil: string | null }> } | null };

export type RotateSigningKeyMutationVariables = Exact<{
  app: string;
}>;


export type RotateSigningKeyMutation = { rotateSigningKey: { kid: string, alg: string } };

export type ApiKeysQueryVariables = Exact<{
  app: string;
}>;


export type ApiKeysQuery = { app: { id: string, apiKeys: { nodes: Array<{ id: string, name: string, hint: string, createdAt: string, lastUsedAt: string | null }> } } | null };

export type CreateApiKeyMutationVariables = Exact<{
  app: string;
  name?: string | null | undefined;
}>;


export type CreateApiKeyMutation = { createApiKey: { key: string, apiKey: { id: string, name: string } } };

export type RevokeApiKeyMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type RevokeApiKeyMutation = { revokeApiKey: boolean };

export type M2mClientsQueryVariables = Exact<{
  app: string;
  after?: string | null | undefined;
}>;


export type M2mClientsQuery = { m2mClients: { nodes: Array<{ clientId: string, name: string, scopes: Array<string>, createdAt: string, lastUsedAt: string | null, previousSecretExpiresAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CreateM2mClientMutationVariables = Exact<{
  app: string;
  input: CreateM2mClientInput;
}>;


export type CreateM2mClientMutation = { createM2mClient: { clientSecret: string, client: { clientId: string, name: string } } };

export type RotateM2mSecretMutationVariables = Exact<{
  app: string;
  clientId: string;
  grace?: number | null | undefined;
}>;


export type RotateM2mSecretMutation = { rotateM2mClientSecret: { clientSecret: string, client: { clientId: string, previousSecretExpiresAt: string | null } } };

export type DeleteM2mClientMutationVariables = Exact<{
  app: string;
  clientId: string;
}>;


export type DeleteM2mClientMutation = { deleteM2mClient: boolean };

export type OauthClientsQueryVariables = Exact<{
  app: string;
  after?: string | null | undefined;
}>;


export type OauthClientsQuery = { oauthClients: { nodes: Array<{ id: string, name: string, clientType: string, isFirstParty: boolean, isActive: boolean, redirectUris: Array<string>, allowedScopes: Array<string>, createdAt: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type OauthScopesQueryVariables = Exact<{ [key: string]: never; }>;


export type OauthScopesQuery = { oauthScopes: Array<{ name: string, description: string }> };

export type CreateOauthClientMutationVariables = Exact<{
  app: string;
  input: CreateOAuthClientInput;
}>;


export type CreateOauthClientMutation = { createOauthClient: { clientSecret: string | null, client: { id: string, name: string } } };

export type RegenerateOauthSecretMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type RegenerateOauthSecretMutation = { regenerateOauthClientSecret: { success: boolean, clientSecret: string | null, error: string | null } };

export type DeleteOauthClientMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type DeleteOauthClientMutation = { deleteOauthClient: { success: boolean, error: string | null } };

export type RolesQueryVariables = Exact<{
  app: string;
}>;


export type RolesQuery = { roles: Array<{ name: string, displayName: string | null, description: string | null, permissions: Array<string>, isSystem: boolean }> };

export type SyncRolesMutationVariables = Exact<{
  app: string;
  input: SyncRolesInput;
  dryRun?: boolean | null | undefined;
}>;


export type SyncRolesMutation = { syncRoles: { dryRun: boolean, created: Array<string>, deleted: Array<string>, unchanged: Array<string>, updated: Array<{ name: string, added: Array<string>, removed: Array<string> }> } };

export type TenantsQueryVariables = Exact<{
  app: string;
  after?: string | null | undefined;
}>;


export type TenantsQuery = { tenants: { nodes: Array<{ id: string, slug: string, name: string, createdAt: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type TenantQueryVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type TenantQuery = { tenant: { id: string, slug: string, name: string, requireMfa: boolean, members: Array<{ role: string, createdAt: string, user: { id: string, email: string } }> } | null, roles: Array<{ name: string }> };

export type FindUserByEmailQueryVariables = Exact<{
  app: string;
  email: string;
}>;


export type FindUserByEmailQuery = { users: { nodes: Array<{ id: string, email: string }> } };

export type CreateTenantMutationVariables = Exact<{
  app: string;
  input: TenantInput;
}>;


export type CreateTenantMutation = { createTenant: { id: string } };

export type AddTenantMemberMutationVariables = Exact<{
  app: string;
  tenantId: string | number;
  userId: string | number;
  role: string;
}>;


export type AddTenantMemberMutation = { addTenantMember: { role: string } };

export type UpdateTenantMemberMutationVariables = Exact<{
  app: string;
  tenantId: string | number;
  userId: string | number;
  role: string;
}>;


export type UpdateTenantMemberMutation = { updateTenantMember: { role: string } };

export type SetTenantRequireMfaMutationVariables = Exact<{
  app: string;
  id: string | number;
  requireMfa: boolean;
}>;


export type SetTenantRequireMfaMutation = { updateTenant: { id: string, requireMfa: boolean } };

export type RemoveTenantMemberMutationVariables = Exact<{
  app: string;
  tenantId: string | number;
  userId: string | number;
}>;


export type RemoveTenantMemberMutation = { removeTenantMember: boolean };

export type UsersQueryVariables = Exact<{
  app: string;
  filter?: UserFilterInput | null | undefined;
  after?: string | null | undefined;
}>;


export type UsersQuery = { users: { nodes: Array<{ id: string, email: string, displayName: string | null, status: string, emailVerified: boolean, createdAt: string, lastSignInAt: string | null, role: { name: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CreateUserMutationVariables = Exact<{
  app: string;
  input: CreateUserInput;
}>;


export type CreateUserMutation = { createUser: { id: string, email: string } };

export type UserQueryVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type UserQuery = { user: { id: string, email: string, emailVerified: boolean, displayName: string | null, status: string, createdAt: string, updatedAt: string, lastSignInAt: string | null, permissions: Array<string>, role: { name: string }, tenants: Array<{ role: string, tenant: { id: string, name: string } }>, sessions: Array<{ id: string, userAgent: string | null, ip: string | null, createdAt: string, lastUsedAt: string, expiresAt: string }> } | null, userIdentities: Array<{ id: string, provider: string, subject: string, email: string | null, createdAt: string, lastUsedAt: string }>, userMfaFactors: { recoveryCodesRemaining: number, factors: Array<{ id: string, type: string, name: string, createdAt: string, lastUsedAt: string | null }> } };

export type RoleNamesQueryVariables = Exact<{
  app: string;
}>;


export type RoleNamesQuery = { roles: Array<{ name: string }> };

export type TenantNamesQueryVariables = Exact<{
  app: string;
}>;


export type TenantNamesQuery = { tenants: { nodes: Array<{ id: string, name: string }> } };

export type SetUserRoleMutationVariables = Exact<{
  app: string;
  id: string | number;
  role: string;
}>;


export type SetUserRoleMutation = { updateUser: { id: string, role: { name: string } } };

export type DeactivateUserMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type DeactivateUserMutation = { deactivateUser: { id: string, status: string } };

export type ReactivateUserMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type ReactivateUserMutation = { reactivateUser: { id: string, status: string } };

export type RevokeUserSessionsMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type RevokeUserSessionsMutation = { revokeUserSessions: number };

export type ResetUserMfaMutationVariables = Exact<{
  app: string;
  userId: string | number;
}>;


export type ResetUserMfaMutation = { resetUserMfa: number };

export type RevokeUserSessionMutationVariables = Exact<{
  app: string;
  userId: string | number;
  id: string | number;
}>;


export type RevokeUserSessionMutation = { revokeUserSession: boolean };

export type UnlinkIdentityMutationVariables = Exact<{
  app: string;
  userId: string | number;
  id: string | number;
}>;


export type UnlinkIdentityMutation = { unlinkUserIdentity: boolean };

export type WebhooksQueryVariables = Exact<{
  app: string;
  after?: string | null | undefined;
}>;


export type WebhooksQuery = { webhooks: { nodes: Array<{ id: string, url: string, events: Array<string>, description: string | null, enabled: boolean, createdAt: string, previousSecretExpiresAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type WebhookDeliveriesQueryVariables = Exact<{
  app: string;
  webhookId: string | number;
  status?: string | null | undefined;
  after?: string | null | undefined;
}>;


export type WebhookDeliveriesQuery = { webhookDeliveries: { nodes: Array<{ id: string, eventId: string, eventType: string, attempt: number, status: string, responseStatus: number | null, latencyMs: number | null, lastError: string | null, createdAt: string, nextAttemptAt: string | null, attempts: Array<{ attempt: number, responseStatus: number | null, latencyMs: number, error: string | null, createdAt: string }> }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CreateWebhookMutationVariables = Exact<{
  app: string;
  input: CreateWebhookInput;
}>;


export type CreateWebhookMutation = { createWebhook: { secret: string, webhook: { id: string } } };

export type SetWebhookEnabledMutationVariables = Exact<{
  app: string;
  id: string | number;
  enabled: boolean;
}>;


export type SetWebhookEnabledMutation = { updateWebhook: { id: string, enabled: boolean } };

export type RotateWebhookSecretMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type RotateWebhookSecretMutation = { rotateWebhookSecret: { secret: string } };

export type DeleteWebhookMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type DeleteWebhookMutation = { deleteWebhook: boolean };

export type RedeliverWebhookMutationVariables = Exact<{
  app: string;
  deliveryId: string | number;
}>;


export type RedeliverWebhookMutation = { redeliverWebhook: { id: string, status: string } };

export type SendTestWebhookEventMutationVariables = Exact<{
  app: string;
  id: string | number;
}>;


export type SendTestWebhookEventMutation = { sendTestWebhookEvent: { id: string, status: string } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const MyPermissionsDocument = new TypedDocumentString(`
    query MyPermissions {
  myPermissions {
    role
    permissions
  }
}
    `) as unknown as TypedDocumentString<MyPermissionsQuery, MyPermissionsQueryVariables>;
export const AppNamesDocument = new TypedDocumentString(`
    query AppNames {
  apps(first: 100) {
    nodes {
      name
      displayName
    }
  }
}
    `) as unknown as TypedDocumentString<AppNamesQuery, AppNamesQueryVariables>;
export const AppsListDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<AppsListQuery, AppsListQueryVariables>;
export const CreateAppDocument = new TypedDocumentString(`
    mutation CreateApp($input: CreateAppInput!) {
  createApp(input: $input) {
    name
  }
}
    `) as unknown as TypedDocumentString<CreateAppMutation, CreateAppMutationVariables>;
export const AppSettingsDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<AppSettingsQuery, AppSettingsQueryVariables>;
export const UpdateAppDocument = new TypedDocumentString(`
    mutation UpdateApp($app: String!, $input: UpdateAppInput!) {
  updateApp(name: $app, input: $input) {
    name
    displayName
    updatedAt
  }
}
    `) as unknown as TypedDocumentString<UpdateAppMutation, UpdateAppMutationVariables>;
export const AuditLogDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<AuditLogQuery, AuditLogQueryVariables>;
export const StatsDocument = new TypedDocumentString(`
    query Stats($app: String!, $from: DateTime, $to: DateTime) {
  stats(app: $app, from: $from, to: $to) {
    from
    to
    activeSessions
    days {
      day
      signIns
      failedSignIns
    }
    tokensIssued {
      grant
      count
    }
    webhooks {
      succeeded
      failed
      pending
      successRate
    }
  }
}
    `) as unknown as TypedDocumentString<StatsQuery, StatsQueryVariables>;
export const SigningKeysDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<SigningKeysQuery, SigningKeysQueryVariables>;
export const RotateSigningKeyDocument = new TypedDocumentString(`
    mutation RotateSigningKey($app: String!) {
  rotateSigningKey(app: $app) {
    kid
    alg
  }
}
    `) as unknown as TypedDocumentString<RotateSigningKeyMutation, RotateSigningKeyMutationVariables>;
export const ApiKeysDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<ApiKeysQuery, ApiKeysQueryVariables>;
export const CreateApiKeyDocument = new TypedDocumentString(`
    mutation CreateApiKey($app: String!, $name: String) {
  createApiKey(app: $app, name: $name) {
    key
    apiKey {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<CreateApiKeyMutation, CreateApiKeyMutationVariables>;
export const RevokeApiKeyDocument = new TypedDocumentString(`
    mutation RevokeApiKey($app: String!, $id: ID!) {
  revokeApiKey(app: $app, id: $id)
}
    `) as unknown as TypedDocumentString<RevokeApiKeyMutation, RevokeApiKeyMutationVariables>;
export const M2mClientsDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<M2mClientsQuery, M2mClientsQueryVariables>;
export const CreateM2mClientDocument = new TypedDocumentString(`
    mutation CreateM2mClient($app: String!, $input: CreateM2mClientInput!) {
  createM2mClient(app: $app, input: $input) {
    clientSecret
    client {
      clientId
      name
    }
  }
}
    `) as unknown as TypedDocumentString<CreateM2mClientMutation, CreateM2mClientMutationVariables>;
export const RotateM2mSecretDocument = new TypedDocumentString(`
    mutation RotateM2mSecret($app: String!, $clientId: String!, $grace: Int) {
  rotateM2mClientSecret(
    app: $app
    clientId: $clientId
    gracePeriodSeconds: $grace
  ) {
    clientSecret
    client {
      clientId
      previousSecretExpiresAt
    }
  }
}
    `) as unknown as TypedDocumentString<RotateM2mSecretMutation, RotateM2mSecretMutationVariables>;
export const DeleteM2mClientDocument = new TypedDocumentString(`
    mutation DeleteM2mClient($app: String!, $clientId: String!) {
  deleteM2mClient(app: $app, clientId: $clientId)
}
    `) as unknown as TypedDocumentString<DeleteM2mClientMutation, DeleteM2mClientMutationVariables>;
export const OauthClientsDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<OauthClientsQuery, OauthClientsQueryVariables>;
export const OauthScopesDocument = new TypedDocumentString(`
    query OauthScopes {
  oauthScopes {
    name
    description
  }
}
    `) as unknown as TypedDocumentString<OauthScopesQuery, OauthScopesQueryVariables>;
export const CreateOauthClientDocument = new TypedDocumentString(`
    mutation CreateOauthClient($app: String!, $input: CreateOAuthClientInput!) {
  createOauthClient(app: $app, input: $input) {
    clientSecret
    client {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<CreateOauthClientMutation, CreateOauthClientMutationVariables>;
export const RegenerateOauthSecretDocument = new TypedDocumentString(`
    mutation RegenerateOauthSecret($app: String!, $id: ID!) {
  regenerateOauthClientSecret(app: $app, id: $id) {
    success
    clientSecret
    error
  }
}
    `) as unknown as TypedDocumentString<RegenerateOauthSecretMutation, RegenerateOauthSecretMutationVariables>;
export const DeleteOauthClientDocument = new TypedDocumentString(`
    mutation DeleteOauthClient($app: String!, $id: ID!) {
  deleteOauthClient(app: $app, id: $id) {
    success
    error
  }
}
    `) as unknown as TypedDocumentString<DeleteOauthClientMutation, DeleteOauthClientMutationVariables>;
export const RolesDocument = new TypedDocumentString(`
    query Roles($app: String!) {
  roles(app: $app) {
    name
    displayName
    description
    permissions
    isSystem
  }
}
    `) as unknown as TypedDocumentString<RolesQuery, RolesQueryVariables>;
export const SyncRolesDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<SyncRolesMutation, SyncRolesMutationVariables>;
export const TenantsDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<TenantsQuery, TenantsQueryVariables>;
export const TenantDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<TenantQuery, TenantQueryVariables>;
export const FindUserByEmailDocument = new TypedDocumentString(`
    query FindUserByEmail($app: String!, $email: String!) {
  users(app: $app, filter: {email: $email}, first: 1) {
    nodes {
      id
      email
    }
  }
}
    `) as unknown as TypedDocumentString<FindUserByEmailQuery, FindUserByEmailQueryVariables>;
export const CreateTenantDocument = new TypedDocumentString(`
    mutation CreateTenant($app: String!, $input: TenantInput!) {
  createTenant(app: $app, input: $input) {
    id
  }
}
    `) as unknown as TypedDocumentString<CreateTenantMutation, CreateTenantMutationVariables>;
export const AddTenantMemberDocument = new TypedDocumentString(`
    mutation AddTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {
  addTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {
    role
  }
}
    `) as unknown as TypedDocumentString<AddTenantMemberMutation, AddTenantMemberMutationVariables>;
export const UpdateTenantMemberDocument = new TypedDocumentString(`
    mutation UpdateTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {
  updateTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {
    role
  }
}
    `) as unknown as TypedDocumentString<UpdateTenantMemberMutation, UpdateTenantMemberMutationVariables>;
export const SetTenantRequireMfaDocument = new TypedDocumentString(`
    mutation SetTenantRequireMfa($app: String!, $id: ID!, $requireMfa: Boolean!) {
  updateTenant(app: $app, id: $id, input: {requireMfa: $requireMfa}) {
    id
    requireMfa
  }
}
    `) as unknown as TypedDocumentString<SetTenantRequireMfaMutation, SetTenantRequireMfaMutationVariables>;
export const RemoveTenantMemberDocument = new TypedDocumentString(`
    mutation RemoveTenantMember($app: String!, $tenantId: ID!, $userId: ID!) {
  removeTenantMember(app: $app, tenantId: $tenantId, userId: $userId)
}
    `) as unknown as TypedDocumentString<RemoveTenantMemberMutation, RemoveTenantMemberMutationVariables>;
export const UsersDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<UsersQuery, UsersQueryVariables>;
export const CreateUserDocument = new TypedDocumentString(`
    mutation CreateUser($app: String!, $input: CreateUserInput!) {
  createUser(app: $app, input: $input) {
    id
    email
  }
}
    `) as unknown as TypedDocumentString<CreateUserMutation, CreateUserMutationVariables>;
export const UserDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<UserQuery, UserQueryVariables>;
export const RoleNamesDocument = new TypedDocumentString(`
    query RoleNames($app: String!) {
  roles(app: $app) {
    name
  }
}
    `) as unknown as TypedDocumentString<RoleNamesQuery, RoleNamesQueryVariables>;
export const TenantNamesDocument = new TypedDocumentString(`
    query TenantNames($app: String!) {
  tenants(app: $app, first: 100) {
    nodes {
      id
      name
    }
  }
}
    `) as unknown as TypedDocumentString<TenantNamesQuery, TenantNamesQueryVariables>;
export const SetUserRoleDocument = new TypedDocumentString(`
    mutation SetUserRole($app: String!, $id: ID!, $role: String!) {
  updateUser(app: $app, id: $id, input: {role: $role}) {
    id
    role {
      name
    }
  }
}
    `) as unknown as TypedDocumentString<SetUserRoleMutation, SetUserRoleMutationVariables>;
export const DeactivateUserDocument = new TypedDocumentString(`
    mutation DeactivateUser($app: String!, $id: ID!) {
  deactivateUser(app: $app, id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<DeactivateUserMutation, DeactivateUserMutationVariables>;
export const ReactivateUserDocument = new TypedDocumentString(`
    mutation ReactivateUser($app: String!, $id: ID!) {
  reactivateUser(app: $app, id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<ReactivateUserMutation, ReactivateUserMutationVariables>;
export const RevokeUserSessionsDocument = new TypedDocumentString(`
    mutation RevokeUserSessions($app: String!, $id: ID!) {
  revokeUserSessions(app: $app, id: $id)
}
    `) as unknown as TypedDocumentString<RevokeUserSessionsMutation, RevokeUserSessionsMutationVariables>;
export const ResetUserMfaDocument = new TypedDocumentString(`
    mutation ResetUserMfa($app: String!, $userId: ID!) {
  resetUserMfa(app: $app, userId: $userId)
}
    `) as unknown as TypedDocumentString<ResetUserMfaMutation, ResetUserMfaMutationVariables>;
export const RevokeUserSessionDocument = new TypedDocumentString(`
    mutation RevokeUserSession($app: String!, $userId: ID!, $id: ID!) {
  revokeUserSession(app: $app, userId: $userId, id: $id)
}
    `) as unknown as TypedDocumentString<RevokeUserSessionMutation, RevokeUserSessionMutationVariables>;
export const UnlinkIdentityDocument = new TypedDocumentString(`
    mutation UnlinkIdentity($app: String!, $userId: ID!, $id: ID!) {
  unlinkUserIdentity(app: $app, userId: $userId, id: $id)
}
    `) as unknown as TypedDocumentString<UnlinkIdentityMutation, UnlinkIdentityMutationVariables>;
export const WebhooksDocument = new TypedDocumentString(`
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
    `) as unknown as TypedDocumentString<WebhooksQuery, WebhooksQueryVariables>;
export const WebhookDeliveriesDocument = new TypedDocumentString(`
    query WebhookDeliveries($app: String!, $webhookId: ID!, $status: String, $after: String) {
  webhookDeliveries(
    app: $app
    webhookId: $webhookId
    status: $status
    first: 25
    after: $after
  ) {
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
    `) as unknown as TypedDocumentString<WebhookDeliveriesQuery, WebhookDeliveriesQueryVariables>;
export const CreateWebhookDocument = new TypedDocumentString(`
    mutation CreateWebhook($app: String!, $input: CreateWebhookInput!) {
  createWebhook(app: $app, input: $input) {
    secret
    webhook {
      id
    }
  }
}
    `) as unknown as TypedDocumentString<CreateWebhookMutation, CreateWebhookMutationVariables>;
export const SetWebhookEnabledDocument = new TypedDocumentString(`
    mutation SetWebhookEnabled($app: String!, $id: ID!, $enabled: Boolean!) {
  updateWebhook(app: $app, id: $id, input: {enabled: $enabled}) {
    id
    enabled
  }
}
    `) as unknown as TypedDocumentString<SetWebhookEnabledMutation, SetWebhookEnabledMutationVariables>;
export const RotateWebhookSecretDocument = new TypedDocumentString(`
    mutation RotateWebhookSecret($app: String!, $id: ID!) {
  rotateWebhookSecret(app: $app, id: $id) {
    secret
  }
}
    `) as unknown as TypedDocumentString<RotateWebhookSecretMutation, RotateWebhookSecretMutationVariables>;
export const DeleteWebhookDocument = new TypedDocumentString(`
    mutation DeleteWebhook($app: String!, $id: ID!) {
  deleteWebhook(app: $app, id: $id)
}
    `) as unknown as TypedDocumentString<DeleteWebhookMutation, DeleteWebhookMutationVariables>;
export const RedeliverWebhookDocument = new TypedDocumentString(`
    mutation RedeliverWebhook($app: String!, $deliveryId: ID!) {
  redeliverWebhook(app: $app, deliveryId: $deliveryId) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<RedeliverWebhookMutation, RedeliverWebhookMutationVariables>;
export const SendTestWebhookEventDocument = new TypedDocumentString(`
    mutation SendTestWebhookEvent($app: String!, $id: ID!) {
  sendTestWebhookEvent(app: $app, id: $id) {
    id
    status
  }
}
    `) as unknown as TypedDocumentString<SendTestWebhookEventMutation, SendTestWebhookEventMutationVariables>;