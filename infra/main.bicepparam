// Dev environment. No secrets here: the Cal.com secret goes to Key Vault (see README.md, "Set the webhook secret").
// azd sets AZURE_ENV_NAME and AZURE_PRINCIPAL_ID; infra/check.sh clears them so the committed snapshot stays stable.
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param deployerPrincipalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')

// Dev scales from zero and stays small; production: alwaysReadyInstances = 1 (Cal.com never retries).
param instanceMemoryMB = 2048
param maximumInstanceCount = 40
param alwaysReadyInstances = 0

// Short recovery window so a torn-down dev vault frees its name sooner (purge protection still applies).
param keyVaultRetentionDays = 7
param logRetentionDays = 30
param bodyRetentionDays = 30

param failureAlertThreshold = 3
param noWebhookAlertHours = 0
