//! First-party applications that exist in every tenant, with the permission ids clients
//! use. [protocols.md §B.10]

pub const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";
pub const AZURE_SERVICE_MANAGEMENT: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub const AKS_AAD_SERVER: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";
pub const AKS_AAD_CLIENT: &str = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";
pub const AAD_PORTAL: &str = "74658136-14ec-4630-ad9b-26e160ff0fc6";

pub const GRAPH_USER_READ: &str = "e1fe6dd8-ba31-4d61-89e7-88639da4683d";
pub const GRAPH_DIRECTORY_READ_ALL_SCOPE: &str = "06da0dbc-49e2-44d2-8312-53f166ab848a";
pub const GRAPH_DIRECTORY_READ_ALL_ROLE: &str = "7ab1d382-f21e-4acd-a863-ba3e13f7da61";
pub const GRAPH_APPLICATION_READWRITE_ALL_ROLE: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";
pub const GRAPH_GROUP_READWRITE_ALL_ROLE: &str = "62a82d76-70ea-41e2-9197-370581804d09";
pub const ARM_USER_IMPERSONATION: &str = "41094075-9dad-400e-a0bd-54e686782033";
/// The AKS server app's delegated scope as kubelogin requests it (`6dae42f8-…/user.read`).
pub const AKS_USER_READ: &str = "7b4d1e2f-3a5c-4e6b-9d8f-0a1b2c3d4e5f";

/// A delegated scope a first-party API exposes: (id, value, type).
pub type Scope = (&'static str, &'static str, &'static str);
/// An application permission: (id, value).
pub type Role = (&'static str, &'static str);

pub struct FirstParty {
    pub app_id: &'static str,
    pub display_name: &'static str,
    pub names: &'static [&'static str],
    pub scopes: &'static [Scope],
    pub roles: &'static [Role],
    pub group_membership_claims: Option<&'static str>,
    pub public_client: bool,
}

pub const FIRST_PARTY: &[FirstParty] = &[
    FirstParty {
        app_id: MICROSOFT_GRAPH,
        display_name: "Microsoft Graph",
        names: &["https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com", "https://graph.microsoft.com/beta"],
        scopes: &[(GRAPH_USER_READ, "User.Read", "User"), (GRAPH_DIRECTORY_READ_ALL_SCOPE, "Directory.Read.All", "Admin")],
        roles: &[
            (GRAPH_DIRECTORY_READ_ALL_ROLE, "Directory.Read.All"),
            (GRAPH_APPLICATION_READWRITE_ALL_ROLE, "Application.ReadWrite.All"),
            (GRAPH_GROUP_READWRITE_ALL_ROLE, "Group.ReadWrite.All"),
        ],
        group_membership_claims: None,
        public_client: false,
    },
    FirstParty {
        app_id: AZURE_SERVICE_MANAGEMENT,
        display_name: "Windows Azure Service Management API",
        names: &["https://management.core.windows.net/", "https://management.azure.com/"],
        scopes: &[(ARM_USER_IMPERSONATION, "user_impersonation", "User")],
        roles: &[],
        group_membership_claims: None,
        public_client: false,
    },
    FirstParty { app_id: AZURE_CLI, display_name: "Microsoft Azure CLI", names: &[], scopes: &[], roles: &[], group_membership_claims: None, public_client: true },
    FirstParty {
        app_id: AKS_AAD_SERVER,
        display_name: "Azure Kubernetes Service AAD Server",
        names: &["https://aks.azure.com/"],
        scopes: &[(AKS_USER_READ, "user.read", "User")],
        roles: &[],
        group_membership_claims: Some("All"),
        public_client: false,
    },
    FirstParty {
        app_id: AKS_AAD_CLIENT,
        display_name: "Azure Kubernetes Service AAD Client",
        names: &[],
        scopes: &[],
        roles: &[],
        group_membership_claims: None,
        public_client: true,
    },
    FirstParty { app_id: AAD_PORTAL, display_name: "ADIbizaUX", names: &[], scopes: &[], roles: &[], group_membership_claims: None, public_client: true },
];

/// Consent Microsoft has given for its own clients in every tenant: (client, resource, scopes).
pub const PRECONSENTED: &[(&str, &str, &str)] = &[
    (AZURE_CLI, AZURE_SERVICE_MANAGEMENT, "user_impersonation"),
    (AZURE_CLI, MICROSOFT_GRAPH, "User.Read Directory.Read.All"),
    (AKS_AAD_CLIENT, AKS_AAD_SERVER, "user.read"),
    // kubelogin --login azurecli asks the Azure CLI for AKS tokens.
    (AZURE_CLI, AKS_AAD_SERVER, "user.read"),
];
