//! Graph's OData `$filter` parser, and matching what it parsed against directory objects
//! shaped as Graph returns them.

use aksflow_simulator::graph::filter;
use serde_json::{Value, json};

fn objects() -> [Value; 3] {
    [
        json!({"id": "1", "displayName": "myaksclusterServer", "appId": "666aff4a-5e17-47b3-b5e8-8404d71a13a4",
               "servicePrincipalNames": ["api://x", "666aff4a-5e17-47b3-b5e8-8404d71a13a4"], "accountEnabled": true,
               "tags": [], "createdDateTime": "2026-01-01T00:00:00Z", "appRoles": [{"value": "a", "id": "r"}]}),
        json!({"id": "2", "userPrincipalName": "alice@contoso.onmicrosoft.com", "mail": null, "userType": "Member",
               "otherMails": ["a@b"], "identities": [{"issuer": "contoso", "signInType": "userPrincipalName"}]}),
        json!({"id": "3", "securityEnabled": true, "groupTypes": ["Unified"], "mailNickname": "aks-admins", "members@odata.count": 2}),
    ]
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match filter::parse(text) {
        Ok(f) => {
            for o in objects() {
                f.matches(&o);
            }
        }
        // Graph answers the message to the caller: it must say what is wrong.
        Err(e) => assert!(e.message.starts_with("Invalid filter clause"), "{e}"),
    }
}
