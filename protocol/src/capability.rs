//! Capabilities: what a job needs from a GPU adapter and what a verifier's adapter can
//! run, as one byte of bits. The manifest's requirements reduce to these bits
//! (`assay_gpu`), a job stores them (`needs`), a verifier registers them, and the draw
//! picks only verifiers whose bits cover the job's.
//!
//! A job with no bits runs on any conformant WebGPU adapter at WebGPU's default limits.

/// A set of capability bits.
pub type Capabilities = u8;

/// WGSL `enable f16;` (wgpu `SHADER_F16`, WebGPU `"shader-f16"`).
pub const SHADER_F16: Capabilities = 1 << 0;
/// Subgroup builtins and operations (wgpu `SUBGROUP`, WebGPU `"subgroups"`).
pub const SUBGROUPS: Capabilities = 1 << 1;
/// Some limit above WebGPU's default, up to the protocol's extended tier (in
/// `assay_gpu::manifest::EXTENDED_LIMITS`).
pub const EXTENDED_LIMITS: Capabilities = 1 << 2;

/// Every defined bit.
pub const ALL: Capabilities = SHADER_F16 | SUBGROUPS | EXTENDED_LIMITS;

/// Distinct needs a job can have (every subset of [`ALL`]): the registry keeps one weight
/// tree per need.
pub const NEED_CLASSES: usize = ALL as usize + 1;

/// The names the manifest and the CLI use, bit by bit.
pub const NAMES: [(Capabilities, &str); 3] = [
    (SHADER_F16, "shader-f16"),
    (SUBGROUPS, "subgroups"),
    (EXTENDED_LIMITS, "extended-limits"),
];

/// Whether an adapter with `have` can run a job that needs `need`.
pub fn covers(have: Capabilities, need: Capabilities) -> bool {
    have & need == need
}

/// Whether `caps` uses only defined bits.
pub fn is_known(caps: Capabilities) -> bool {
    caps & !ALL == 0
}

/// `caps` as names, e.g. `["subgroups"]` (empty: portable).
pub fn names(caps: Capabilities) -> impl Iterator<Item = &'static str> {
    NAMES
        .iter()
        .filter(move |(bit, _)| caps & bit != 0)
        .map(|(_, name)| *name)
}

/// The bit named `name`.
pub fn from_name(name: &str) -> Option<Capabilities> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(bit, _)| *bit)
}

/// Parses a comma-separated list of capability names (`"subgroups,shader-f16"`); `"none"`
/// or an empty string is no capability.
pub fn parse(list: &str) -> Result<Capabilities, String> {
    let list = list.trim();
    if list.is_empty() || list == "none" {
        return Ok(0);
    }
    list.split(',').try_fold(0, |caps, name| {
        let name = name.trim();
        from_name(name).map(|bit| caps | bit).ok_or_else(|| {
            let known: Vec<&str> = NAMES.iter().map(|(_, n)| *n).collect();
            format!(
                "unknown capability {name:?} (known: {}, or none)",
                known.join(", ")
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_need_is_covered_exactly_by_its_supersets() {
        for have in 0..=ALL {
            for need in 0..=ALL {
                let superset = (0..3).all(|b| need & (1 << b) == 0 || have & (1 << b) != 0);
                assert_eq!(
                    covers(have, need),
                    superset,
                    "have {have:03b} need {need:03b}"
                );
            }
        }
        assert!(!is_known(ALL + 1));
        assert_eq!(NEED_CLASSES, 8);
    }

    #[test]
    fn names_round_trip() {
        for (bit, name) in NAMES {
            assert_eq!(from_name(name), Some(bit));
        }
        assert_eq!(
            names(SUBGROUPS | SHADER_F16).collect::<Vec<_>>(),
            ["shader-f16", "subgroups"]
        );
        assert_eq!(from_name("ray-tracing"), None);
        assert_eq!(
            parse("subgroups, extended-limits"),
            Ok(SUBGROUPS | EXTENDED_LIMITS)
        );
        assert_eq!(parse("none"), Ok(0));
        assert!(parse("subgroups,ray-tracing")
            .unwrap_err()
            .contains("ray-tracing"));
    }
}
