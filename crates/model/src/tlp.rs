//! Traffic Light Protocol 2.0 (FIRST), as carried by STIX 2.1 marking definitions.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A TLP 2.0 level. The order is the order of restriction: `Clear < Green < Amber <
/// AmberStrict < Red`, so the stricter of two markings is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    Red,
}

/// The STIX 2.1 extension that defines TLP 2.0 marking definitions (OASIS
/// cti-stix-common-objects, `extension-definition-specifications/tlp-2.0`).
pub const TLP2_EXTENSION_ID: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The `created` timestamp the published TLP 2.0 marking definitions carry; it is
/// part of those fixed objects, like their ids.
pub const TLP2_CREATED: &str = "2022-10-01T00:00:00.000Z";

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// The level as TLP 2.0 writes it after `TLP:` (lower case here, as in STIX).
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// The fixed id of the TLP 2.0 marking definition for this level.
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// Recognises a marking-definition id as TLP: the TLP 2.0 ids, and the TLP 1.0
    /// ids predefined by STIX 2.1 §7.2.1.4 (WHITE is read as CLEAR, its successor).
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        match id {
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Some(Tlp::Clear),
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Some(Tlp::Green),
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Some(Tlp::Amber),
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Some(Tlp::Red),
            _ => Tlp::ALL.into_iter().find(|t| t.marking_id() == id),
        }
    }

    /// The complete STIX 2.1 marking-definition object for this level, exactly as
    /// OASIS publishes it.
    pub fn marking_definition(self) -> serde_json::Value {
        serde_json::json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_id(),
            "created": TLP2_CREATED,
            "name": self.to_string(),
            "extensions": {
                TLP2_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.as_str(),
                }
            }
        })
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.as_str().to_ascii_uppercase())
    }
}

/// A TLP level that is not one of the five of TLP 2.0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLP level {0:?}: use one of clear, green, amber, amber+strict, red")]
pub struct ParseTlpError(pub String);

impl FromStr for Tlp {
    type Err = ParseTlpError;

    /// Accepts `amber`, `TLP:AMBER`, `tlp:amber+strict`, `amber-strict`, and `white`
    /// (TLP 1.0's name for CLEAR).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp:").unwrap_or(&lower);
        match bare {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber-strict" | "amber_strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(ParseTlpError(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_restriction() {
        assert_eq!(Tlp::Green.max(Tlp::AmberStrict), Tlp::AmberStrict);
        assert!(Tlp::Clear < Tlp::Red);
    }

    #[test]
    fn names_round_trip() {
        for t in Tlp::ALL {
            assert_eq!(t.to_string().parse::<Tlp>(), Ok(t));
            assert_eq!(t.as_str().parse::<Tlp>(), Ok(t));
            assert_eq!(Tlp::from_marking_id(t.marking_id()), Some(t));
        }
        assert_eq!("TLP:WHITE".parse::<Tlp>(), Ok(Tlp::Clear));
        assert!("purple".parse::<Tlp>().is_err());
    }

    #[test]
    fn serde_uses_stix_spelling() {
        let json = serde_json::to_string(&Tlp::AmberStrict).expect("serialise");
        assert_eq!(json, "\"amber+strict\"");
    }

    #[test]
    fn marking_definition_names_the_level() {
        let m = Tlp::AmberStrict.marking_definition();
        assert_eq!(m["name"], "TLP:AMBER+STRICT");
        assert_eq!(m["extensions"][TLP2_EXTENSION_ID]["tlp_2_0"], "amber+strict");
    }
}
