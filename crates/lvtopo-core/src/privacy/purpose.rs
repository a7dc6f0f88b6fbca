//! The approved use cases lvtopo serves (July 2025 list of the Dutch grid
//! operators) and the privacy rule that comes with each, as data.
//!
//! Use cases 8, 10 and 15 (billing without contract, approving meter readings,
//! reading disconnected connections) are administrative and out of scope:
//! lvtopo has no purpose for them, so it loads no read for them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a measurement read is for. Every read lvtopo loads is tied to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Use case 7: correcting the GIS topology (cable, phase) from a short voltage read.
    GisTopologyCorrection,
    /// Use case 1: fault localisation from "voltage present?" answers.
    FaultLocalisation,
    /// Use case 4: compensation after an unplanned outage longer than 4 h.
    Compensation,
    /// Use case 9: the national interruption register (Nestor).
    InterruptionRegister,
    /// Use case 2: voltage quality from the quarterly event counters.
    VoltageQualityEvents,
    /// Use case 3: seasonal analysis, at most 10 days of 10-minute voltages plus feed-in.
    SeasonalVoltageAnalysis,
    /// Use case 5: effect of an intervention, two reads before and after.
    InterventionEffect,
    /// Use case 6: PV presence and size vs the register, one week of feed-in per season.
    PvRegistration,
    /// Use case 12: unsafe situations (e.g. a broken neutral), stepwise.
    UnsafeSituations,
    /// Use case 11: quarter-hour load, only as sums over enough connections.
    LoadAggregates,
    /// Use case 13: private EV charging, only as area aggregates.
    EvChargingAggregates,
    /// Use case 14: research data, only as aggregates, EANs removed.
    ResearchAggregates,
}

/// The kinds of meter data lvtopo loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// `voltage.csv`: 10-minute average voltages.
    Voltage,
    /// `feed_in.csv`: 15-minute import/export energy.
    FeedIn,
    /// `voltage_presence.csv`: on-demand "voltage present?" answers.
    VoltagePresence,
    /// `outage_log.csv`: the meters' power-failure logs.
    OutageLog,
    /// `voltage_events.csv`: cumulative under/overvoltage counters.
    EventCounters,
}

impl DataKind {
    pub const ALL: [DataKind; 5] =
        [DataKind::Voltage, DataKind::FeedIn, DataKind::VoltagePresence, DataKind::OutageLog, DataKind::EventCounters];

    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Voltage => "voltage",
            DataKind::FeedIn => "feed_in",
            DataKind::VoltagePresence => "voltage_presence",
            DataKind::OutageLog => "outage_log",
            DataKind::EventCounters => "voltage_events",
        }
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const DAY_S: i64 = 86_400;

/// The numbers behind a purpose's rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Data kinds the purpose may use at all (data minimisation).
    pub allowed: &'static [DataKind],
    /// Longest read, in seconds, for the time-series kinds.
    pub max_period_s: Option<i64>,
    /// At most one read of a connection for this purpose within 365 days.
    pub once_per_year: bool,
    /// At most this many reads of a connection within 365 days, and one per season.
    pub per_season: Option<u32>,
    /// Data only from within a (suspected) outage window.
    pub outage_window_only: bool,
    /// The user must state why (e.g. "event counters high", "station and cable measurements show a problem").
    pub needs_justification: bool,
    /// Results may only be shown or exported as sums over at least k connections.
    pub aggregates_only: bool,
}

impl Purpose {
    pub const ALL: [Purpose; 12] = [
        Purpose::GisTopologyCorrection,
        Purpose::FaultLocalisation,
        Purpose::Compensation,
        Purpose::InterruptionRegister,
        Purpose::VoltageQualityEvents,
        Purpose::SeasonalVoltageAnalysis,
        Purpose::InterventionEffect,
        Purpose::PvRegistration,
        Purpose::UnsafeSituations,
        Purpose::LoadAggregates,
        Purpose::EvChargingAggregates,
        Purpose::ResearchAggregates,
    ];

    /// Number in the operators' list of approved use cases.
    pub fn use_case(self) -> u8 {
        match self {
            Purpose::GisTopologyCorrection => 7,
            Purpose::FaultLocalisation => 1,
            Purpose::Compensation => 4,
            Purpose::InterruptionRegister => 9,
            Purpose::VoltageQualityEvents => 2,
            Purpose::SeasonalVoltageAnalysis => 3,
            Purpose::InterventionEffect => 5,
            Purpose::PvRegistration => 6,
            Purpose::UnsafeSituations => 12,
            Purpose::LoadAggregates => 11,
            Purpose::EvChargingAggregates => 13,
            Purpose::ResearchAggregates => 14,
        }
    }

    /// Machine name, as used in sidecar files, the CLI and the audit log.
    pub fn slug(self) -> &'static str {
        match self {
            Purpose::GisTopologyCorrection => "gis_topology_correction",
            Purpose::FaultLocalisation => "fault_localisation",
            Purpose::Compensation => "compensation",
            Purpose::InterruptionRegister => "interruption_register",
            Purpose::VoltageQualityEvents => "voltage_quality_events",
            Purpose::SeasonalVoltageAnalysis => "seasonal_voltage_analysis",
            Purpose::InterventionEffect => "intervention_effect",
            Purpose::PvRegistration => "pv_registration",
            Purpose::UnsafeSituations => "unsafe_situations",
            Purpose::LoadAggregates => "load_aggregates",
            Purpose::EvChargingAggregates => "ev_charging_aggregates",
            Purpose::ResearchAggregates => "research_aggregates",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Purpose::GisTopologyCorrection => "GIS topology correction",
            Purpose::FaultLocalisation => "fault localisation",
            Purpose::Compensation => "outage compensation",
            Purpose::InterruptionRegister => "interruption register",
            Purpose::VoltageQualityEvents => "voltage quality events",
            Purpose::SeasonalVoltageAnalysis => "seasonal voltage analysis",
            Purpose::InterventionEffect => "effect of an intervention (before/after)",
            Purpose::PvRegistration => "PV registration check",
            Purpose::UnsafeSituations => "unsafe situations",
            Purpose::LoadAggregates => "aggregated load",
            Purpose::EvChargingAggregates => "aggregated EV charging",
            Purpose::ResearchAggregates => "research aggregates",
        }
    }

    /// The privacy rule as the operators publish it to their customers (in English).
    pub fn rule_text(self) -> &'static str {
        match self {
            Purpose::GisTopologyCorrection => {
                "voltage only, at most 10 days, at most once per connection per year, for a stated purpose; the source data is deleted afterwards"
            }
            Purpose::FaultLocalisation => "voltage presence (yes/no) only, and only during a (suspected) outage",
            Purpose::Compensation => "the meters' power-failure logs only",
            Purpose::InterruptionRegister => "the meters' power-failure logs only",
            Purpose::VoltageQualityEvents => "the under/overvoltage event counters only, read once a quarter",
            Purpose::SeasonalVoltageAnalysis => {
                "only where event counts are high: at most 10 days of 10-minute voltages plus PV feed-in"
            }
            Purpose::InterventionEffect => "two voltage reads of at most 10 days each, at least 1 day apart",
            Purpose::PvRegistration => "feed-in over at most one week, at most 4 times a year (once per season)",
            Purpose::UnsafeSituations => {
                "individual connections only after station and cable measurements gave reason; voltage (and feed-in) for at most 10 days"
            }
            Purpose::LoadAggregates => "quarter-hour values only as sums over enough connections (a larger area when too few)",
            Purpose::EvChargingAggregates => "charging sessions only as area aggregates, never per connection",
            Purpose::ResearchAggregates => "EANs removed; only as sums over at least 10 connections per area",
        }
    }

    pub fn limits(self) -> Limits {
        use DataKind::*;
        let base = Limits {
            allowed: &[],
            max_period_s: None,
            once_per_year: false,
            per_season: None,
            outage_window_only: false,
            needs_justification: false,
            aggregates_only: false,
        };
        match self {
            Purpose::GisTopologyCorrection => {
                Limits { allowed: &[Voltage], max_period_s: Some(10 * DAY_S), once_per_year: true, ..base }
            }
            Purpose::FaultLocalisation => Limits { allowed: &[VoltagePresence], outage_window_only: true, ..base },
            Purpose::Compensation | Purpose::InterruptionRegister => Limits { allowed: &[OutageLog], ..base },
            Purpose::VoltageQualityEvents => Limits { allowed: &[EventCounters], ..base },
            Purpose::SeasonalVoltageAnalysis => {
                Limits { allowed: &[Voltage, FeedIn], max_period_s: Some(10 * DAY_S), needs_justification: true, ..base }
            }
            Purpose::InterventionEffect => Limits { allowed: &[Voltage], max_period_s: Some(10 * DAY_S), ..base },
            Purpose::PvRegistration => Limits { allowed: &[FeedIn], max_period_s: Some(7 * DAY_S), per_season: Some(4), ..base },
            Purpose::UnsafeSituations => {
                Limits { allowed: &[Voltage, FeedIn], max_period_s: Some(10 * DAY_S), needs_justification: true, ..base }
            }
            Purpose::LoadAggregates | Purpose::EvChargingAggregates | Purpose::ResearchAggregates => {
                Limits { allowed: &[FeedIn], aggregates_only: true, ..base }
            }
        }
    }

    /// Parses a slug, `uc7` / `7` (the use-case number), or a few obvious aliases.
    pub fn parse(s: &str) -> Result<Purpose, String> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let num = t.strip_prefix("uc").or_else(|| t.strip_prefix("use_case_")).unwrap_or(&t);
        if let Ok(n) = num.trim_start_matches('_').parse::<u8>() {
            return match n {
                11 => Ok(Purpose::LoadAggregates),
                13 => Ok(Purpose::EvChargingAggregates),
                14 => Ok(Purpose::ResearchAggregates),
                8 | 10 | 15 => Err(format!(
                    "use case {n} (administrative: billing/meter readings/disconnected connections) is not served by lvtopo"
                )),
                _ => Purpose::ALL
                    .into_iter()
                    .find(|p| p.use_case() == n)
                    .ok_or_else(|| format!("there is no approved use case {n}; expected one of {}", Self::choices())),
            };
        }
        let alias = match t.as_str() {
            "gis" | "topology" | "gis_correction" => Some(Purpose::GisTopologyCorrection),
            "outage" | "fault" => Some(Purpose::FaultLocalisation),
            "pv" => Some(Purpose::PvRegistration),
            "before_after" | "intervention" => Some(Purpose::InterventionEffect),
            "seasonal" | "voltage_analysis" => Some(Purpose::SeasonalVoltageAnalysis),
            "ev" => Some(Purpose::EvChargingAggregates),
            _ => None,
        };
        alias
            .or_else(|| Purpose::ALL.into_iter().find(|p| p.slug() == t))
            .ok_or_else(|| format!("unknown purpose {s:?}; expected one of {}", Self::choices()))
    }

    /// "gis_topology_correction (uc7), ..." for messages.
    pub fn choices() -> String {
        Purpose::ALL.iter().map(|p| format!("{} (uc{})", p.slug(), p.use_case())).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (use case {})", self.title(), self.use_case())
    }
}

impl FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_parses_from_slug_and_number() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.slug()).unwrap(), p);
            assert_eq!(Purpose::parse(&format!("uc{}", p.use_case())).unwrap(), p);
            assert!(!p.limits().allowed.is_empty(), "{p} allows no data at all");
        }
        assert_eq!(Purpose::parse("GIS-topology-correction").unwrap(), Purpose::GisTopologyCorrection);
        assert!(Purpose::parse("uc8").unwrap_err().contains("not served"));
        assert!(Purpose::parse("marketing").unwrap_err().contains("expected one of"));
    }

    #[test]
    fn serde_uses_slugs() {
        let j = serde_json::to_string(&Purpose::PvRegistration).unwrap();
        assert_eq!(j, "\"pv_registration\"");
    }
}
