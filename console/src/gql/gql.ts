/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query MyPermissions {\n    myPermissions {\n      role\n      permissions\n    }\n  }\n": typeof types.MyPermissionsDocument,
    "\n  query AppNames {\n    apps(first: 100) {\n      nodes {\n        name\n        displayName\n      }\n    }\n  }\n": typeof types.AppNamesDocument,
    "\n  query AppsList {\n    apps(first: 100) {\n      nodes {\n        id\n        name\n        displayName\n        issuer\n        createdAt\n      }\n    }\n  }\n": typeof types.AppsListDocument,
    "\n  mutation CreateApp($input: CreateAppInput!) {\n    createApp(input: $input) {\n      name\n    }\n  }\n": typeof types.CreateAppDocument,
    "\n  query AppSettings($app: String!) {\n    app(name: $app) {\n      id\n      name\n      displayName\n      issuer\n      settings {\n        accessTokenTtl\n        refreshTokenTtl\n        signupEnabled\n        passwordMinLength\n        requireVerifiedEmail\n        defaultRole\n        allowedOrigins\n        loginUrl\n        inviteUrlTemplate\n        emailLinkBase\n        signingAlg\n        embedPermissions\n        mfaPolicy\n        branding {\n          productName\n          logoUrl\n          primaryColor\n          backgroundColor\n          customCssUrl\n        }\n      }\n    }\n    roles(app: $app) {\n      name\n    }\n  }\n": typeof types.AppSettingsDocument,
    "\n  mutation UpdateApp($app: String!, $input: UpdateAppInput!) {\n    updateApp(name: $app, input: $input) {\n      name\n      displayName\n      updatedAt\n    }\n  }\n": typeof types.UpdateAppDocument,
    "\n  query AuditLog($app: String!, $filter: AuditLogFilter, $after: String) {\n    auditLog(app: $app, filter: $filter, first: 50, after: $after) {\n      nodes {\n        id\n        action\n        createdAt\n        ip\n        userAgent\n        metadata\n        actor {\n          type\n          id\n        }\n        target {\n          type\n          id\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query Stats($app: String!, $from: DateTime, $to: DateTime) {\n    stats(app: $app, from: $from, to: $to) {\n      from\n      to\n      activeSessions\n      days {\n        day\n        signIns\n        failedSignIns\n      }\n      tokensIssued {\n        grant\n        count\n      }\n      webhooks {\n        succeeded\n        failed\n        pending\n        successRate\n      }\n    }\n  }\n": typeof types.StatsDocument,
    "\n  query SigningKeys($app: String!) {\n    app(name: $app) {\n      id\n      issuer\n      settings {\n        signingAlg\n      }\n      signingKeys {\n        kid\n        alg\n        status\n        createdAt\n        retiredAt\n        publishUntil\n      }\n    }\n  }\n": typeof types.SigningKeysDocument,
    "\n  mutation RotateSigningKey($app: String!) {\n    rotateSigningKey(app: $app) {\n      kid\n      alg\n    }\n  }\n": typeof types.RotateSigningKeyDocument,
    "\n  query ApiKeys($app: String!) {\n    app(name: $app) {\n      id\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          hint\n          createdAt\n          lastUsedAt\n        }\n      }\n    }\n  }\n": typeof types.ApiKeysDocument,
    "\n  mutation CreateApiKey($app: String!, $name: String) {\n    createApiKey(app: $app, name: $name) {\n      key\n      apiKey {\n        id\n        name\n      }\n    }\n  }\n": typeof types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($app: String!, $id: ID!) {\n    revokeApiKey(app: $app, id: $id)\n  }\n": typeof types.RevokeApiKeyDocument,
    "\n  query M2mClients($app: String!, $after: String) {\n    m2mClients(app: $app, first: 50, after: $after) {\n      nodes {\n        clientId\n        name\n        scopes\n        createdAt\n        lastUsedAt\n        previousSecretExpiresAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.M2mClientsDocument,
    "\n  mutation CreateM2mClient($app: String!, $input: CreateM2mClientInput!) {\n    createM2mClient(app: $app, input: $input) {\n      clientSecret\n      client {\n        clientId\n        name\n      }\n    }\n  }\n": typeof types.CreateM2mClientDocument,
    "\n  mutation RotateM2mSecret($app: String!, $clientId: String!, $grace: Int) {\n    rotateM2mClientSecret(app: $app, clientId: $clientId, gracePeriodSeconds: $grace) {\n      clientSecret\n      client {\n        clientId\n        previousSecretExpiresAt\n      }\n    }\n  }\n": typeof types.RotateM2mSecretDocument,
    "\n  mutation DeleteM2mClient($app: String!, $clientId: String!) {\n    deleteM2mClient(app: $app, clientId: $clientId)\n  }\n": typeof types.DeleteM2mClientDocument,
    "\n  query OauthClients($app: String!, $after: String) {\n    oauthClients(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        name\n        clientType\n        isFirstParty\n        isActive\n        redirectUris\n        allowedScopes\n        createdAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.OauthClientsDocument,
    "\n  query OauthScopes {\n    oauthScopes {\n      name\n      description\n    }\n  }\n": typeof types.OauthScopesDocument,
    "\n  mutation CreateOauthClient($app: String!, $input: CreateOAuthClientInput!) {\n    createOauthClient(app: $app, input: $input) {\n      clientSecret\n      client {\n        id\n        name\n      }\n    }\n  }\n": typeof types.CreateOauthClientDocument,
    "\n  mutation RegenerateOauthSecret($app: String!, $id: ID!) {\n    regenerateOauthClientSecret(app: $app, id: $id) {\n      success\n      clientSecret\n      error\n    }\n  }\n": typeof types.RegenerateOauthSecretDocument,
    "\n  mutation DeleteOauthClient($app: String!, $id: ID!) {\n    deleteOauthClient(app: $app, id: $id) {\n      success\n      error\n    }\n  }\n": typeof types.DeleteOauthClientDocument,
    "\n  query Roles($app: String!) {\n    roles(app: $app) {\n      name\n      displayName\n      description\n      permissions\n      isSystem\n    }\n  }\n": typeof types.RolesDocument,
    "\n  mutation SyncRoles($app: String!, $input: SyncRolesInput!, $dryRun: Boolean) {\n    syncRoles(app: $app, input: $input, dryRun: $dryRun) {\n      dryRun\n      created\n      deleted\n      unchanged\n      updated {\n        name\n        added\n        removed\n      }\n    }\n  }\n": typeof types.SyncRolesDocument,
    "\n  query Tenants($app: String!, $after: String) {\n    tenants(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        slug\n        name\n        createdAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.TenantsDocument,
    "\n  query Tenant($app: String!, $id: ID!) {\n    tenant(app: $app, id: $id) {\n      id\n      slug\n      name\n      requireMfa\n      members {\n        role\n        createdAt\n        user {\n          id\n          email\n        }\n      }\n    }\n    roles(app: $app) {\n      name\n    }\n  }\n": typeof types.TenantDocument,
    "\n  query FindUserByEmail($app: String!, $email: String!) {\n    users(app: $app, filter: { email: $email }, first: 1) {\n      nodes {\n        id\n        email\n      }\n    }\n  }\n": typeof types.FindUserByEmailDocument,
    "\n  mutation CreateTenant($app: String!, $input: TenantInput!) {\n    createTenant(app: $app, input: $input) {\n      id\n    }\n  }\n": typeof types.CreateTenantDocument,
    "\n  mutation AddTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {\n    addTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {\n      role\n    }\n  }\n": typeof types.AddTenantMemberDocument,
    "\n  mutation UpdateTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {\n    updateTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {\n      role\n    }\n  }\n": typeof types.UpdateTenantMemberDocument,
    "\n  mutation SetTenantRequireMfa($app: String!, $id: ID!, $requireMfa: Boolean!) {\n    updateTenant(app: $app, id: $id, input: { requireMfa: $requireMfa }) {\n      id\n      requireMfa\n    }\n  }\n": typeof types.SetTenantRequireMfaDocument,
    "\n  mutation RemoveTenantMember($app: String!, $tenantId: ID!, $userId: ID!) {\n    removeTenantMember(app: $app, tenantId: $tenantId, userId: $userId)\n  }\n": typeof types.RemoveTenantMemberDocument,
    "\n  query Users($app: String!, $filter: UserFilterInput, $after: String) {\n    users(app: $app, filter: $filter, first: 25, after: $after) {\n      nodes {\n        id\n        email\n        displayName\n        status\n        emailVerified\n        createdAt\n        lastSignInAt\n        role {\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  mutation CreateUser($app: String!, $input: CreateUserInput!) {\n    createUser(app: $app, input: $input) {\n      id\n      email\n    }\n  }\n": typeof types.CreateUserDocument,
    "\n  query User($app: String!, $id: ID!) {\n    user(app: $app, id: $id) {\n      id\n      email\n      emailVerified\n      displayName\n      status\n      createdAt\n      updatedAt\n      lastSignInAt\n      permissions\n      role {\n        name\n      }\n      tenants {\n        role\n        tenant {\n          id\n          name\n        }\n      }\n      sessions {\n        id\n        userAgent\n        ip\n        createdAt\n        lastUsedAt\n        expiresAt\n      }\n    }\n    userIdentities(app: $app, userId: $id) {\n      id\n      provider\n      subject\n      email\n      createdAt\n      lastUsedAt\n    }\n    userMfaFactors(app: $app, userId: $id) {\n      recoveryCodesRemaining\n      factors {\n        id\n        type\n        name\n        createdAt\n        lastUsedAt\n      }\n    }\n  }\n": typeof types.UserDocument,
    "\n  query RoleNames($app: String!) {\n    roles(app: $app) {\n      name\n    }\n  }\n": typeof types.RoleNamesDocument,
    "\n  query TenantNames($app: String!) {\n    tenants(app: $app, first: 100) {\n      nodes {\n        id\n        name\n      }\n    }\n  }\n": typeof types.TenantNamesDocument,
    "\n  mutation SetUserRole($app: String!, $id: ID!, $role: String!) {\n    updateUser(app: $app, id: $id, input: { role: $role }) {\n      id\n      role {\n        name\n      }\n    }\n  }\n": typeof types.SetUserRoleDocument,
    "\n  mutation DeactivateUser($app: String!, $id: ID!) {\n    deactivateUser(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.DeactivateUserDocument,
    "\n  mutation ReactivateUser($app: String!, $id: ID!) {\n    reactivateUser(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ReactivateUserDocument,
    "\n  mutation RevokeUserSessions($app: String!, $id: ID!) {\n    revokeUserSessions(app: $app, id: $id)\n  }\n": typeof types.RevokeUserSessionsDocument,
    "\n  mutation ResetUserMfa($app: String!, $userId: ID!) {\n    resetUserMfa(app: $app, userId: $userId)\n  }\n": typeof types.ResetUserMfaDocument,
    "\n  mutation RevokeUserSession($app: String!, $userId: ID!, $id: ID!) {\n    revokeUserSession(app: $app, userId: $userId, id: $id)\n  }\n": typeof types.RevokeUserSessionDocument,
    "\n  mutation UnlinkIdentity($app: String!, $userId: ID!, $id: ID!) {\n    unlinkUserIdentity(app: $app, userId: $userId, id: $id)\n  }\n": typeof types.UnlinkIdentityDocument,
    "\n  query Webhooks($app: String!, $after: String) {\n    webhooks(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        url\n        events\n        description\n        enabled\n        createdAt\n        previousSecretExpiresAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.WebhooksDocument,
    "\n  query WebhookDeliveries($app: String!, $webhookId: ID!, $status: String, $after: String) {\n    webhookDeliveries(app: $app, webhookId: $webhookId, status: $status, first: 25, after: $after) {\n      nodes {\n        id\n        eventId\n        eventType\n        attempt\n        status\n        responseStatus\n        latencyMs\n        lastError\n        createdAt\n        nextAttemptAt\n        attempts {\n          attempt\n          responseStatus\n          latencyMs\n          error\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.WebhookDeliveriesDocument,
    "\n  mutation CreateWebhook($app: String!, $input: CreateWebhookInput!) {\n    createWebhook(app: $app, input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n": typeof types.CreateWebhookDocument,
    "\n  mutation SetWebhookEnabled($app: String!, $id: ID!, $enabled: Boolean!) {\n    updateWebhook(app: $app, id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n": typeof types.SetWebhookEnabledDocument,
    "\n  mutation RotateWebhookSecret($app: String!, $id: ID!) {\n    rotateWebhookSecret(app: $app, id: $id) {\n      secret\n    }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation DeleteWebhook($app: String!, $id: ID!) {\n    deleteWebhook(app: $app, id: $id)\n  }\n": typeof types.DeleteWebhookDocument,
    "\n  mutation RedeliverWebhook($app: String!, $deliveryId: ID!) {\n    redeliverWebhook(app: $app, deliveryId: $deliveryId) {\n      id\n      status\n    }\n  }\n": typeof types.RedeliverWebhookDocument,
    "\n  mutation SendTestWebhookEvent($app: String!, $id: ID!) {\n    sendTestWebhookEvent(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.SendTestWebhookEventDocument,
};
const documents: Documents = {
    "\n  query MyPermissions {\n    myPermissions {\n      role\n      permissions\n    }\n  }\n": types.MyPermissionsDocument,
    "\n  query AppNames {\n    apps(first: 100) {\n      nodes {\n        name\n        displayName\n      }\n    }\n  }\n": types.AppNamesDocument,
    "\n  query AppsList {\n    apps(first: 100) {\n      nodes {\n        id\n        name\n        displayName\n        issuer\n        createdAt\n      }\n    }\n  }\n": types.AppsListDocument,
    "\n  mutation CreateApp($input: CreateAppInput!) {\n    createApp(input: $input) {\n      name\n    }\n  }\n": types.CreateAppDocument,
    "\n  query AppSettings($app: String!) {\n    app(name: $app) {\n      id\n      name\n      displayName\n      issuer\n      settings {\n        accessTokenTtl\n        refreshTokenTtl\n        signupEnabled\n        passwordMinLength\n        requireVerifiedEmail\n        defaultRole\n        allowedOrigins\n        loginUrl\n        inviteUrlTemplate\n        emailLinkBase\n        signingAlg\n        embedPermissions\n        mfaPolicy\n        branding {\n          productName\n          logoUrl\n          primaryColor\n          backgroundColor\n          customCssUrl\n        }\n      }\n    }\n    roles(app: $app) {\n      name\n    }\n  }\n": types.AppSettingsDocument,
    "\n  mutation UpdateApp($app: String!, $input: UpdateAppInput!) {\n    updateApp(name: $app, input: $input) {\n      name\n      displayName\n      updatedAt\n    }\n  }\n": types.UpdateAppDocument,
    "\n  query AuditLog($app: String!, $filter: AuditLogFilter, $after: String) {\n    auditLog(app: $app, filter: $filter, first: 50, after: $after) {\n      nodes {\n        id\n        action\n        createdAt\n        ip\n        userAgent\n        metadata\n        actor {\n          type\n          id\n        }\n        target {\n          type\n          id\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query Stats($app: String!, $from: DateTime, $to: DateTime) {\n    stats(app: $app, from: $from, to: $to) {\n      from\n      to\n      activeSessions\n      days {\n        day\n        signIns\n        failedSignIns\n      }\n      tokensIssued {\n        grant\n        count\n      }\n      webhooks {\n        succeeded\n        failed\n        pending\n        successRate\n      }\n    }\n  }\n": types.StatsDocument,
    "\n  query SigningKeys($app: String!) {\n    app(name: $app) {\n      id\n      issuer\n      settings {\n        signingAlg\n      }\n      signingKeys {\n        kid\n        alg\n        status\n        createdAt\n        retiredAt\n        publishUntil\n      }\n    }\n  }\n": types.SigningKeysDocument,
    "\n  mutation RotateSigningKey($app: String!) {\n    rotateSigningKey(app: $app) {\n      kid\n      alg\n    }\n  }\n": types.RotateSigningKeyDocument,
    "\n  query ApiKeys($app: String!) {\n    app(name: $app) {\n      id\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          hint\n          createdAt\n          lastUsedAt\n        }\n      }\n    }\n  }\n": types.ApiKeysDocument,
    "\n  mutation CreateApiKey($app: String!, $name: String) {\n    createApiKey(app: $app, name: $name) {\n      key\n      apiKey {\n        id\n        name\n      }\n    }\n  }\n": types.CreateApiKeyDocument,
    "\n  mutation RevokeApiKey($app: String!, $id: ID!) {\n    revokeApiKey(app: $app, id: $id)\n  }\n": types.RevokeApiKeyDocument,
    "\n  query M2mClients($app: String!, $after: String) {\n    m2mClients(app: $app, first: 50, after: $after) {\n      nodes {\n        clientId\n        name\n        scopes\n        createdAt\n        lastUsedAt\n        previousSecretExpiresAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.M2mClientsDocument,
    "\n  mutation CreateM2mClient($app: String!, $input: CreateM2mClientInput!) {\n    createM2mClient(app: $app, input: $input) {\n      clientSecret\n      client {\n        clientId\n        name\n      }\n    }\n  }\n": types.CreateM2mClientDocument,
    "\n  mutation RotateM2mSecret($app: String!, $clientId: String!, $grace: Int) {\n    rotateM2mClientSecret(app: $app, clientId: $clientId, gracePeriodSeconds: $grace) {\n      clientSecret\n      client {\n        clientId\n        previousSecretExpiresAt\n      }\n    }\n  }\n": types.RotateM2mSecretDocument,
    "\n  mutation DeleteM2mClient($app: String!, $clientId: String!) {\n    deleteM2mClient(app: $app, clientId: $clientId)\n  }\n": types.DeleteM2mClientDocument,
    "\n  query OauthClients($app: String!, $after: String) {\n    oauthClients(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        name\n        clientType\n        isFirstParty\n        isActive\n        redirectUris\n        allowedScopes\n        createdAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.OauthClientsDocument,
    "\n  query OauthScopes {\n    oauthScopes {\n      name\n      description\n    }\n  }\n": types.OauthScopesDocument,
    "\n  mutation CreateOauthClient($app: String!, $input: CreateOAuthClientInput!) {\n    createOauthClient(app: $app, input: $input) {\n      clientSecret\n      client {\n        id\n        name\n      }\n    }\n  }\n": types.CreateOauthClientDocument,
    "\n  mutation RegenerateOauthSecret($app: String!, $id: ID!) {\n    regenerateOauthClientSecret(app: $app, id: $id) {\n      success\n      clientSecret\n      error\n    }\n  }\n": types.RegenerateOauthSecretDocument,
    "\n  mutation DeleteOauthClient($app: String!, $id: ID!) {\n    deleteOauthClient(app: $app, id: $id) {\n      success\n      error\n    }\n  }\n": types.DeleteOauthClientDocument,
    "\n  query Roles($app: String!) {\n    roles(app: $app) {\n      name\n      displayName\n      description\n      permissions\n      isSystem\n    }\n  }\n": types.RolesDocument,
    "\n  mutation SyncRoles($app: String!, $input: SyncRolesInput!, $dryRun: Boolean) {\n    syncRoles(app: $app, input: $input, dryRun: $dryRun) {\n      dryRun\n      created\n      deleted\n      unchanged\n      updated {\n        name\n        added\n        removed\n      }\n    }\n  }\n": types.SyncRolesDocument,
    "\n  query Tenants($app: String!, $after: String) {\n    tenants(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        slug\n        name\n        createdAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.TenantsDocument,
    "\n  query Tenant($app: String!, $id: ID!) {\n    tenant(app: $app, id: $id) {\n      id\n      slug\n      name\n      requireMfa\n      members {\n        role\n        createdAt\n        user {\n          id\n          email\n        }\n      }\n    }\n    roles(app: $app) {\n      name\n    }\n  }\n": types.TenantDocument,
    "\n  query FindUserByEmail($app: String!, $email: String!) {\n    users(app: $app, filter: { email: $email }, first: 1) {\n      nodes {\n        id\n        email\n      }\n    }\n  }\n": types.FindUserByEmailDocument,
    "\n  mutation CreateTenant($app: String!, $input: TenantInput!) {\n    createTenant(app: $app, input: $input) {\n      id\n    }\n  }\n": types.CreateTenantDocument,
    "\n  mutation AddTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {\n    addTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {\n      role\n    }\n  }\n": types.AddTenantMemberDocument,
    "\n  mutation UpdateTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {\n    updateTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {\n      role\n    }\n  }\n": types.UpdateTenantMemberDocument,
    "\n  mutation SetTenantRequireMfa($app: String!, $id: ID!, $requireMfa: Boolean!) {\n    updateTenant(app: $app, id: $id, input: { requireMfa: $requireMfa }) {\n      id\n      requireMfa\n    }\n  }\n": types.SetTenantRequireMfaDocument,
    "\n  mutation RemoveTenantMember($app: String!, $tenantId: ID!, $userId: ID!) {\n    removeTenantMember(app: $app, tenantId: $tenantId, userId: $userId)\n  }\n": types.RemoveTenantMemberDocument,
    "\n  query Users($app: String!, $filter: UserFilterInput, $after: String) {\n    users(app: $app, filter: $filter, first: 25, after: $after) {\n      nodes {\n        id\n        email\n        displayName\n        status\n        emailVerified\n        createdAt\n        lastSignInAt\n        role {\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.UsersDocument,
    "\n  mutation CreateUser($app: String!, $input: CreateUserInput!) {\n    createUser(app: $app, input: $input) {\n      id\n      email\n    }\n  }\n": types.CreateUserDocument,
    "\n  query User($app: String!, $id: ID!) {\n    user(app: $app, id: $id) {\n      id\n      email\n      emailVerified\n      displayName\n      status\n      createdAt\n      updatedAt\n      lastSignInAt\n      permissions\n      role {\n        name\n      }\n      tenants {\n        role\n        tenant {\n          id\n          name\n        }\n      }\n      sessions {\n        id\n        userAgent\n        ip\n        createdAt\n        lastUsedAt\n        expiresAt\n      }\n    }\n    userIdentities(app: $app, userId: $id) {\n      id\n      provider\n      subject\n      email\n      createdAt\n      lastUsedAt\n    }\n    userMfaFactors(app: $app, userId: $id) {\n      recoveryCodesRemaining\n      factors {\n        id\n        type\n        name\n        createdAt\n        lastUsedAt\n      }\n    }\n  }\n": types.UserDocument,
    "\n  query RoleNames($app: String!) {\n    roles(app: $app) {\n      name\n    }\n  }\n": types.RoleNamesDocument,
    "\n  query TenantNames($app: String!) {\n    tenants(app: $app, first: 100) {\n      nodes {\n        id\n        name\n      }\n    }\n  }\n": types.TenantNamesDocument,
    "\n  mutation SetUserRole($app: String!, $id: ID!, $role: String!) {\n    updateUser(app: $app, id: $id, input: { role: $role }) {\n      id\n      role {\n        name\n      }\n    }\n  }\n": types.SetUserRoleDocument,
    "\n  mutation DeactivateUser($app: String!, $id: ID!) {\n    deactivateUser(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n": types.DeactivateUserDocument,
    "\n  mutation ReactivateUser($app: String!, $id: ID!) {\n    reactivateUser(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n": types.ReactivateUserDocument,
    "\n  mutation RevokeUserSessions($app: String!, $id: ID!) {\n    revokeUserSessions(app: $app, id: $id)\n  }\n": types.RevokeUserSessionsDocument,
    "\n  mutation ResetUserMfa($app: String!, $userId: ID!) {\n    resetUserMfa(app: $app, userId: $userId)\n  }\n": types.ResetUserMfaDocument,
    "\n  mutation RevokeUserSession($app: String!, $userId: ID!, $id: ID!) {\n    revokeUserSession(app: $app, userId: $userId, id: $id)\n  }\n": types.RevokeUserSessionDocument,
    "\n  mutation UnlinkIdentity($app: String!, $userId: ID!, $id: ID!) {\n    unlinkUserIdentity(app: $app, userId: $userId, id: $id)\n  }\n": types.UnlinkIdentityDocument,
    "\n  query Webhooks($app: String!, $after: String) {\n    webhooks(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        url\n        events\n        description\n        enabled\n        createdAt\n        previousSecretExpiresAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.WebhooksDocument,
    "\n  query WebhookDeliveries($app: String!, $webhookId: ID!, $status: String, $after: String) {\n    webhookDeliveries(app: $app, webhookId: $webhookId, status: $status, first: 25, after: $after) {\n      nodes {\n        id\n        eventId\n        eventType\n        attempt\n        status\n        responseStatus\n        latencyMs\n        lastError\n        createdAt\n        nextAttemptAt\n        attempts {\n          attempt\n          responseStatus\n          latencyMs\n          error\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.WebhookDeliveriesDocument,
    "\n  mutation CreateWebhook($app: String!, $input: CreateWebhookInput!) {\n    createWebhook(app: $app, input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n": types.CreateWebhookDocument,
    "\n  mutation SetWebhookEnabled($app: String!, $id: ID!, $enabled: Boolean!) {\n    updateWebhook(app: $app, id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n": types.SetWebhookEnabledDocument,
    "\n  mutation RotateWebhookSecret($app: String!, $id: ID!) {\n    rotateWebhookSecret(app: $app, id: $id) {\n      secret\n    }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation DeleteWebhook($app: String!, $id: ID!) {\n    deleteWebhook(app: $app, id: $id)\n  }\n": types.DeleteWebhookDocument,
    "\n  mutation RedeliverWebhook($app: String!, $deliveryId: ID!) {\n    redeliverWebhook(app: $app, deliveryId: $deliveryId) {\n      id\n      status\n    }\n  }\n": types.RedeliverWebhookDocument,
    "\n  mutation SendTestWebhookEvent($app: String!, $id: ID!) {\n    sendTestWebhookEvent(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n": types.SendTestWebhookEventDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyPermissions {\n    myPermissions {\n      role\n      permissions\n    }\n  }\n"): typeof import('./graphql').MyPermissionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AppNames {\n    apps(first: 100) {\n      nodes {\n        name\n        displayName\n      }\n    }\n  }\n"): typeof import('./graphql').AppNamesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AppsList {\n    apps(first: 100) {\n      nodes {\n        id\n        name\n        displayName\n        issuer\n        createdAt\n      }\n    }\n  }\n"): typeof import('./graphql').AppsListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApp($input: CreateAppInput!) {\n    createApp(input: $input) {\n      name\n    }\n  }\n"): typeof import('./graphql').CreateAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AppSettings($app: String!) {\n    app(name: $app) {\n      id\n      name\n      displayName\n      issuer\n      settings {\n        accessTokenTtl\n        refreshTokenTtl\n        signupEnabled\n        passwordMinLength\n        requireVerifiedEmail\n        defaultRole\n        allowedOrigins\n        loginUrl\n        inviteUrlTemplate\n        emailLinkBase\n        signingAlg\n        embedPermissions\n        mfaPolicy\n        branding {\n          productName\n          logoUrl\n          primaryColor\n          backgroundColor\n          customCssUrl\n        }\n      }\n    }\n    roles(app: $app) {\n      name\n    }\n  }\n"): typeof import('./graphql').AppSettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateApp($app: String!, $input: UpdateAppInput!) {\n    updateApp(name: $app, input: $input) {\n      name\n      displayName\n      updatedAt\n    }\n  }\n"): typeof import('./graphql').UpdateAppDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($app: String!, $filter: AuditLogFilter, $after: String) {\n    auditLog(app: $app, filter: $filter, first: 50, after: $after) {\n      nodes {\n        id\n        action\n        createdAt\n        ip\n        userAgent\n        metadata\n        actor {\n          type\n          id\n        }\n        target {\n          type\n          id\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').AuditLogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Stats($app: String!, $from: DateTime, $to: DateTime) {\n    stats(app: $app, from: $from, to: $to) {\n      from\n      to\n      activeSessions\n      days {\n        day\n        signIns\n        failedSignIns\n      }\n      tokensIssued {\n        grant\n        count\n      }\n      webhooks {\n        succeeded\n        failed\n        pending\n        successRate\n      }\n    }\n  }\n"): typeof import('./graphql').StatsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SigningKeys($app: String!) {\n    app(name: $app) {\n      id\n      issuer\n      settings {\n        signingAlg\n      }\n      signingKeys {\n        kid\n        alg\n        status\n        createdAt\n        retiredAt\n        publishUntil\n      }\n    }\n  }\n"): typeof import('./graphql').SigningKeysDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateSigningKey($app: String!) {\n    rotateSigningKey(app: $app) {\n      kid\n      alg\n    }\n  }\n"): typeof import('./graphql').RotateSigningKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApiKeys($app: String!) {\n    app(name: $app) {\n      id\n      apiKeys(first: 100) {\n        nodes {\n          id\n          name\n          hint\n          createdAt\n          lastUsedAt\n        }\n      }\n    }\n  }\n"): typeof import('./graphql').ApiKeysDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateApiKey($app: String!, $name: String) {\n    createApiKey(app: $app, name: $name) {\n      key\n      apiKey {\n        id\n        name\n      }\n    }\n  }\n"): typeof import('./graphql').CreateApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeApiKey($app: String!, $id: ID!) {\n    revokeApiKey(app: $app, id: $id)\n  }\n"): typeof import('./graphql').RevokeApiKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query M2mClients($app: String!, $after: String) {\n    m2mClients(app: $app, first: 50, after: $after) {\n      nodes {\n        clientId\n        name\n        scopes\n        createdAt\n        lastUsedAt\n        previousSecretExpiresAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').M2mClientsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateM2mClient($app: String!, $input: CreateM2mClientInput!) {\n    createM2mClient(app: $app, input: $input) {\n      clientSecret\n      client {\n        clientId\n        name\n      }\n    }\n  }\n"): typeof import('./graphql').CreateM2mClientDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateM2mSecret($app: String!, $clientId: String!, $grace: Int) {\n    rotateM2mClientSecret(app: $app, clientId: $clientId, gracePeriodSeconds: $grace) {\n      clientSecret\n      client {\n        clientId\n        previousSecretExpiresAt\n      }\n    }\n  }\n"): typeof import('./graphql').RotateM2mSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteM2mClient($app: String!, $clientId: String!) {\n    deleteM2mClient(app: $app, clientId: $clientId)\n  }\n"): typeof import('./graphql').DeleteM2mClientDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OauthClients($app: String!, $after: String) {\n    oauthClients(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        name\n        clientType\n        isFirstParty\n        isActive\n        redirectUris\n        allowedScopes\n        createdAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').OauthClientsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OauthScopes {\n    oauthScopes {\n      name\n      description\n    }\n  }\n"): typeof import('./graphql').OauthScopesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateOauthClient($app: String!, $input: CreateOAuthClientInput!) {\n    createOauthClient(app: $app, input: $input) {\n      clientSecret\n      client {\n        id\n        name\n      }\n    }\n  }\n"): typeof import('./graphql').CreateOauthClientDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RegenerateOauthSecret($app: String!, $id: ID!) {\n    regenerateOauthClientSecret(app: $app, id: $id) {\n      success\n      clientSecret\n      error\n    }\n  }\n"): typeof import('./graphql').RegenerateOauthSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteOauthClient($app: String!, $id: ID!) {\n    deleteOauthClient(app: $app, id: $id) {\n      success\n      error\n    }\n  }\n"): typeof import('./graphql').DeleteOauthClientDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Roles($app: String!) {\n    roles(app: $app) {\n      name\n      displayName\n      description\n      permissions\n      isSystem\n    }\n  }\n"): typeof import('./graphql').RolesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SyncRoles($app: String!, $input: SyncRolesInput!, $dryRun: Boolean) {\n    syncRoles(app: $app, input: $input, dryRun: $dryRun) {\n      dryRun\n      created\n      deleted\n      unchanged\n      updated {\n        name\n        added\n        removed\n      }\n    }\n  }\n"): typeof import('./graphql').SyncRolesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Tenants($app: String!, $after: String) {\n    tenants(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        slug\n        name\n        createdAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').TenantsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Tenant($app: String!, $id: ID!) {\n    tenant(app: $app, id: $id) {\n      id\n      slug\n      name\n      requireMfa\n      members {\n        role\n        createdAt\n        user {\n          id\n          email\n        }\n      }\n    }\n    roles(app: $app) {\n      name\n    }\n  }\n"): typeof import('./graphql').TenantDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query FindUserByEmail($app: String!, $email: String!) {\n    users(app: $app, filter: { email: $email }, first: 1) {\n      nodes {\n        id\n        email\n      }\n    }\n  }\n"): typeof import('./graphql').FindUserByEmailDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTenant($app: String!, $input: TenantInput!) {\n    createTenant(app: $app, input: $input) {\n      id\n    }\n  }\n"): typeof import('./graphql').CreateTenantDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {\n    addTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {\n      role\n    }\n  }\n"): typeof import('./graphql').AddTenantMemberDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTenantMember($app: String!, $tenantId: ID!, $userId: ID!, $role: String!) {\n    updateTenantMember(app: $app, tenantId: $tenantId, userId: $userId, role: $role) {\n      role\n    }\n  }\n"): typeof import('./graphql').UpdateTenantMemberDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTenantRequireMfa($app: String!, $id: ID!, $requireMfa: Boolean!) {\n    updateTenant(app: $app, id: $id, input: { requireMfa: $requireMfa }) {\n      id\n      requireMfa\n    }\n  }\n"): typeof import('./graphql').SetTenantRequireMfaDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveTenantMember($app: String!, $tenantId: ID!, $userId: ID!) {\n    removeTenantMember(app: $app, tenantId: $tenantId, userId: $userId)\n  }\n"): typeof import('./graphql').RemoveTenantMemberDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($app: String!, $filter: UserFilterInput, $after: String) {\n    users(app: $app, filter: $filter, first: 25, after: $after) {\n      nodes {\n        id\n        email\n        displayName\n        status\n        emailVerified\n        createdAt\n        lastSignInAt\n        role {\n          name\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').UsersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateUser($app: String!, $input: CreateUserInput!) {\n    createUser(app: $app, input: $input) {\n      id\n      email\n    }\n  }\n"): typeof import('./graphql').CreateUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query User($app: String!, $id: ID!) {\n    user(app: $app, id: $id) {\n      id\n      email\n      emailVerified\n      displayName\n      status\n      createdAt\n      updatedAt\n      lastSignInAt\n      permissions\n      role {\n        name\n      }\n      tenants {\n        role\n        tenant {\n          id\n          name\n        }\n      }\n      sessions {\n        id\n        userAgent\n        ip\n        createdAt\n        lastUsedAt\n        expiresAt\n      }\n    }\n    userIdentities(app: $app, userId: $id) {\n      id\n      provider\n      subject\n      email\n      createdAt\n      lastUsedAt\n    }\n    userMfaFactors(app: $app, userId: $id) {\n      recoveryCodesRemaining\n      factors {\n        id\n        type\n        name\n        createdAt\n        lastUsedAt\n      }\n    }\n  }\n"): typeof import('./graphql').UserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RoleNames($app: String!) {\n    roles(app: $app) {\n      name\n    }\n  }\n"): typeof import('./graphql').RoleNamesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TenantNames($app: String!) {\n    tenants(app: $app, first: 100) {\n      nodes {\n        id\n        name\n      }\n    }\n  }\n"): typeof import('./graphql').TenantNamesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetUserRole($app: String!, $id: ID!, $role: String!) {\n    updateUser(app: $app, id: $id, input: { role: $role }) {\n      id\n      role {\n        name\n      }\n    }\n  }\n"): typeof import('./graphql').SetUserRoleDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeactivateUser($app: String!, $id: ID!) {\n    deactivateUser(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql').DeactivateUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReactivateUser($app: String!, $id: ID!) {\n    reactivateUser(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql').ReactivateUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeUserSessions($app: String!, $id: ID!) {\n    revokeUserSessions(app: $app, id: $id)\n  }\n"): typeof import('./graphql').RevokeUserSessionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetUserMfa($app: String!, $userId: ID!) {\n    resetUserMfa(app: $app, userId: $userId)\n  }\n"): typeof import('./graphql').ResetUserMfaDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeUserSession($app: String!, $userId: ID!, $id: ID!) {\n    revokeUserSession(app: $app, userId: $userId, id: $id)\n  }\n"): typeof import('./graphql').RevokeUserSessionDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnlinkIdentity($app: String!, $userId: ID!, $id: ID!) {\n    unlinkUserIdentity(app: $app, userId: $userId, id: $id)\n  }\n"): typeof import('./graphql').UnlinkIdentityDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Webhooks($app: String!, $after: String) {\n    webhooks(app: $app, first: 50, after: $after) {\n      nodes {\n        id\n        url\n        events\n        description\n        enabled\n        createdAt\n        previousSecretExpiresAt\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').WebhooksDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookDeliveries($app: String!, $webhookId: ID!, $status: String, $after: String) {\n    webhookDeliveries(app: $app, webhookId: $webhookId, status: $status, first: 25, after: $after) {\n      nodes {\n        id\n        eventId\n        eventType\n        attempt\n        status\n        responseStatus\n        latencyMs\n        lastError\n        createdAt\n        nextAttemptAt\n        attempts {\n          attempt\n          responseStatus\n          latencyMs\n          error\n          createdAt\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql').WebhookDeliveriesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhook($app: String!, $input: CreateWebhookInput!) {\n    createWebhook(app: $app, input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n"): typeof import('./graphql').CreateWebhookDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWebhookEnabled($app: String!, $id: ID!, $enabled: Boolean!) {\n    updateWebhook(app: $app, id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n"): typeof import('./graphql').SetWebhookEnabledDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($app: String!, $id: ID!) {\n    rotateWebhookSecret(app: $app, id: $id) {\n      secret\n    }\n  }\n"): typeof import('./graphql').RotateWebhookSecretDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhook($app: String!, $id: ID!) {\n    deleteWebhook(app: $app, id: $id)\n  }\n"): typeof import('./graphql').DeleteWebhookDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RedeliverWebhook($app: String!, $deliveryId: ID!) {\n    redeliverWebhook(app: $app, deliveryId: $deliveryId) {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql').RedeliverWebhookDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendTestWebhookEvent($app: String!, $id: ID!) {\n    sendTestWebhookEvent(app: $app, id: $id) {\n      id\n      status\n    }\n  }\n"): typeof import('./graphql').SendTestWebhookEventDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
