//! First-party application ids that exist in every tenant. [protocols.md §B.10]

pub const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";
pub const AZURE_SERVICE_MANAGEMENT: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub const AKS_AAD_SERVER: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";
pub const AKS_AAD_CLIENT: &str = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";

/// A first-party application: its appId, display name and the names it answers to as a
/// token audience (`servicePrincipalNames`).
pub struct FirstParty {
    pub app_id: &'static str,
    pub display_name: &'static str,
    pub names: &'static [&'static str],
}

pub const FIRST_PARTY: &[FirstParty] = &[
    FirstParty {
        app_id: MICROSOFT_GRAPH,
        display_name: "Microsoft Graph",
        names: &["https://graph.microsoft.com", "https://graph.microsoft.com/", "https://canary.graph.microsoft.com"],
    },
    FirstParty {
        app_id: AZURE_SERVICE_MANAGEMENT,
        display_name: "Windows Azure Service Management API",
        names: &["https://management.core.windows.net/", "https://management.azure.com/"],
    },
    FirstParty { app_id: AZURE_CLI, display_name: "Microsoft Azure CLI", names: &[] },
    FirstParty { app_id: AKS_AAD_SERVER, display_name: "Azure Kubernetes Service AAD Server", names: &[] },
    FirstParty { app_id: AKS_AAD_CLIENT, display_name: "Azure Kubernetes Service AAD Client", names: &[] },
];
