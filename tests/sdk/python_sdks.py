# The Azure SDKs for Python with their default settings: run by tests/sdk_clients.rs with
# only a served simulator's aksflow.env in the environment.
import asyncio, os
from azure.identity import DefaultAzureCredential
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.containerservice import ContainerServiceClient
from azure.mgmt.containerservice.models import ManagedCluster, ManagedClusterAgentPoolProfile, ManagedClusterAADProfile
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
tenant, sub = os.environ["AZURE_TENANT_ID"], os.environ["AZURE_SUBSCRIPTION_ID"]
cred = DefaultAzureCredential()
res = ResourceManagementClient(cred, sub)
res.resource_groups.create_or_update("sdk", {"location": "eastus"})
aks = ContainerServiceClient(cred, sub)
poller = aks.managed_clusters.begin_create_or_update("sdk", "sdkcluster", ManagedCluster(location="eastus", dns_prefix="sdkcluster",
    agent_pool_profiles=[ManagedClusterAgentPoolProfile(name="nodepool1", count=1, vm_size="Standard_DS2_v2", mode="System")],
    aad_profile=ManagedClusterAADProfile(managed=True, admin_group_object_i_ds=[])), polling_interval=0.2)
# The poller's thread sets a final status just before it marks itself done, so a status read
# after `done()` answered False may already be the final one: only the states on the way count.
terminal = {"Succeeded", "Failed", "Canceled"}
seen = set()
while not poller.done():
    seen.add(poller.status())
    poller.wait(0.2)
cluster = poller.result()
print("states seen", seen - terminal, "->", cluster.provisioning_state)
assert cluster.provisioning_state == "Succeeded"
admin = aks.managed_clusters.list_cluster_admin_credentials("sdk", "sdkcluster")
user = aks.managed_clusters.list_cluster_user_credentials("sdk", "sdkcluster")
print("kubeconfigs", [k.name for k in admin.kubeconfigs], [k.name for k in user.kubeconfigs])
# Graph: an application and a service principal with a password (msgraph-sdk, Kiota).
from msgraph import GraphServiceClient
from msgraph.generated.models.application import Application
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.applications.item.add_password.add_password_post_request_body import AddPasswordPostRequestBody
from msgraph.generated.models.password_credential import PasswordCredential
async def graph():
    g = GraphServiceClient(cred, scopes=["https://graph.microsoft.com/.default"])
    app = await g.applications.post(Application(display_name="sdk-app"))
    sp = await g.service_principals.post(ServicePrincipal(app_id=app.app_id))
    pw = await g.applications.by_application_id(app.id).add_password.post(AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="sdk")))
    assert pw.secret_text
    return sp.id
sp_id = asyncio.run(graph())
print("sp", sp_id)
auth = AuthorizationManagementClient(cred, sub)
scope = cluster.id
reader = f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
import uuid
name = str(uuid.uuid4())
ra = auth.role_assignments.create(scope, name, RoleAssignmentCreateParameters(role_definition_id=reader, principal_id=sp_id, principal_type="ServicePrincipal"))
print("ra", ra.id)
listed = [r.name for r in auth.role_assignments.list_for_scope(scope, filter="atScope()")]
assert name in listed, listed
auth.role_assignments.delete(scope, name)
# Deleting the cluster: the delete poller too sees the operation in progress.
from azure.core.exceptions import ResourceNotFoundError
deleting = aks.managed_clusters.begin_delete("sdk", "sdkcluster", polling_interval=0.2)
gone = set()
while not deleting.done():
    gone.add(deleting.status())
    deleting.wait(0.2)
deleting.result()
print("delete states seen", gone - terminal)
try:
    aks.managed_clusters.get("sdk", "sdkcluster")
    raise SystemExit("the cluster is still there")
except ResourceNotFoundError:
    pass
print("ok")
