//! Which Azure the simulator is. Seed 000 was written for an Azure that no longer exists:
//! AKS stopped creating clusters with the legacy Azure AD integration (server and client
//! apps) in 2023 and moved the existing ones to AKS-managed Azure AD. The seed's era keeps
//! that Azure available, for the seed and for the migration away from it; today's is the
//! default.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Era {
    /// Today's Azure: no new legacy-AAD clusters; any left are served as managed AAD.
    #[default]
    #[serde(rename = "today")]
    Today,
    /// Seed 000's Azure (2019): legacy Azure AD integration can be created, and its API
    /// servers authenticate through the legacy webhook.
    #[serde(rename = "2019")]
    Y2019,
}

impl Era {
    pub const ALL: [Era; 2] = [Era::Today, Era::Y2019];

    /// `today` or `2019`, as flows and `--era` write it.
    pub fn parse(s: &str) -> Result<Era, String> {
        match s.trim() {
            "today" => Ok(Era::Today),
            "2019" | "seed-000" => Ok(Era::Y2019),
            other => Err(format!("`{other}` is not an era the simulator knows: use `today` (the default, Azure as it is now) or `2019` (seed 000's, with the legacy Azure AD integration)")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Era::Today => "today",
            Era::Y2019 => "2019",
        }
    }

    /// Whether AKS still creates clusters with the legacy (server/client app) integration.
    pub fn creates_legacy_aad(self) -> bool {
        self == Era::Y2019
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_today_is_the_default() {
        for era in Era::ALL {
            assert_eq!(Era::parse(era.name()), Ok(era));
            assert_eq!(serde_json::to_string(&era).unwrap(), format!("\"{}\"", era.name()));
        }
        assert_eq!(Era::default(), Era::Today);
        assert!(Era::parse("2020").unwrap_err().contains("`today`"));
        assert!(Era::Y2019.creates_legacy_aad() && !Era::Today.creates_legacy_aad());
    }
}
