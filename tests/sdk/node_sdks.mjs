// The Azure SDKs for JavaScript with their default settings: run by tests/sdk_clients.rs
// with only a served simulator's aksflow.env in the environment (HTTPS_PROXY,
// NODE_EXTRA_CA_CERTS, AZURE_*). Node's own fetch takes no proxy from the environment, so
// the Graph client (which uses it) is left out: it would try to reach graph.microsoft.com.
import { createRequire } from "node:module";
const require = createRequire(process.env.AKSFLOW_NODE_MODULES + "/");
const { DefaultAzureCredential } = require("@azure/identity");
const { ContainerServiceClient } = require("@azure/arm-containerservice");
const { ResourceManagementClient } = require("@azure/arm-resources");

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
console.log("ok");
