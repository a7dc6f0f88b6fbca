//! Writers for every measurement file of the data contract and `truth.csv`.
//! Timestamps in Dutch civil time with their offset (interval end), files
//! gzip-compressed when the name ends in `.gz`, written atomically.

use super::atomic::write_atomic_maybe_gz;
use crate::model::time::{Timestamp, format_amsterdam};
use crate::model::{EventCounterRead, FeedInTable, Incident, OutageRecord, PresenceAnswer, TimeGrid, TruthRow, VoltageTable};
use std::io::{self, Write};
use std::path::Path;

/// Formatted timestamps of a grid, computed once (formatting dominates otherwise).
fn grid_times(grid: &TimeGrid) -> Vec<String> {
    (0..grid.len).map(|i| format_amsterdam(grid.time(i))).collect()
}

/// `voltage.csv`: one row per present value (NaN = no row). `order` lists the
/// series in write order (default: table order); `duplicates` (series, step)
/// are written a second time at the end, as re-delivered rows are.
pub fn write_voltage(
    path: &Path,
    table: &VoltageTable,
    order: Option<&[usize]>,
    duplicates: &[(usize, usize)],
) -> io::Result<()> {
    let times = grid_times(&table.grid);
    let default: Vec<usize>;
    let order = match order {
        Some(o) => o,
        None => {
            default = (0..table.keys.len()).collect();
            &default
        }
    };
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,timestamp,channel,voltage_v\n")?;
        let row = |w: &mut dyn Write, s: usize, i: usize| -> io::Result<()> {
            let k = &table.keys[s];
            writeln!(w, "{},{},{},{}", k.ean, times[i], k.channel, table.series(s)[i])
        };
        for &s in order {
            let vals = table.series(s);
            for (i, v) in vals.iter().enumerate() {
                if !v.is_nan() {
                    row(w, s, i)?;
                }
            }
        }
        for &(s, i) in duplicates {
            if s < table.keys.len() && i < table.grid.len && !table.series(s)[i].is_nan() {
                row(w, s, i)?;
            }
        }
        Ok(())
    })
}

/// `feed_in.csv`: 15-minute import/export kWh; a row when both are present.
pub fn write_feed_in(path: &Path, table: &FeedInTable) -> io::Result<()> {
    let times = grid_times(&table.grid);
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,timestamp,import_kwh,export_kwh\n")?;
        for (e, ean) in table.eans.iter().enumerate() {
            for (i, (im, ex)) in table.import(e).iter().zip(table.export(e)).enumerate() {
                if !im.is_nan() && !ex.is_nan() {
                    writeln!(w, "{ean},{},{im},{ex}", times[i])?;
                }
            }
        }
        Ok(())
    })
}

pub fn write_voltage_events(path: &Path, reads: &[EventCounterRead]) -> io::Result<()> {
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,read_at,channel,undervoltage_count,overvoltage_count\n")?;
        for r in reads {
            writeln!(
                w,
                "{},{},{},{},{}",
                r.ean,
                format_amsterdam(r.read_at),
                r.channel,
                r.undervoltage_count,
                r.overvoltage_count
            )?;
        }
        Ok(())
    })
}

/// `outage_log.csv` in the `ean,start,end` form.
pub fn write_outage_log(path: &Path, log: &[OutageRecord]) -> io::Result<()> {
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,start,end\n")?;
        for r in log {
            writeln!(w, "{},{},{}", r.ean, format_amsterdam(r.start), format_amsterdam(r.end))?;
        }
        Ok(())
    })
}

/// `outage_log.csv` in the DSMR form `ean,end,duration_s`.
pub fn write_outage_log_dsmr(path: &Path, log: &[OutageRecord]) -> io::Result<()> {
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,end,duration_s\n")?;
        for r in log {
            writeln!(w, "{},{},{}", r.ean, format_amsterdam(r.end), r.end - r.start)?;
        }
        Ok(())
    })
}

pub fn write_incidents(path: &Path, incidents: &[Incident]) -> io::Result<()> {
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"incident_id,start,end,planned,cable_ids\n")?;
        for i in incidents {
            writeln!(
                w,
                "{},{},{},{},{}",
                csv_field(&i.id),
                format_amsterdam(i.start),
                format_amsterdam(i.end),
                i.planned,
                csv_field(&i.cable_ids.join(";"))
            )?;
        }
        Ok(())
    })
}

pub fn write_presence(path: &Path, answers: &[PresenceAnswer]) -> io::Result<()> {
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,timestamp,voltage_present\n")?;
        for a in answers {
            let v = match a.voltage_present {
                Some(true) => "true",
                Some(false) => "false",
                None => "",
            };
            writeln!(w, "{},{},{v}", a.ean, format_amsterdam(a.timestamp))?;
        }
        Ok(())
    })
}

pub fn write_truth(path: &Path, rows: &[TruthRow]) -> io::Result<()> {
    write_atomic_maybe_gz(path, |w| {
        w.write_all(b"ean,station_id,feeder_id,cable_id,phase,rotation\n")?;
        for r in rows {
            let rot = r.rotation.map(|x| x.to_string()).unwrap_or_default();
            writeln!(
                w,
                "{},{},{},{},{},{rot}",
                csv_field(&r.ean),
                csv_field(&r.station_id),
                csv_field(&r.feeder_id),
                csv_field(&r.cable_id),
                r.phase
            )?;
        }
        Ok(())
    })
}

/// Quotes a field when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")).into() } else { s.into() }
}

/// A timestamp as written in every file (Dutch civil time with offset).
pub fn format_time(t: Timestamp) -> String {
    format_amsterdam(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;
    use crate::model::{Phase, SeriesKey};
    use std::io::Read;

    #[test]
    fn voltage_rows_skip_missing_and_repeat_duplicates_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voltage.csv.gz");
        let start = parse_timestamp("2025-10-26T02:50:00+02:00").unwrap();
        let grid = TimeGrid { start, step_s: 600, len: 3 };
        let keys = vec![SeriesKey { ean: "871".into(), channel: Phase::L1 }];
        let t = VoltageTable::new(grid, keys, vec![230.1, f32::NAN, 231.0]);
        write_voltage(&p, &t, None, &[(0, 2)]).unwrap();
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&p).unwrap()).read_to_string(&mut s).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "ean,timestamp,channel,voltage_v");
        assert_eq!(lines[1], "871,2025-10-26T02:50:00+02:00,L1,230.1");
        // Across the DST change the offset changes with the wall clock.
        assert_eq!(lines[2], "871,2025-10-26T02:10:00+01:00,L1,231");
        assert_eq!(lines[3], lines[2]);
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn fields_with_commas_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
