// AskPro Cal.com webhook gateway: everything it needs in one empty resource group.
// Flex Consumption app with a user-assigned identity, identity-only storage, the webhook secret(s) in Key Vault,
// telemetry with local auth off, and the alerts the service needs. No keys in app settings, no secrets in the repo.
// Setting and resource names below are read by the app: AskPro.Functions.IntegrationTests/Infra checks that they agree.
targetScope = 'resourceGroup'

metadata description = 'AskPro Cal.com webhook gateway on Azure Functions Flex Consumption'

@description('Name of the environment (dev, prod, ...): part of every resource name and the azd-env-name tag.')
@minLength(1)
@maxLength(20)
param environmentName string

@description('Region for every resource. It must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Memory of each instance in MB. CPU and network scale with it.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Upper bound on instances the app scales out to (caps cost and the load on storage).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Always-ready instances for the HTTP function (0 = scale from zero). Cal.com never retries a delivery, so production should keep 1 warm.')
@minValue(0)
@maxValue(10)
param alwaysReadyInstances int = 0

@description('Cal.com API v2 key for reconciliation, written to Key Vault. Leave empty to keep the one there; with enableReconciliation false the app gets no key (reconciliation off).')
@secure()
param calcomApiKey string = ''

@description('Reference the Cal.com API key from Key Vault (set it first: an unresolved reference stops the app at start).')
param enableReconciliation bool = false

@description('NCRONTAB schedule of the reconciliation timer (six fields).')
param reconciliationSchedule string = '0 */10 * * * *'

@description('Cal.com webhook secret, written to Key Vault. Leave empty to keep the one already there (set it with az keyvault secret set).')
@secure()
param calcomWebhookSecret string = ''

@description('Also read a second secret (Key Vault secret calcom-webhook-secret-2) for rotation or a second Cal.com registration. Turn on only once that secret exists.')
param enableSecondWebhookSecret bool = false

@description('Largest webhook body accepted, in bytes (CalcomWebhook__MaxBodyBytes).')
@minValue(1024)
@maxValue(16777216)
param maxBodyBytes int = 1048576

@description('Days a claim-check webhook body is kept in blob storage before the lifecycle rule deletes it.')
@minValue(1)
@maxValue(365)
param bodyRetentionDays int = 30

@description('Days a deleted Key Vault (and its secrets) can be recovered; purge protection keeps it for this long.')
@minValue(7)
@maxValue(90)
param keyVaultRetentionDays int = 90

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Object id of the person or pipeline that deploys: granted Key Vault Secrets Officer to set the webhook secret. Empty = grant nothing.')
param deployerPrincipalId string = ''

@description('Kind of principal deployerPrincipalId is.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param deployerPrincipalType string = 'User'

@description('Object id of the person, group or pipeline that onboards practices (tools/tenant.sh): granted Key Vault Secrets Officer on the tenant vault and Storage Table Data Contributor on the Tenants table. The deployer gets the same. Empty = nobody beyond the deployer.')
param tenantAdminPrincipalId string = ''

@description('Kind of principal tenantAdminPrincipalId is.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param tenantAdminPrincipalType string = 'ServicePrincipal'

@description('How often the app re-reads the tenant registry (TenantRegistry__RefreshInterval, hh:mm:ss; the app accepts 1 s to 1 min). A tenant added, rotated or disabled takes effect within this time.')
@allowed(['00:00:10', '00:00:15', '00:00:30', '00:01:00'])
param tenantRefreshInterval string = '00:00:30'

@description('E-mail address that receives the alerts. Empty = alerts fire in the portal only.')
param alertEmail string = ''

@description('Failed invocations or 5xx responses in 15 minutes that raise the failure alert.')
@minValue(1)
param failureAlertThreshold int = 3

@description('Alert when an accepted delivery still waits to be applied after this many minutes (transient storage failures being retried).')
@minValue(5)
param queueAgeAlertMinutes int = 30

@description('Alert when no webhook was accepted for this many hours during business hours. 0 = off.')
@minValue(0)
@maxValue(48)
param noWebhookAlertHours int = 0

@description('Business hours for the no-webhook alert, UTC, Monday to Friday: first hour (inclusive).')
@minValue(0)
@maxValue(23)
param businessHoursStartUtc int = 7

@description('Business hours for the no-webhook alert, UTC, Monday to Friday: last hour (exclusive).')
@minValue(1)
@maxValue(24)
param businessHoursEndUtc int = 17

// ---------------------------------------------------------------------------------------------------------------
// Names. Fixed ones are the app's constants (AskPro.Functions/Storage/StorageNames.cs, StorageOptions.cs).
// ---------------------------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName, app: 'askpro-calcom-gateway' }

var webhookQueueName = 'calcom-webhooks'
var webhookPoisonQueueName = '${webhookQueueName}-poison'
var deadLetterQueueName = '${webhookQueueName}-deadletter'
var seriesLookupQueueName = '${webhookQueueName}-series'
var seriesLookupPoisonQueueName = '${seriesLookupQueueName}-poison'
// One message per tenant with an API key per reconciliation run (the timer fans out); messages never expire.
var reconciliationQueueName = 'calcom-reconciliation'
var reconciliationPoisonQueueName = '${reconciliationQueueName}-poison'
var bodyContainerName = 'calcom-webhook-bodies'
var deadLetterContainerName = 'calcom-dead-letters'
var appointmentsTableName = 'Appointments'
// The tenant registry (PartitionKey tenant, RowKey = tenant id): no secret values, only their Key Vault names.
var tenantsTableName = 'Tenants'
var deploymentContainerName = 'app-package'
var webhookRoute = 'webhooks/calcom'
var webhookSecretName = 'calcom-webhook-secret'
var calcomApiKeySecretName = 'calcom-api-key'
var secondWebhookSecretName = 'calcom-webhook-secret-2'

// The host's own containers (locks, keys): created here because the app's roles are scoped to containers, and a
// container-scoped role cannot create a container.
var hostContainerNames = ['azure-webjobs-hosts', 'azure-webjobs-secrets']

var roles = {
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// Who may onboard practices (write registry entries and tenant secrets): the deployer and the optional tenant admin
// (once, when both are the same principal: two assignments of one role to one principal would collide).
var tenantAdmins = filter(
  [
    { id: deployerPrincipalId, type: deployerPrincipalType }
    { id: tenantAdminPrincipalId == deployerPrincipalId ? '' : tenantAdminPrincipalId, type: tenantAdminPrincipalType }
  ],
  admin => !empty(admin.id)
)

// ---------------------------------------------------------------------------------------------------------------
// Identity: one user-assigned identity for storage, Key Vault references and telemetry.
// ---------------------------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-askpro-${resourceToken}'
  location: location
  tags: tags
}

// Flex reads (and one-deploy writes) the deployment package with an identity that needs Blob Data Contributor on its
// container. A second identity holds that role, so the one the app's code and connections use cannot change the code.
resource deployIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-askpro-deploy-${resourceToken}'
  location: location
  tags: tags
}

// ---------------------------------------------------------------------------------------------------------------
// Storage: host storage, the webhook queue, claim-check bodies, appointments and the Flex deployment package.
// ---------------------------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Identity only: no account key can be used, so none can leak.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }

    resource bodyContainer 'containers' = {
      name: bodyContainerName
      properties: { publicAccess: 'None' }
    }

    resource hostContainers 'containers' = [
      for name in hostContainerNames: {
        name: name
        properties: { publicAccess: 'None' }
      }
    ]

    // Dead letters too large for a queue message and copies of their bodies: no lifecycle rule, they wait for an operator.
    resource deadLetterContainer 'containers' = {
      name: deadLetterContainerName
      properties: { publicAccess: 'None' }
    }
  }

  resource queueService 'queueServices' = {
    name: 'default'

    resource webhookQueue 'queues' = {
      name: webhookQueueName
    }

    // The host's poison queue: only a backstop (the processor dead-letters itself), but it must exist for the alert.
    resource webhookPoisonQueue 'queues' = {
      name: webhookPoisonQueueName
    }

    // Messages the processor gave up on, with the reason; they never expire.
    resource deadLetterQueue 'queues' = {
      name: deadLetterQueueName
    }

    // Series look-ups (Cal.com API reads after a series-wide change), off the apply path; messages never expire.
    resource seriesLookupQueue 'queues' = {
      name: seriesLookupQueueName
    }

    // Its host poison queue: never reached (maxDequeueCount in host.json), but declared for the alert and the role.
    resource seriesLookupPoisonQueue 'queues' = {
      name: seriesLookupPoisonQueueName
    }

    // Reconciliation fan-out: one message per tenant pass, so tenants reconcile in parallel across instances.
    resource reconciliationQueue 'queues' = {
      name: reconciliationQueueName
    }

    // Its host poison queue: a pass that failed every dequeue lands here (watched by the dead-letter alert).
    resource reconciliationPoisonQueue 'queues' = {
      name: reconciliationPoisonQueueName
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource appointmentsTable 'tables' = {
      name: appointmentsTableName
    }

    resource tenantsTable 'tables' = {
      name: tenantsTableName
    }
  }

  // Bodies are only needed until the queue message is applied; the margin leaves time to replay poison messages.
  resource lifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'expire-webhook-bodies'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: {
                blobTypes: ['blockBlob']
                prefixMatch: ['${bodyContainerName}/']
              }
              actions: {
                baseBlob: { delete: { daysAfterModificationGreaterThan: bodyRetentionDays } }
              }
            }
          }
        ]
      }
    }
  }
}

// Data roles at the narrowest scope that works: each queue, the table, each container the app uses; nothing on the
// account, and nothing on the deployment-package container (see deployIdentity).
resource webhookQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::webhookQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::webhookQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource poisonQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::webhookPoisonQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::webhookPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource deadLetterQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::deadLetterQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::deadLetterQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource seriesLookupQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::seriesLookupQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::seriesLookupQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource seriesLookupPoisonQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::seriesLookupPoisonQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::seriesLookupPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource reconciliationQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::reconciliationQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::reconciliationQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource reconciliationPoisonQueueRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::reconciliationPoisonQueue.id, identity.id, roles.storageQueueDataContributor)
  scope: storage::queueService::reconciliationPoisonQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The app reads the registry (onboarding, tools/tenant.sh, writes it), but its table client creates the table on first
// use, which Table Data Reader cannot; entries hold no secret values, and the tenant vault stays read-only for the app.
resource tenantsTableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::tableService::tenantsTable.id, identity.id, roles.storageTableDataContributor)
  scope: storage::tableService::tenantsTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tenantsTableAdmins 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for admin in tenantAdmins: {
    name: guid(storage::tableService::tenantsTable.id, admin.id, roles.storageTableDataContributor)
    scope: storage::tableService::tenantsTable
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
      principalId: admin.id
      principalType: admin.type
    }
  }
]

resource tableRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::tableService::appointmentsTable.id, identity.id, roles.storageTableDataContributor)
  scope: storage::tableService::appointmentsTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource bodyContainerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::bodyContainer.id, identity.id, roles.storageBlobDataContributor)
  scope: storage::blobService::bodyContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource deadLetterContainerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetterContainer.id, identity.id, roles.storageBlobDataContributor)
  scope: storage::blobService::deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource hostContainerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in hostContainerNames: {
    name: guid(storage::blobService::hostContainers[i].id, identity.id, roles.storageBlobDataContributor)
    scope: storage::blobService::hostContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource deploymentContainerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deploymentContainer.id, deployIdentity.id, roles.storageBlobDataContributor)
  scope: storage::blobService::deploymentContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: deployIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Key Vault: the Cal.com webhook secret(s), read by the app through Key Vault references.
// ---------------------------------------------------------------------------------------------------------------

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-askpro-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: keyVaultRetentionDays
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

// Written only when given: a redeploy without the parameter keeps the secret set earlier.
resource webhookSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(calcomWebhookSecret)) {
  parent: vault
  name: webhookSecretName
  properties: {
    value: calcomWebhookSecret
    contentType: 'Cal.com webhook signing secret'
  }
}

resource calcomApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(calcomApiKey)) {
  parent: vault
  name: calcomApiKeySecretName
  properties: {
    value: calcomApiKey
    contentType: 'Cal.com API v2 key (reconciliation)'
  }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultDeployer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tenant vault: registered practices' webhook secrets and Cal.com API keys (tenant-{id}-webhook-{n},
// tenant-{id}-calcom-api-key), apart from the service's own secrets: onboarding may write here and nowhere else, and
// the app may only read (docs/tenants.md#secrets-and-who-may-touch-them).
// ---------------------------------------------------------------------------------------------------------------

resource tenantVault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kvt-askpro-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: keyVaultRetentionDays
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource tenantVaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(tenantVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: tenantVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource tenantVaultAdmins 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for admin in tenantAdmins: {
    name: guid(tenantVault.id, admin.id, roles.keyVaultSecretsOfficer)
    scope: tenantVault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
      principalId: admin.id
      principalType: admin.type
    }
  }
]

// ---------------------------------------------------------------------------------------------------------------
// Monitoring: Log Analytics, Application Insights with Entra-only ingestion.
// ---------------------------------------------------------------------------------------------------------------

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-askpro-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-askpro-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Telemetry is accepted only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING), never the key alone.
    DisableLocalAuth: true
  }
}

resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Queue writes (PutMessage) go to Log Analytics so the poison-queue alert sees every message that lands there.
resource queueWriteLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'queue-writes'
  scope: storage::queueService
  properties: {
    workspaceId: logs.id
    logs: [{ category: 'StorageWrite', enabled: true }]
  }
}

// Blob writes and deletes (claim checks, dead letters, markers: names are hashes and ids, never personal data) and
// every Key Vault access (who read or changed a secret). Table request logs are deliberately off: their URIs carry the
// uid row keys (uid_{uid}), and a uid is a bearer token; table health is watched through metrics.
resource blobLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'blob-writes'
  scope: storage::blobService
  properties: {
    workspaceId: logs.id
    logs: [{ category: 'StorageWrite', enabled: true }, { category: 'StorageDelete', enabled: true }]
  }
}

resource tableMetrics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'table-metrics'
  scope: storage::tableService
  properties: {
    workspaceId: logs.id
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource vaultAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'vault-audit'
  scope: vault
  properties: {
    workspaceId: logs.id
    logs: [{ category: 'AuditEvent', enabled: true }]
  }
}

resource tenantVaultAudit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'vault-audit'
  scope: tenantVault
  properties: {
    workspaceId: logs.id
    logs: [{ category: 'AuditEvent', enabled: true }]
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Function app: Flex Consumption, .NET 10 isolated, identity-based connections only.
// ---------------------------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-askpro-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-askpro-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {}, '${deployIdentity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: { minTlsVersion: '1.2' }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: deployIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // 'http' is the group of every HTTP-triggered function: here only CalcomWebhook.
        alwaysReady: alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []
      }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
  }

  // Deployments authenticate with Entra ID (az, func, azd all do); publishing passwords stay off.
  resource scmBasicAuth 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: { allow: false }
  }

  resource ftpBasicAuth 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: { allow: false }
  }
}

// Versionless references: the app picks up a new secret version on restart (or within a day) without a redeploy.
var keyVaultReference = '@Microsoft.KeyVault(VaultName=${vault.name};SecretName={0})'

// Every setting the app reads at start (AskPro.Functions/Hosting/ServiceCollectionExtensions.cs). Flex takes the
// runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are not set here.
var baseAppSettings = {
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  CalcomWebhook__Secrets__0: format(keyVaultReference, webhookSecretName)
  CalcomWebhook__MaxBodyBytes: string(maxBodyBytes)
  Appointments__TableName: appointmentsTableName
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  ReconciliationSchedule: reconciliationSchedule
  Calcom__ApiKey: enableReconciliation ? format(keyVaultReference, calcomApiKeySecretName) : ''
  // Registered practices: read from the Tenants table, their secrets from the tenant vault with the app's identity.
  TenantRegistry__Enabled: 'true'
  TenantRegistry__KeyVaultUri: tenantVault.properties.vaultUri
  TenantRegistry__RefreshInterval: tenantRefreshInterval
}

// An unresolved Key Vault reference reaches the app as its literal text, so the second secret is referenced only
// when asked for (after it has been set in the vault).
var secondSecretSetting = enableSecondWebhookSecret
  ? { CalcomWebhook__Secrets__1: format(keyVaultReference, secondWebhookSecretName) }
  : {}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(baseAppSettings, secondSecretSetting)
  // The app starts reading storage and Key Vault as soon as its settings exist: grant access first.
  dependsOn: [
    webhookQueueRole
    poisonQueueRole
    seriesLookupQueueRole
    seriesLookupPoisonQueueRole
    reconciliationQueueRole
    reconciliationPoisonQueueRole
    deadLetterQueueRole
    tableRole
    tenantsTableRole
    bodyContainerRole
    deadLetterContainerRole
    hostContainerRoles
    deploymentContainerRole
    vaultReader
    tenantVaultReader
    telemetryPublisher
    webhookSecret
    calcomApiKeySecret
  ]
}

// ---------------------------------------------------------------------------------------------------------------
// Alerts. See infra/README.md for what is watched and why.
// ---------------------------------------------------------------------------------------------------------------

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-askpro-${resourceToken}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'askpro'
    enabled: true
    emailReceivers: [{ name: 'operator', emailAddress: alertEmail, useCommonAlertSchema: true }]
  }
}

var alertActions = { actionGroups: empty(alertEmail) ? [] : [actionGroup.id] }

resource poisonAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-askpro-poison-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: a Cal.com delivery was dead-lettered'
    description: 'A webhook was accepted (Cal.com got 2xx) but could not be applied (${deadLetterQueueName} says why; ${webhookPoisonQueueName} is the host backstop), or a tenant reconciliation pass failed every attempt (${reconciliationPoisonQueueName}). Inspect and replay it.'
    severity: 1
    enabled: true
    scopes: [logs.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'StorageQueueLogs | where OperationName == "PutMessage" and (ObjectKey contains "/${deadLetterQueueName}" or ObjectKey contains "/${webhookPoisonQueueName}" or ObjectKey contains "/${seriesLookupPoisonQueueName}" or ObjectKey contains "/${reconciliationPoisonQueueName}")'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: false
    // StorageQueueLogs only gets rows once the diagnostic setting above delivers; validation would fail on a fresh workspace.
    skipQueryValidation: true
    actions: alertActions
  }
  dependsOn: [queueWriteLogs]
}

resource driftAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-askpro-drift-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: reconciliation found drift'
    description: 'A reconciliation pass found bookings missing or different from Cal.com (lost webhooks, a series changed by one webhook, a change Cal.com sends no webhook for) and queued repairs. Look at the pass line (event 5000) and its repairs (5001).'
    severity: 3
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'traces | where tostring(customDimensions.EventId) == "5000" | where toint(customDimensions.Missing) + toint(customDimensions.Different) > 0'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: false
    skipQueryValidation: true
    actions: alertActions
  }
}

resource failureAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-askpro-failures-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: failed invocations or 5xx responses'
    description: 'More than ${failureAlertThreshold} failed function invocations or 5xx answers in 15 minutes. 4xx answers (bad signature, bad payload) are expected and not counted.'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'requests | extend code = toint(resultCode) | where code >= 500 or (success == false and (isnull(code) or code < 400 or code > 499))'
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: failureAlertThreshold
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: alertActions
  }
}

// A delivery the processor defers after a transient failure logs its age (event 2003, AgeMinutes): storage has been
// failing for that long. Queue metrics are per account, so message age is read from the app's own log line.
resource queueAgeAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-askpro-queue-age-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: accepted deliveries wait more than ${queueAgeAlertMinutes} min to be applied'
    description: 'Storage keeps failing transiently, so deliveries are retried instead of applied. They are kept (dead-lettered only after Queue__TransientRetryFor), but appointment records are stale.'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'traces | where tostring(customDimensions.EventId) == "2003" and todouble(customDimensions.AgeMinutes) > ${queueAgeAlertMinutes}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: alertActions
  }
}

// A Cal.com API key: refused by Cal.com (401/403, event 6002, per tenant) or unusable at start (an unresolved Key
// Vault reference, event 6000). Either way that tenant's reconciliation and series look-ups are off while intake and
// apply run, for it and for every other tenant. Split by TenantId: each tenant fires (and is acknowledged) on its own.
resource calcomKeyAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-askpro-calcom-key-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: a tenant\'s Cal.com API key is refused or unusable'
    description: 'Cal.com answered 401/403 to the API key of the tenant named in the alert\'s TenantId dimension (event 6002), or Calcom__ApiKey is an unresolved Key Vault reference (event 6000, tenant default). That tenant\'s webhooks are still applied, but its reconciliation and series look-ups are off; other tenants go on. Fix the key (default: secret calcom-api-key, then restart; a registered practice: tools/tenant.sh, effective within a minute).'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'traces | where tostring(customDimensions.EventId) in ("6000", "6002") | extend TenantId = tostring(customDimensions.TenantId) | extend TenantId = iff(isempty(TenantId), "default", TenantId)'
          timeAggregation: 'Count'
          dimensions: [{ name: 'TenantId', operator: 'Include', values: ['*'] }]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: false
    skipQueryValidation: true
    actions: alertActions
  }
}

// The tenant registry (events of AskPro.Functions/Tenants/Registry): off for want of a secret store (8020), the
// Tenants table not listable (8010; a 403 is a role problem), an entry not loadable (8012), a registered practice with
// no usable webhook secret (8014: its deliveries get 401, which Cal.com never retries). Split by TenantId.
resource registryAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-askpro-registry-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: the tenant registry is off or cannot serve a practice'
    description: 'Event 8020: the registry is enabled but off (no usable secret store): only configured tenants are served. 8010: the Tenants table cannot be listed: tenants already held keep working, new or changed ones are not seen. 8012: a registered practice could not be loaded. 8014: a registered practice has no usable webhook secret: every delivery to it gets 401, which Cal.com does not retry. The TenantId dimension names the practice ("registry" for the whole registry).'
    severity: 2
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'traces | where tostring(customDimensions.EventId) in ("8010", "8012", "8014", "8020") | extend TenantId = tostring(customDimensions.TenantId) | extend TenantId = iff(isempty(TenantId), "registry", TenantId)'
          timeAggregation: 'Count'
          dimensions: [{ name: 'TenantId', operator: 'Include', values: ['*'] }]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    skipQueryValidation: true
    actions: alertActions
  }
}

resource silenceAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (noWebhookAlertHours > 0) {
  name: 'alert-askpro-silence-${resourceToken}'
  location: location
  tags: tags
  properties: {
    displayName: 'AskPro: no webhook accepted for ${noWebhookAlertHours} h in business hours'
    description: 'Cal.com may have dropped the registration, or the secret no longer matches (deliveries get 401).'
    severity: 3
    enabled: true
    scopes: [appInsights.id]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT${noWebhookAlertHours}H'
    criteria: {
      allOf: [
        {
          // One row (= alert) when nothing was accepted in the window and it is now a weekday within business hours.
          query: 'let accepted = toscalar(requests | where operation_Name == "CalcomWebhook" and resultCode startswith "2" | count); print n = accepted, hour = hourofday(now()), day = dayofweek(now()) / 1d | where n == 0 and hour >= ${businessHoursStartUtc} and hour < ${businessHoursEndUtc} and day between (1 .. 5)'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: alertActions
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Health workbook: intake, outcomes, latency, queue age, dead letters, drift (docs/operating.md#queries-kql has the same KQL).
// ---------------------------------------------------------------------------------------------------------------

resource healthWorkbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per resource group and environment.
  name: guid(resourceGroup().id, environmentName, 'askpro-health-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'AskPro Cal.com gateway health (${environmentName})'
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: loadTextContent('workbook.json')
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------------------------

@description('Paste into Cal.com (Settings > Developer > Webhooks > Subscriber URL).')
output webhookUrl string = 'https://${functionApp.properties.defaultHostName}/api/${webhookRoute}'
output functionAppName string = functionApp.name
output storageAccountName string = storage.name
output keyVaultName string = vault.name
@description('Where tools/tenant.sh writes registered practices\' secrets (TenantRegistry__KeyVaultUri).')
output tenantKeyVaultUri string = tenantVault.properties.vaultUri
output resourceGroupName string = resourceGroup().name
output healthWorkbookId string = healthWorkbook.id
