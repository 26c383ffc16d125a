//! The crate-wide default casing: one setting for the whole schema, as the
//! TypeScript library has it, in the application's `Cargo.toml`:
//!
//! ```toml
//! [package.metadata.trombase]
//! casing = "camel"
//! ```
//!
//! An entity's own `#[entity(casing = "...")]` wins over it; without either,
//! physical names are snake case.

use super::attr::Casing;

/// The default casing of the crate being compiled, from its manifest.
pub fn crate_default() -> Result<Option<Casing>, String> {
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else { return Ok(None) };
    let Ok(manifest) = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml")) else {
        return Ok(None);
    };
    from_manifest(&manifest)
}

/// `casing` under `[package.metadata.trombase]` in manifest text.
fn from_manifest(manifest: &str) -> Result<Option<Casing>, String> {
    let mut in_section = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_section = line == "[package.metadata.trombase]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if in_section && key.trim() == "casing" {
            return match value.trim() {
                "\"snake\"" => Ok(Some(Casing::Snake)),
                "\"camel\"" => Ok(Some(Casing::Camel)),
                other => Err(format!(
                    "`casing = {other}` under [package.metadata.trombase] in Cargo.toml: expected \"snake\" or \"camel\""
                )),
            };
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_setting_of_its_own_section_only() {
        let manifest = "[package]\nname = \"app\"\ncasing = \"camel\"\n\n[package.metadata.trombase]\ncasing = \"camel\" # as the TypeScript library\n\n[dependencies]\n";
        assert!(matches!(from_manifest(manifest), Ok(Some(Casing::Camel))));
        assert!(matches!(from_manifest("[package]\ncasing = \"camel\"\n"), Ok(None)));
        assert!(matches!(
            from_manifest("[package.metadata.trombase]\ncasing = \"snake\""),
            Ok(Some(Casing::Snake))
        ));
        let err = from_manifest("[package.metadata.trombase]\ncasing = \"kebab\"").map(|_| ()).unwrap_err();
        assert!(err.contains("expected \"snake\" or \"camel\""), "{err}");
    }
}
