//! Where a plugin is called ([`Stage`], [`Stages`]) and which bodies it reads ([`BodyAccess`]).

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

pub use wasmgate_plugin_contract::{ParseStageError, Stage};

/// A set of stages: where a plugin wants to be called. Combine with `|`:
/// `Stages::METHOD_REQUEST | Stages::METHOD_RESPONSE`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stages(u8);

impl Stages {
    /// No stage.
    pub const NONE: Stages = Stages(0);
    /// [`Stage::MethodRequest`].
    pub const METHOD_REQUEST: Stages = Stages(1 << 0);
    /// [`Stage::IntegrationRequest`].
    pub const INTEGRATION_REQUEST: Stages = Stages(1 << 1);
    /// [`Stage::IntegrationResponse`].
    pub const INTEGRATION_RESPONSE: Stages = Stages(1 << 2);
    /// [`Stage::MethodResponse`].
    pub const METHOD_RESPONSE: Stages = Stages(1 << 3);
    /// [`Stage::Log`].
    pub const LOG: Stages = Stages(1 << 4);
    /// Every stage.
    pub const ALL: Stages = Stages(0b1_1111);

    /// The set holding only `stage`.
    pub const fn of(stage: Stage) -> Stages {
        // The bit order is the WIT `flags stages` order, which is `Stage::ALL` order.
        Stages(1 << stage as u8)
    }

    /// Whether every stage of `other` is in `self`.
    pub const fn contains(self, other: Stages) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `stage` is in the set.
    pub const fn has(self, stage: Stage) -> bool {
        self.contains(Stages::of(stage))
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The stages of the set, in lifecycle order.
    pub fn iter(self) -> impl Iterator<Item = Stage> {
        Stage::ALL.into_iter().filter(move |stage| self.has(*stage))
    }

    /// The bits in WIT `flags stages` order.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for Stages {
    type Output = Stages;

    fn bitor(self, other: Stages) -> Stages {
        Stages(self.0 | other.0)
    }
}

impl BitOrAssign for Stages {
    fn bitor_assign(&mut self, other: Stages) {
        self.0 |= other.0;
    }
}

impl From<Stage> for Stages {
    fn from(stage: Stage) -> Stages {
        Stages::of(stage)
    }
}

impl FromIterator<Stage> for Stages {
    fn from_iter<I: IntoIterator<Item = Stage>>(stages: I) -> Stages {
        stages
            .into_iter()
            .fold(Stages::NONE, |set, stage| set | Stages::of(stage))
    }
}

impl fmt::Debug for Stages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Stage::name).collect();
        write!(f, "Stages({})", names.join(" | "))
    }
}

/// Which message bodies a plugin reads. The gateway buffers a body (up to its configured cap)
/// only when some plugin of the chain declared it; header-only chains stream.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BodyAccess(u8);

impl BodyAccess {
    /// No body (the default).
    pub const NONE: BodyAccess = BodyAccess(0);
    /// The request body.
    pub const REQUEST: BodyAccess = BodyAccess(1 << 0);
    /// The response body.
    pub const RESPONSE: BodyAccess = BodyAccess(1 << 1);
    /// Both bodies.
    pub const BOTH: BodyAccess = BodyAccess(0b11);

    /// Whether every body of `other` is in `self`.
    pub const fn contains(self, other: BodyAccess) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits in WIT `flags body-access` order.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for BodyAccess {
    type Output = BodyAccess;

    fn bitor(self, other: BodyAccess) -> BodyAccess {
        BodyAccess(self.0 | other.0)
    }
}

impl BitOrAssign for BodyAccess {
    fn bitor_assign(&mut self, other: BodyAccess) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for BodyAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (BodyAccess::REQUEST, "request"),
            (BodyAccess::RESPONSE, "response"),
        ]
        .into_iter()
        .filter(|(body, _)| self.contains(*body))
        .map(|(_, name)| name)
        .collect();
        write!(f, "BodyAccess({})", names.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_bits_follow_lifecycle_order() {
        let bits: Vec<u8> = Stage::ALL.iter().map(|s| Stages::of(*s).bits()).collect();
        assert_eq!(bits, [1, 2, 4, 8, 16]);
        assert_eq!(Stage::ALL.into_iter().collect::<Stages>(), Stages::ALL);
    }

    #[test]
    fn stages_combine_and_iterate() {
        let set = Stages::METHOD_REQUEST | Stages::LOG;
        assert!(set.has(Stage::Log) && !set.has(Stage::MethodResponse));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Stage::MethodRequest, Stage::Log]
        );
        assert_eq!(format!("{set:?}"), "Stages(method-request | log)");
    }

    #[test]
    fn stage_names_round_trip() {
        for stage in Stage::ALL {
            assert_eq!(stage.name().parse::<Stage>(), Ok(stage));
            assert_eq!(
                serde_json::to_string(&stage).unwrap(),
                format!("\"{stage}\"")
            );
        }
        let err = "method_request".parse::<Stage>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown stage `method_request`, expected one of")
        );
    }
}
