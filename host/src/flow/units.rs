//! `64MiB`, `30s`: sizes and durations as a person writes them.

pub fn parse_size(v: &toml::Value) -> Result<u64, String> {
    match v {
        toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
        toml::Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (num, unit) = s.split_at(split);
            let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a size like 64MiB"))?;
            let mult = match unit.trim() {
                "" | "B" => 1,
                "KiB" => 1 << 10,
                "MiB" => 1 << 20,
                "GiB" => 1 << 30,
                other => return Err(format!("unknown size unit `{other}` (use B, KiB, MiB or GiB)")),
            };
            Ok(n * mult)
        }
        other => Err(format!("`{other}` is not a size like \"64MiB\"")),
    }
}

pub use aksflow_simulator::clock::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size(&toml::Value::String("64MiB".into())).unwrap(), 64 << 20);
        assert_eq!(parse_size(&toml::Value::Integer(4096)).unwrap(), 4096);
        assert!(parse_size(&toml::Value::String("64MB".into())).unwrap_err().contains("unknown size unit"));
        assert_eq!(parse_duration("500ms").unwrap(), std::time::Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), std::time::Duration::from_secs(120));
        assert!(parse_duration("soon").is_err());
    }
}
