//! Azure regions: the ones the simulator offers, and how a region's name is written.

/// Regions the simulator accepts, as ARM lists them for resource groups.
pub const LOCATIONS: &[&str] = &[
    "eastus", "eastus2", "westus", "westus2", "westus3", "centralus", "northcentralus", "southcentralus",
    "westcentralus", "canadacentral", "brazilsouth", "northeurope", "westeurope", "uksouth", "francecentral",
    "germanywestcentral", "swedencentral", "switzerlandnorth", "norwayeast", "australiaeast", "japaneast",
    "koreacentral", "southeastasia", "eastasia", "centralindia", "southafricanorth", "uaenorth",
];

/// `East US` and `eastus` name the same region.
pub fn normalize_location(l: &str) -> String {
    l.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}
