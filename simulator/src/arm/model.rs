//! ARM state and rules: subscriptions, resource groups, role assignments and the
//! long-running operations that the virtual clock completes.

use serde::{Deserialize, Serialize};

use super::error::ArmError;
use super::location::{LOCATIONS, normalize_location};
use super::rbac::{self, RoleAssignment};
use crate::ids::IdSource;

/// How long (virtual seconds) deleting a resource group takes.
pub const DELETE_SECONDS: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub display_name: String,
    pub tenant_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceGroup {
    pub subscription_id: String,
    pub name: String,
    pub location: String,
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    pub provisioning_state: String,
}

impl ResourceGroup {
    pub fn id(&self) -> String {
        format!("/subscriptions/{}/resourceGroups/{}", self.subscription_id, self.name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum OperationKind {
    DeleteResourceGroup { subscription_id: String, name: String },
    /// A cluster create or update: the cluster becomes `Succeeded`.
    ClusterProvision { cluster_id: String },
    ClusterDelete { cluster_id: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    pub id: String,
    pub subscription_id: String,
    pub kind: OperationKind,
    pub completes_at_ms: i64,
    pub done: bool,
    /// When it started (older saved states lack it).
    #[serde(default)]
    pub started_ms: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Arm {
    pub subscriptions: Vec<Subscription>,
    pub resource_groups: Vec<ResourceGroup>,
    pub role_assignments: Vec<RoleAssignment>,
    pub operations: Vec<Operation>,
    pub clusters: Vec<super::aks::ManagedCluster>,
}

/// What a resource-group PUT did.
#[derive(Debug, Clone, PartialEq)]
pub enum Upsert {
    Created(ResourceGroup),
    Updated(ResourceGroup),
}

pub fn subscription_scope(sid: &str) -> String {
    format!("/subscriptions/{sid}")
}

impl Arm {
    /// Completes the operations whose time has come. Every request calls this first, so the
    /// state a client sees always matches the clock.
    pub fn advance(&mut self, now_ms: i64) {
        let due: Vec<usize> = (0..self.operations.len())
            .filter(|&i| !self.operations[i].done && self.operations[i].completes_at_ms <= now_ms)
            .collect();
        for i in due {
            self.operations[i].done = true;
            match self.operations[i].kind.clone() {
                OperationKind::DeleteResourceGroup { subscription_id, name } => {
                    self.resource_groups
                        .retain(|g| !(g.subscription_id.eq_ignore_ascii_case(&subscription_id) && g.name.eq_ignore_ascii_case(&name)));
                    // Deleting a group deletes what is in it.
                    self.clusters.retain(|c| !(c.subscription_id.eq_ignore_ascii_case(&subscription_id) && c.resource_group.eq_ignore_ascii_case(&name)));
                }
                OperationKind::ClusterProvision { cluster_id } => {
                    if let Some(c) = self.clusters.iter_mut().find(|c| c.id().eq_ignore_ascii_case(&cluster_id)) {
                        c.provisioning_state = "Succeeded".into();
                    }
                }
                OperationKind::ClusterDelete { cluster_id } => {
                    self.clusters.retain(|c| !c.id().eq_ignore_ascii_case(&cluster_id));
                }
            }
        }
    }

    pub fn subscription(&self, sid: &str) -> Result<&Subscription, ArmError> {
        self.subscriptions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(sid))
            .ok_or_else(|| ArmError::SubscriptionNotFound { subscription: sid.into() })
    }

    /// ARM's authorization check: the caller needs a role assignment at or above `scope`
    /// whose role allows `action`.
    pub fn authorize(&self, caller: &ArmCaller, action: &str, scope: &str) -> Result<(), ArmError> {
        if rbac::is_allowed(&self.role_assignments, &caller.object_id, action, scope) {
            Ok(())
        } else {
            Err(ArmError::AuthorizationFailed {
                client: caller.display.clone(),
                object_id: caller.object_id.clone(),
                action: action.into(),
                scope: scope.into(),
            })
        }
    }

    pub fn resource_group(&self, sid: &str, name: &str) -> Result<&ResourceGroup, ArmError> {
        self.resource_groups
            .iter()
            .find(|g| g.subscription_id.eq_ignore_ascii_case(sid) && g.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| ArmError::ResourceGroupNotFound { name: name.into() })
    }

    pub fn resource_groups_in(&self, sid: &str) -> Vec<&ResourceGroup> {
        self.resource_groups.iter().filter(|g| g.subscription_id.eq_ignore_ascii_case(sid)).collect()
    }

    /// `PUT …/resourcegroups/{name}`: creates the group, or updates its tags when it exists
    /// in the same location.
    pub fn put_resource_group(
        &mut self,
        sid: &str,
        name: &str,
        location: Option<&str>,
        tags: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<Upsert, ArmError> {
        let sub_id = self.subscription(sid)?.id.clone();
        validate_group_name(name)?;
        let location = location.ok_or(ArmError::LocationRequired)?;
        let location = normalize_location(location);
        if !LOCATIONS.contains(&location.as_str()) {
            return Err(ArmError::LocationNotAvailable { location });
        }
        if let Some(existing) = self
            .resource_groups
            .iter_mut()
            .find(|g| g.subscription_id.eq_ignore_ascii_case(sid) && g.name.eq_ignore_ascii_case(name))
        {
            if existing.provisioning_state == "Deleting" {
                return Err(ArmError::ResourceGroupBeingDeleted { name: existing.name.clone() });
            }
            if existing.location != location {
                return Err(ArmError::InvalidResourceGroupLocation { requested: location, existing: existing.location.clone() });
            }
            existing.tags = tags;
            return Ok(Upsert::Updated(existing.clone()));
        }
        let group = ResourceGroup {
            subscription_id: sub_id,
            name: name.into(),
            location,
            tags,
            provisioning_state: "Succeeded".into(),
        };
        self.resource_groups.push(group.clone());
        Ok(Upsert::Created(group))
    }

    /// `DELETE …/resourcegroups/{name}`: starts the deletion and returns the operation.
    pub fn delete_resource_group(&mut self, ids: &mut IdSource, sid: &str, name: &str, now_ms: i64) -> Result<Operation, ArmError> {
        self.subscription(sid)?;
        let group = self
            .resource_groups
            .iter_mut()
            .find(|g| g.subscription_id.eq_ignore_ascii_case(sid) && g.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| ArmError::ResourceGroupNotFound { name: name.into() })?;
        if let Some(op) = self.operations.iter().find(|o| {
            !o.done && matches!(&o.kind, OperationKind::DeleteResourceGroup { subscription_id, name: n } if subscription_id.eq_ignore_ascii_case(sid) && n.eq_ignore_ascii_case(name))
        }) {
            return Ok(op.clone());
        }
        group.provisioning_state = "Deleting".into();
        let op = Operation {
            id: ids.guid().to_string().to_uppercase().replace('-', ""),
            subscription_id: group.subscription_id.clone(),
            kind: OperationKind::DeleteResourceGroup { subscription_id: group.subscription_id.clone(), name: group.name.clone() },
            completes_at_ms: now_ms + DELETE_SECONDS * 1000,
            done: false,
            started_ms: Some(now_ms),
        };
        self.operations.push(op.clone());
        Ok(op)
    }

    pub fn cluster(&self, sid: &str, rg: &str, name: &str) -> Result<&super::aks::ManagedCluster, ArmError> {
        self.clusters.iter().find(|c| c.is_named(sid, rg, name)).ok_or_else(|| cluster_not_found(rg, name))
    }

    /// [`cluster`](Self::cluster), to change it.
    pub fn cluster_mut(&mut self, sid: &str, rg: &str, name: &str) -> Result<&mut super::aks::ManagedCluster, ArmError> {
        self.clusters.iter_mut().find(|c| c.is_named(sid, rg, name)).ok_or_else(|| cluster_not_found(rg, name))
    }

    /// The cluster whose API server has this host name (`<prefix>-<hash>.hcp.<region>.azmk8s.io`).
    pub fn cluster_at(&self, fqdn: &str) -> Option<&super::aks::ManagedCluster> {
        self.clusters.iter().find(|c| c.fqdn.eq_ignore_ascii_case(fqdn))
    }

    /// Starts an operation that completes `seconds` from now.
    pub fn start_operation(&mut self, ids: &mut IdSource, sid: &str, kind: OperationKind, now_ms: i64, seconds: i64) -> Operation {
        let op = Operation { id: ids.guid().to_string(), subscription_id: sid.into(), kind, completes_at_ms: now_ms + seconds * 1000, done: false, started_ms: Some(now_ms) };
        self.operations.push(op.clone());
        op
    }

    pub fn operation(&self, sid: &str, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.subscription_id.eq_ignore_ascii_case(sid) && o.id.eq_ignore_ascii_case(id))
    }
}

/// The identity ARM checks permissions for.
#[derive(Debug, Clone)]
pub struct ArmCaller {
    pub object_id: String,
    /// `upn` for users, the appId for service principals: what ARM's messages call the client.
    pub display: String,
}

/// Resource group names: 1–90 characters of letters, digits, `_`, `-`, `.`, `(`, `)`,
/// not ending in a period.
fn validate_group_name(name: &str) -> Result<(), ArmError> {
    let ok_chars = name.chars().all(|c| c.is_alphanumeric() || "_-.()".contains(c));
    if name.is_empty() || name.len() > 90 || !ok_chars || name.ends_with('.') {
        return Err(ArmError::InvalidResourceGroupName { name: name.into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm() -> Arm {
        Arm { subscriptions: vec![Subscription { id: "s1".into(), display_name: "Sub".into(), tenant_id: "t".into() }], ..Default::default() }
    }

    #[test]
    fn put_creates_then_updates_and_refuses_another_location() {
        let mut a = arm();
        assert!(matches!(a.put_resource_group("s1", "rg", Some("East US"), None).unwrap(), Upsert::Created(g) if g.location == "eastus"));
        assert!(matches!(a.put_resource_group("s1", "RG", Some("eastus"), None).unwrap(), Upsert::Updated(_)));
        assert_eq!(
            a.put_resource_group("s1", "rg", Some("westus"), None).unwrap_err(),
            ArmError::InvalidResourceGroupLocation { requested: "westus".into(), existing: "eastus".into() }
        );
        assert_eq!(a.put_resource_group("s1", "rg", None, None).unwrap_err(), ArmError::LocationRequired);
        assert!(matches!(a.put_resource_group("s1", "rg2", Some("mars"), None).unwrap_err(), ArmError::LocationNotAvailable { .. }));
        assert!(matches!(a.put_resource_group("nope", "rg", Some("eastus"), None).unwrap_err(), ArmError::SubscriptionNotFound { .. }));
        assert!(matches!(a.put_resource_group("s1", "bad/name", Some("eastus"), None).unwrap_err(), ArmError::InvalidResourceGroupName { .. }));
    }

    #[test]
    fn delete_completes_when_the_clock_reaches_it() {
        let mut a = arm();
        let mut ids = IdSource::new(1);
        a.put_resource_group("s1", "rg", Some("eastus"), None).unwrap();
        let op = a.delete_resource_group(&mut ids, "s1", "rg", 0).unwrap();
        assert_eq!(a.resource_group("s1", "rg").unwrap().provisioning_state, "Deleting");
        a.advance(DELETE_SECONDS * 1000 - 1);
        assert!(a.resource_group("s1", "rg").is_ok());
        a.advance(DELETE_SECONDS * 1000);
        assert!(a.resource_group("s1", "rg").is_err());
        assert!(a.operation("s1", &op.id).unwrap().done);
    }
}

fn cluster_not_found(rg: &str, name: &str) -> ArmError {
    ArmError::ResourceNotFound { kind: "Microsoft.ContainerService/managedClusters".into(), name: name.into(), group: rg.into() }
}
