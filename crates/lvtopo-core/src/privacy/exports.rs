//! Exports that leave the privacy folder's control, each with its audit entry:
//! area aggregates (use cases 11, 13, 14), pseudonymised research data and the
//! audit log itself. The CLI and the app call these; neither writes such a
//! file itself. Other exports are recorded with [`PrivacyStore::record_export`]
//! or [`record_exports`].

use super::admission::{ReadRecord, Task, permit_use};
use super::aggregate::{AreaAggregates, AreaLevel, MinGroupSize, aggregate_feed_in};
use super::ev::EvDetection;
use super::pseudonym::{PseudonymKey, PseudonymiseOptions, pseudonymise_csv_file};
use super::{DataKind, PrivacyStore, fsutil};
use crate::model::{FeedInTable, Network};
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Records several files of one export (e.g. the two letter lists) in the audit log.
pub fn record_exports(store: &PrivacyStore, files: &[(PathBuf, usize)], what: &str) -> anyhow::Result<()> {
    files.iter().try_for_each(|(p, rows)| store.record_export(p, what, None, *rows))
}

/// The file name of the aggregates by `level` (`aggregates_by_feeder.csv`).
pub fn aggregates_file_name(level: AreaLevel) -> String {
    format!("aggregates_by_{}.csv", format!("{level:?}").to_lowercase())
}

/// Sums a feed-in read over areas of at least `k` connections. `reads`: the
/// admission records of the loaded reads when the read was admitted earlier
/// (the app); the feed-in read must have been admitted for an aggregate use case.
pub fn aggregates(
    net: &Network,
    feed_in: &FeedInTable,
    reads: Option<&[ReadRecord]>,
    level: AreaLevel,
    k: MinGroupSize,
) -> anyhow::Result<AreaAggregates> {
    if let Some(reads) = reads {
        permit_use(reads, DataKind::FeedIn, Task::Aggregates).map_err(anyhow::Error::msg)?;
    }
    Ok(aggregate_feed_in(net, feed_in, level, k, &EvDetection::default()))
}

/// Writes aggregates to `out` and records the export.
pub fn write_aggregates(store: &PrivacyStore, agg: &AreaAggregates, level: AreaLevel, out: &Path) -> anyhow::Result<()> {
    let bytes = agg.to_csv()?;
    fsutil::write_atomic(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    let what = format!("aggregates_by_{}", format!("{level:?}").to_lowercase());
    store.record_export(out, &what, None, agg.series.len() * agg.grid.len)
}

/// Writes `out` as the pseudonymised copy of a plain CSV that `write_plain`
/// produces (EANs keyed, address columns dropped, postcodes cut to PC4) and
/// records the export with the key's fingerprint. The plain file lives in the
/// privacy folder's raw cache only while it is pseudonymised.
pub fn write_pseudonymised(
    store: &PrivacyStore,
    key_file: &Path,
    out: &Path,
    what: &str,
    write_plain: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<(usize, String)> {
    let key = PseudonymKey::read(key_file)?;
    std::fs::create_dir_all(store.raw_cache_dir())?;
    let plain = store.raw_cache_dir().join(format!("{what}_plain.csv"));
    let r = write_plain(&plain).and_then(|()| {
        pseudonymise_csv_file(&plain, out, &key, &PseudonymiseOptions { ean_columns: vec![], drop_address: true })
    });
    let _ = std::fs::remove_file(&plain);
    let r = r?;
    store.record_export(out, what, Some(&key), r.rows)?;
    Ok((r.rows, key.fingerprint()))
}

/// Writes the audit log to `out` (CSV) and records that export; returns the number of entries.
pub fn export_audit_log(store: &PrivacyStore, out: &Path) -> anyhow::Result<usize> {
    let n = store.audit()?.export(out)?;
    store.record_export(out, "audit_log", None, n)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_file_is_gone_after_a_pseudonymised_export() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrivacyStore::open(Some(&dir.path().join("privacy"))).unwrap();
        let key = dir.path().join("k.key");
        PseudonymKey::create(&key).unwrap();
        let out = dir.path().join("out.csv");
        let (rows, _) = write_pseudonymised(&store, &key, &out, "research_data_assignments", |p| {
            std::fs::write(p, "ean,street,phase\n871687110000000017,Dorpsstraat,L1\n")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(rows, 1);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("ps_") && !text.contains("8716871") && !text.contains("Dorpsstraat"), "{text}");
        assert_eq!(std::fs::read_dir(store.raw_cache_dir()).unwrap().count(), 0);
        let log = store.audit().unwrap().entries().unwrap();
        assert!(log.last().unwrap().event.summary().contains("research_data_assignments"));
    }
}
