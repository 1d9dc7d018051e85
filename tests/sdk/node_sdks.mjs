// The Azure SDKs for JavaScript with their default settings: run by tests/sdk_clients.rs
// with only a served simulator's aksflow.env in the environment (HTTPS_PROXY,
// NODE_EXTRA_CA_CERTS, NODE_USE_ENV_PROXY, AZURE_*). The Graph client uses Node's own
// fetch, which takes the proxy from the environment when NODE_USE_ENV_PROXY is set (Node 24).
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
const require = createRequire(process.env.AKSFLOW_NODE_MODULES + "/");
const { DefaultAzureCredential } = require("@azure/identity");
const { ContainerServiceClient } = require("@azure/arm-containerservice");
const { ResourceManagementClient } = require("@azure/arm-resources");
const { AuthorizationManagementClient } = require("@azure/arm-authorization");
const { Client } = require("@microsoft/microsoft-graph-client");
const { TokenCredentialAuthenticationProvider } = require("@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials");

const sub = process.env.AZURE_SUBSCRIPTION_ID;
const credential = new DefaultAzureCredential();
const token = await credential.getToken("https://management.azure.com/.default");
if (!token?.token) throw new Error("no token");
await new ResourceManagementClient(credential, sub).resourceGroups.createOrUpdate("nodesdk", { location: "eastus" });
const aks = new ContainerServiceClient(credential, sub);
const states = new Set();
const poller = await aks.managedClusters.beginCreateOrUpdate("nodesdk", "nodecluster", {
  location: "eastus",
  dnsPrefix: "nodecluster",
  agentPoolProfiles: [{ name: "nodepool1", count: 1, vmSize: "Standard_DS2_v2", mode: "System" }],
  aadProfile: { managed: true, adminGroupObjectIDs: [] },
}, { updateIntervalInMs: 200 });
poller.onProgress((s) => states.add(s.status));
const cluster = await poller.pollUntilDone();
console.log("states seen", [...states].sort().join(","), "->", cluster.provisioningState);
if (cluster.provisioningState !== "Succeeded") throw new Error(cluster.provisioningState);
const admin = await aks.managedClusters.listClusterAdminCredentials("nodesdk", "nodecluster");
const user = await aks.managedClusters.listClusterUserCredentials("nodesdk", "nodecluster");
console.log("kubeconfigs", admin.kubeconfigs.map((k) => k.name).join(","), user.kubeconfigs.map((k) => k.name).join(","));

// Graph: an application and its service principal with a password.
const graph = Client.initWithMiddleware({ authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: ["https://graph.microsoft.com/.default"] }) });
const app = await graph.api("/applications").post({ displayName: "node-sdk-app" });
const sp = await graph.api("/servicePrincipals").post({ appId: app.appId });
const password = await graph.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: "node" } });
if (!password.secretText) throw new Error("no secret text");
console.log("sp", sp.id);

// A role assignment at the cluster's scope: made, listed with atScope(), deleted.
const auth = new AuthorizationManagementClient(credential, sub);
const reader = `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
const name = randomUUID();
await auth.roleAssignments.create(cluster.id, name, { roleDefinitionId: reader, principalId: sp.id, principalType: "ServicePrincipal" });
const listed = [];
for await (const ra of auth.roleAssignments.listForScope(cluster.id, { filter: "atScope()" })) listed.push(ra.name);
if (!listed.includes(name)) throw new Error(`not listed: ${listed}`);
await auth.roleAssignments.delete(cluster.id, name);

// Deleting the cluster: the delete poller too sees the operation in progress.
const gone = new Set();
const deleting = await aks.managedClusters.beginDelete("nodesdk", "nodecluster", { updateIntervalInMs: 200 });
deleting.onProgress((s) => gone.add(s.status));
await deleting.pollUntilDone();
console.log("delete states seen", [...gone].sort().join(","));
try {
  await aks.managedClusters.get("nodesdk", "nodecluster");
  throw new Error("the cluster is still there");
} catch (e) {
  if (e.statusCode !== 404) throw e;
}
console.log("ok");
