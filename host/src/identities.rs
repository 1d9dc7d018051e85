//! The identities file: passwords of the users that flows act as (`as = "bob@…"`) when they
//! run against Azure, where no seeded password exists. It is a TOML table per user:
//!
//! ```toml
//! ["bob@contoso.onmicrosoft.com"]
//! password = "…"
//! ```
//!
//! It holds secrets, so it must be readable by its owner alone (mode 0600), as ssh insists
//! for its keys; a file others can read is refused.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

#[derive(Default, Clone)]
pub struct Identities {
    passwords: HashMap<String, String>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.passwords.keys().collect();
        names.sort();
        f.debug_struct("Identities").field("users", &names).finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    password: String,
}

impl Identities {
    /// Reads the file at `path`, refusing it if others may read it.
    pub fn load(path: &Path) -> Result<Self, String> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the identities file {}: {e}", path.display()))?;
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(format!(
                    "the identities file {} holds passwords but others may read it (mode {:o}); make it the owner's alone: chmod 600 {}",
                    path.display(),
                    meta.permissions().mode() & 0o777,
                    path.display()
                ));
            }
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the identities file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("the identities file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        // The parser's message quotes the offending line, which may hold a password.
        let entries: HashMap<String, Entry> = toml::from_str(text).map_err(|e| {
            format!("not a table of users with a `password` each ({})", e.span().map(|s| format!("at byte {}", s.start)).unwrap_or_else(|| "at the top".into()))
        })?;
        Ok(Identities { passwords: entries.into_iter().map(|(user, e)| (user.to_ascii_lowercase(), e.password)).collect() })
    }

    /// The password given for `user` (sign-in names compare without case).
    pub fn password(&self, user: &str) -> Option<String> {
        self.passwords.get(&user.to_ascii_lowercase()).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_found_without_case_and_debug_shows_no_password() {
        let ids = Identities::parse("[\"Bob@Contoso.onmicrosoft.com\"]\npassword = \"hunter2\"\n").unwrap();
        assert_eq!(ids.password("bob@contoso.onmicrosoft.com").as_deref(), Some("hunter2"));
        assert_eq!(ids.password("alice@contoso.onmicrosoft.com"), None);
        assert!(!format!("{ids:?}").contains("hunter2"));
    }

    #[test]
    fn a_malformed_file_is_refused_without_quoting_it() {
        let e = Identities::parse("[\"bob@contoso.onmicrosoft.com\"]\npasword = \"hunter2\"\n").err().unwrap();
        assert!(e.contains("`password`") && !e.contains("hunter2"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.toml");
        std::fs::write(&path, "[\"bob@contoso.onmicrosoft.com\"]\npassword = \"p\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Identities::load(&path).err().unwrap().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Identities::load(&path).unwrap().password("bob@contoso.onmicrosoft.com").is_some());
    }
}
