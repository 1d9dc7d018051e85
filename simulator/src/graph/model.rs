//! Graph's rules over the directory that are Graph's own: who is calling, and who may read.
//! What a caller may change, the directory decides (`directory::ops`).

use crate::directory::{Caller, DirError, Directory};

/// Who calls Graph: the directory principal, and the application permissions (`roles`) an
/// app-only token carries.
#[derive(Debug, Clone)]
pub struct GraphCaller {
    pub principal: Caller,
    pub roles: Vec<String>,
}

impl GraphCaller {
    /// Reading the directory: member users, and applications with a directory-read
    /// permission or administrator role. Guests see only themselves.
    pub fn may_read(&self, dir: &Directory) -> Result<(), DirError> {
        let ok = if self.principal.is_app {
            dir.is_admin(&self.principal) || self.roles.iter().any(|r| r.ends_with(".Read.All") || r.ends_with(".ReadWrite.All"))
        } else {
            dir.is_member_user(&self.principal)
        };
        if ok { Ok(()) } else { Err(DirError::InsufficientPrivileges) }
    }

    /// Reading one object: anyone may read themselves; other objects need [`may_read`](Self::may_read).
    pub fn may_read_object(&self, dir: &Directory, object_id: &str) -> Result<(), DirError> {
        if object_id == self.principal.object_id { Ok(()) } else { self.may_read(dir) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::UserType;
    use crate::ids::IdSource;

    fn caller(dir: &Directory, object_id: &str, is_app: bool, roles: &[&str]) -> GraphCaller {
        let principal = Caller { tenant_id: dir.home_tenant.clone(), object_id: object_id.into(), is_app };
        GraphCaller { principal, roles: roles.iter().map(|r| r.to_string()).collect() }
    }

    #[test]
    fn members_and_reading_apps_may_read_guests_and_bare_apps_may_not() {
        let mut ids = IdSource::new(7);
        let mut dir = Directory::seeded(&mut ids, 0);
        let home = dir.home_tenant.clone();
        let member = dir.users.iter().find(|u| u.tenant_id == home && u.user_type == UserType::Member).unwrap().id.clone();
        assert!(caller(&dir, &member, false, &[]).may_read(&dir).is_ok());
        let guest = dir.users.iter().find(|u| u.tenant_id == home && u.user_type == UserType::Guest).unwrap().id.clone();
        assert_eq!(caller(&dir, &guest, false, &[]).may_read(&dir), Err(DirError::InsufficientPrivileges));
        let (_, sp) = dir.register_app(&mut ids, &home, "reader", "secret", 0, false);
        assert_eq!(caller(&dir, &sp.id, true, &[]).may_read(&dir), Err(DirError::InsufficientPrivileges));
        assert!(caller(&dir, &sp.id, true, &["Directory.Read.All"]).may_read(&dir).is_ok());
        assert!(caller(&dir, &sp.id, true, &["Application.ReadWrite.All"]).may_read(&dir).is_ok());

        let guest = caller(&dir, &guest, false, &[]);
        assert!(guest.may_read_object(&dir, &guest.principal.object_id).is_ok(), "a guest reads themself");
        assert_eq!(guest.may_read_object(&dir, &member), Err(DirError::InsufficientPrivileges));
    }
}
