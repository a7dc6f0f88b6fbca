//! `voltage.csv` (`ean,timestamp,channel,voltage_v`), the big one: tens of
//! millions of rows. Read in blocks of whole lines; each block is split in two
//! halves parsed on two threads without per-row allocation (byte fields, EANs
//! and timestamp strings interned per block, a fast decimal parser), then
//! merged in file order.
//!
//! Grid: 10-minute interval ends. The grid's phase is the most common
//! `timestamp mod 600 s` in the file (normally :00, :10, ...). A row off that
//! grid is rejected with an error: moving it to a neighbouring slot would
//! mix two different averaging windows.
//! Duplicates: the same meter, channel and time with the same value collapse
//! into one (counted); with a different value the first row in the file is
//! kept and the other reported.

use super::csvread::{
    FileIssues, MAX_ROW_BYTES, check_header, decimal_comma_diagnosis, decimal_comma_hint, field_count_message, label, open,
    read_error_message,
};
use super::report::{ImportReport, Location, shown_bytes};
use crate::model::time::{Timestamp, parse_timestamp};
use crate::model::{Network, Phase, SeriesKey, TimeGrid, VoltageTable};
use crate::progress::{Cancelled, Progress};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

pub const VOLTAGE_STEP_S: i64 = 600;
/// Longest time span a measurement file may cover (a year of 10-minute steps);
/// beyond this a stray timestamp would blow up the matrix.
pub const MAX_GRID_LEN: usize = 366 * 144;
const BLOCK: usize = 8 << 20;

const COLS: [&str; 4] = ["ean", "timestamp", "channel", "voltage_v"];

/// Fast decimal parser for `231`, `231.4`, `-0.25`; anything else (exponents,
/// `nan`, ...) goes to the standard parser. Non-finite results are refused.
pub fn parse_f32(b: &[u8]) -> Option<f32> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut mant: u64 = 0;
    let mut frac_digits = 0i32;
    let mut seen_dot = false;
    let mut n = 0;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mant = mant * 10 + (c - b'0') as u64;
                n += 1;
                if seen_dot {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return std::str::from_utf8(b).ok()?.parse::<f32>().ok().filter(|v| v.is_finite()),
        }
    }
    if n == 0 || n > 15 {
        return std::str::from_utf8(b).ok()?.parse::<f32>().ok().filter(|v| v.is_finite());
    }
    const P10: [f64; 16] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
    let v = mant as f64 / P10[frac_digits as usize];
    Some(if neg { -v as f32 } else { v as f32 })
}

/// `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `+HH:MM` / `-HH:MM` (what meters and
/// lvtopo write), parsed without allocation. `None` for anything else, including
/// invalid dates: the general parser then decides and words the error.
pub fn fast_timestamp(b: &[u8]) -> Option<Timestamp> {
    if !(b.len() == 20 || b.len() == 25) || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |i: usize, n: usize| -> Option<i64> {
        b[i..i + n].iter().try_fold(0i64, |a, &c| c.is_ascii_digit().then(|| a * 10 + (c - b'0') as i64))
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, s) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mdays = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d < 1 || d > mdays[(mo - 1) as usize] || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let offset = match (b.len(), b[19]) {
        (20, b'Z') => 0,
        (25, sign @ (b'+' | b'-')) if b[22] == b':' => {
            let (oh, om) = (num(20, 2)?, num(23, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            (oh * 3600 + om * 60) * if sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s - offset)
}

/// [`fast_timestamp`] with the day and offset of the previous call remembered: a
/// file holds ~10 distinct days, so most rows only need their time of day read.
#[derive(Default)]
struct DayCache {
    /// The text before the hour (`YYYY-MM-DDT`) and after the seconds (offset), and
    /// the instant of that day's 00:00:00 at that offset.
    day: [u8; 11],
    offset: [u8; 6],
    offset_len: usize,
    midnight: Option<Timestamp>,
}

impl DayCache {
    fn parse(&mut self, b: &[u8]) -> Option<Timestamp> {
        if let Some(m) = self.midnight
            && b.len() == 19 + self.offset_len
            && b[..11] == self.day
            && b[19..] == self.offset[..self.offset_len]
            && b[13] == b':'
            && b[16] == b':'
        {
            let two = |i: usize| -> Option<i64> {
                let (a, c) = (b[i], b[i + 1]);
                (a.is_ascii_digit() && c.is_ascii_digit()).then(|| ((a - b'0') * 10 + (c - b'0')) as i64)
            };
            let (h, mi, s) = (two(11)?, two(14)?, two(17)?);
            return (h <= 23 && mi <= 59 && s <= 59).then(|| m + h * 3600 + mi * 60 + s);
        }
        let t = fast_timestamp(b)?;
        let hms = |i: usize| ((b[i] - b'0') * 10 + (b[i + 1] - b'0')) as i64;
        self.day.copy_from_slice(&b[..11]);
        self.offset_len = b.len() - 19;
        self.offset[..self.offset_len].copy_from_slice(&b[19..]);
        self.midnight = Some(t - hms(11) * 3600 - hms(14) * 60 - hms(17));
        Some(t)
    }
}

/// Fx-style multiplicative hash for the integer keys of the per-row maps (the
/// default SipHash costs more than the rest of a row's parsing).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        // Folded 128-bit multiply: every output bit depends on every input bit (a plain
        // multiply leaves the low bits, which pick the bucket, to the key's low bits,
        // and timestamps on a 10-minute grid share theirs).
        let m = u128::from(self.0 ^ v) * 0x9e37_79b9_7f4a_7c15_u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
}

type BuildFx = std::hash::BuildHasherDefault<FxHasher>;

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() || *first == b'"' {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() || *last == b'"' {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn parse_channel(b: &[u8]) -> Option<Phase> {
    match b {
        b"L1" | b"l1" | b"1" => Some(Phase::L1),
        b"L2" | b"l2" | b"2" => Some(Phase::L2),
        b"L3" | b"l3" | b"3" => Some(Phase::L3),
        _ => None,
    }
}

/// One parsed value; ids are local to the piece until merged.
#[derive(Clone, Copy)]
struct Rec {
    ean: u32,
    time: u32,
    ch: u8,
    v: f32,
    /// Line offset within the piece (0-based).
    line: u32,
}

#[derive(Default)]
struct Piece {
    recs: Vec<Rec>,
    eans: Vec<String>,
    times: Vec<Timestamp>,
    /// (line offset, column, message): rejected rows.
    errors: Vec<(u32, &'static str, String)>,
    lines: u32,
    data_rows: u32,
    /// Rows with more fields than the header that look split at a decimal comma.
    decimal_comma: u32,
    /// Rows with the channel in lower case (`l1`).
    lower_case: u32,
}

/// Parses complete lines. `idx` = column index of ean, timestamp, channel, voltage_v.
fn parse_piece(buf: &[u8], idx: [usize; 4], ncols: usize) -> Piece {
    let mut p = Piece::default();
    let mut ean_map: HashMap<&[u8], u32> = HashMap::new();
    let mut time_map: HashMap<&[u8], Result<Timestamp, String>> = HashMap::new();
    let mut time_ids: HashMap<Timestamp, u32, BuildFx> = HashMap::default();
    let mut ts_cache = DayCache::default();
    let (mut last_ean, mut last_ean_id): (&[u8], u32) = (b"", u32::MAX);
    let (mut last_ts, mut last_ts_id): (&[u8], u32) = (b"", u32::MAX);
    let max_idx = *idx.iter().max().unwrap_or(&3);
    for (line, unquoted_fields) in Lines::new(buf) {
        let lno = p.lines;
        p.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        p.data_rows += 1;
        let mut nf = 0;
        let mut fields: [&[u8]; 16] = [b""; 16];
        if let Some((f, n)) = unquoted_fields {
            // Split by the scanner (the last field still carries a `\r`: `trim` drops it).
            fields = f;
            nf = n;
        } else {
            // Quoted fields (rare): split at commas outside quotes; `trim` drops the quotes.
            let (mut start, mut inq) = (0, false);
            for (k, &c) in line.iter().enumerate() {
                if c == b'"' {
                    inq = !inq;
                } else if c == b',' && !inq {
                    if nf < 16 {
                        fields[nf] = &line[start..k];
                    }
                    nf += 1;
                    start = k + 1;
                }
            }
            if nf < 16 {
                fields[nf] = &line[start..];
            }
            nf += 1;
        }
        if line.len() > MAX_ROW_BYTES {
            p.errors.push((
                lno,
                COLS[0],
                format!("the row is {} bytes, longer than the limit of {} MB", line.len(), MAX_ROW_BYTES >> 20),
            ));
            continue;
        }
        if nf != ncols {
            let hint = nf > ncols && decimal_comma_hint(fields[..nf.min(16)].iter().copied());
            p.decimal_comma += u32::from(hint);
            let col = if nf <= max_idx { COLS[idx.iter().position(|&i| i >= nf).unwrap_or(0)] } else { COLS[3] };
            p.errors.push((lno, col, field_count_message(ncols, nf, hint)));
            continue;
        }
        let ean = trim(fields[idx[0]]);
        let ts = trim(fields[idx[1]]);
        let ch = trim(fields[idx[2]]);
        let v = trim(fields[idx[3]]);
        if ean.is_empty() {
            p.errors.push((lno, "ean", "required value is missing".into()));
            continue;
        }
        let time = if ts == last_ts && last_ts_id != u32::MAX {
            last_ts_id
        } else {
            // The common fixed format is parsed in place; anything else (and every
            // error message) goes through the general parser, once per distinct text.
            let t = match ts_cache.parse(ts) {
                Some(t) => t,
                None => match time_map.entry(ts).or_insert_with(|| parse_timestamp(&String::from_utf8_lossy(ts))) {
                    Ok(t) => *t,
                    Err(e) => {
                        p.errors.push((lno, "timestamp", e.clone()));
                        continue;
                    }
                },
            };
            let id = *time_ids.entry(t).or_insert_with(|| {
                p.times.push(t);
                (p.times.len() - 1) as u32
            });
            last_ts = ts;
            last_ts_id = id;
            id
        };
        let Some(channel) = parse_channel(ch) else {
            p.errors.push((lno, "channel", format!("expected L1, L2 or L3, found {}", shown_bytes(ch))));
            continue;
        };
        p.lower_case += u32::from(ch.first() == Some(&b'l'));
        let volts = match parse_f32(v) {
            Some(x) if (0.0..=1000.0).contains(&x) => x,
            Some(x) => {
                p.errors.push((lno, "voltage_v", format!("expected a voltage between 0 and 1000 V, found {x}")));
                continue;
            }
            None if v.is_empty() => {
                p.errors.push((lno, "voltage_v", "expected a number, found an empty value".into()));
                continue;
            }
            None => {
                let msg = if v.contains(&b',')
                    && parse_f32(&v.iter().map(|&c| if c == b',' { b'.' } else { c }).collect::<Vec<u8>>()).is_some()
                {
                    format!("expected a number with a decimal point, found {} (decimal comma? use a dot)", shown_bytes(v))
                } else {
                    format!("expected a number, found {}", shown_bytes(v))
                };
                p.errors.push((lno, "voltage_v", msg));
                continue;
            }
        };
        let ean_id = if ean == last_ean && last_ean_id != u32::MAX {
            last_ean_id
        } else {
            let Ok(s) = std::str::from_utf8(ean) else {
                p.errors.push((lno, "ean", "expected UTF-8 text".into()));
                continue;
            };
            let id = *ean_map.entry(ean).or_insert_with(|| {
                p.eans.push(s.to_string());
                (p.eans.len() - 1) as u32
            });
            last_ean = ean;
            last_ean_id = id;
            id
        };
        p.recs.push(Rec { ean: ean_id, time, ch: channel.index() as u8, v: volts, line: lno });
    }
    p
}

/// Lines of a block with the fields of each unquoted line (`None` for a line with a
/// quote), from one scan for `,`, `"` and newline over the whole block. A last
/// line without newline is a line; nothing after a final newline is.
struct Lines<'a> {
    buf: &'a [u8],
    hits: Delims<'a>,
    start: usize,
}

/// Positions of `,`, `"` and newline in a block, eight bytes at a time (SWAR: exact
/// per-byte equality bits of a 64-bit word, no `unsafe`). With a delimiter every
/// dozen bytes this beats a SIMD search that restarts after every hit.
struct Delims<'a> {
    buf: &'a [u8],
    /// Start of the word whose remaining hits are in `mask`.
    word: usize,
    mask: u64,
}

impl<'a> Delims<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Delims { buf, word: 0, mask: Self::mask_at(buf, 0) }
    }
    fn mask_at(buf: &[u8], at: usize) -> u64 {
        const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let w = match buf.get(at..at + 8) {
            Some(b) => u64::from_le_bytes(b.try_into().unwrap()),
            None => {
                // Tail: pad with a byte that is none of the delimiters.
                let mut b = [0u8; 8];
                let rest = &buf[at.min(buf.len())..];
                b[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(b)
            }
        };
        let eq = |c: u8| {
            let x = w ^ (u64::from(c) * 0x0101_0101_0101_0101);
            // High bit of each byte of x that is zero (exact, no borrow between bytes).
            !(((x & LO7) + LO7) | x | LO7)
        };
        eq(b',') | eq(b'\n') | eq(b'"')
    }
}

impl Iterator for Delims<'_> {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.word += 8;
            if self.word >= self.buf.len() {
                return None;
            }
            self.mask = Self::mask_at(self.buf, self.word);
        }
        let i = self.word + (self.mask.trailing_zeros() / 8) as usize;
        self.mask &= self.mask - 1;
        Some(i)
    }
}

type Fields<'a> = ([&'a [u8]; 16], usize);

impl<'a> Lines<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Lines { buf, hits: Delims::new(buf), start: 0 }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a [u8], Option<Fields<'a>>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.start >= self.buf.len() {
            return None;
        }
        let (buf, start) = (self.buf, self.start);
        let mut fields: [&[u8]; 16] = [b""; 16];
        let (mut nf, mut fstart, mut quoted) = (0usize, start, false);
        let end = loop {
            match self.hits.next() {
                Some(i) if buf[i] == b',' => {
                    if nf < 16 {
                        fields[nf] = &buf[fstart..i];
                    }
                    nf += 1;
                    fstart = i + 1;
                }
                Some(i) if buf[i] == b'"' => quoted = true,
                Some(i) => break i,
                None => break buf.len(),
            }
        };
        if nf < 16 {
            fields[nf] = &buf[fstart..end];
        }
        nf += 1;
        self.start = end + 1;
        Some((&buf[start..end], (!quoted).then_some((fields, nf))))
    }
}

/// Global state while merging pieces in file order.
struct Merge {
    ean_ids: HashMap<String, u32>,
    eans: Vec<String>,
    time_ids: HashMap<Timestamp, u32>,
    times: Vec<Timestamp>,
    /// Series index per (ean id) and channel.
    series_of: Vec<[u32; 3]>,
    keys: Vec<SeriesKey>,
    /// Per series: (time id, value, row).
    values: Vec<Vec<(u32, f32, u32)>>,
    rows_read: usize,
    rejected: usize,
    decimal_comma: usize,
    lower_case: usize,
}

impl Merge {
    fn add(&mut self, p: Piece, first_row: usize, issues: &mut FileIssues, report: &mut ImportReport) {
        self.rows_read += p.data_rows as usize;
        self.decimal_comma += p.decimal_comma as usize;
        self.lower_case += p.lower_case as usize;
        self.rejected += p.errors.len();
        for (line, col, msg) in p.errors {
            issues.error(report, first_row + line as usize, Some(col), msg);
        }
        let ean_map: Vec<u32> = p
            .eans
            .into_iter()
            .map(|e| {
                let n = self.eans.len() as u32;
                *self.ean_ids.entry(e).or_insert_with_key(|k| {
                    self.eans.push(k.clone());
                    self.series_of.push([u32::MAX; 3]);
                    n
                })
            })
            .collect();
        let time_map: Vec<u32> = p
            .times
            .into_iter()
            .map(|t| {
                let n = self.times.len() as u32;
                *self.time_ids.entry(t).or_insert_with(|| {
                    self.times.push(t);
                    n
                })
            })
            .collect();
        for r in p.recs {
            let e = ean_map[r.ean as usize];
            let slot = &mut self.series_of[e as usize][r.ch as usize];
            if *slot == u32::MAX {
                *slot = self.keys.len() as u32;
                self.keys.push(SeriesKey { ean: self.eans[e as usize].clone(), channel: Phase::from_index(r.ch as usize) });
                self.values.push(Vec::new());
            }
            self.values[*slot as usize].push((time_map[r.time as usize], r.v, (first_row + r.line as usize) as u32));
        }
    }
}

/// The regular grid of a file's timestamps: phase = most common `t mod step`.
/// Returns the grid and, per distinct time, its slot (`None` = off the grid).
pub fn detect_grid(times: &[Timestamp], step: i64) -> Result<(TimeGrid, Vec<Option<usize>>), String> {
    if times.is_empty() {
        return Ok((TimeGrid { start: 0, step_s: step, len: 0 }, Vec::new()));
    }
    let mut phases: HashMap<i64, usize> = HashMap::new();
    for t in times {
        *phases.entry(t.rem_euclid(step)).or_default() += 1;
    }
    let phase = phases.into_iter().max_by_key(|&(ph, n)| (n, -ph)).map(|(ph, _)| ph).unwrap_or(0);
    let on: Vec<Timestamp> = times.iter().copied().filter(|t| t.rem_euclid(step) == phase).collect();
    let (start, end) = (on.iter().min().copied().unwrap_or(0), on.iter().max().copied().unwrap_or(0));
    let len = ((end - start) / step + 1) as usize;
    if len > MAX_GRID_LEN {
        return Err(format!(
            "timestamps span {:.0} days ({} to {}); expected at most a year of reads",
            (end - start) as f64 / 86_400.0,
            crate::model::time::format_utc(start),
            crate::model::time::format_utc(end)
        ));
    }
    let grid = TimeGrid { start, step_s: step, len };
    Ok((grid, times.iter().map(|&t| grid.index_of(t)).collect()))
}

/// Reads `voltage.csv` / `voltage.csv.gz`. `net` (when it has connections)
/// is used to report EANs that are not in the network (kept, with a warning).
pub fn read_voltage(
    path: &Path,
    net: Option<&Network>,
    report: &mut ImportReport,
    progress: &dyn Progress,
) -> Result<Option<VoltageTable>, Cancelled> {
    let file = label(path);
    let fi = report.begin_file(&file);
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0).max(1);
    let mut reader = match open(path) {
        Ok(r) => r,
        Err(e) => {
            report.error(&file, Location::File, None, e);
            return Ok(None);
        }
    };
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + 4096);
    let mut filled = 0usize;
    let mut eof = false;
    let mut read_err: Option<String> = None;
    let mut text_bytes: u64 = 0;
    let mut fill =
        |buf: &mut Vec<u8>, filled: &mut usize, eof: &mut bool, read_err: &mut Option<String>, text_bytes: &mut u64| {
            if buf.len() < BLOCK {
                buf.resize(BLOCK, 0);
            }
            while *filled < buf.len() && !*eof {
                match reader.read(&mut buf[*filled..]) {
                    Ok(0) => *eof = true,
                    Ok(n) => {
                        *filled += n;
                        *text_bytes += n as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        *read_err = Some(read_error_message(path, &e, *text_bytes));
                        *eof = true;
                    }
                }
            }
        };
    fill(&mut buf, &mut filled, &mut eof, &mut read_err, &mut text_bytes);
    if filled == 0 || buf[..filled].iter().all(u8::is_ascii_whitespace) {
        let msg = read_err.unwrap_or_else(|| "the file is empty; expected a header row ean,timestamp,channel,voltage_v".into());
        report.error(&file, Location::File, None, msg);
        return Ok(None);
    }
    // Header
    let hend = buf[..filled].iter().position(|&b| b == b'\n').or((eof && read_err.is_none()).then_some(filled));
    let Some(hend) = hend.filter(|&h| h <= MAX_ROW_BYTES) else {
        let msg = format!(
            "the header row is longer than {} MB (the limit of a row); expected ean,timestamp,channel,voltage_v",
            MAX_ROW_BYTES >> 20
        );
        report.error(&file, Location::File, None, read_err.unwrap_or(msg));
        return Ok(None);
    };
    let header: Vec<String> =
        String::from_utf8_lossy(&buf[..hend]).trim_end_matches('\r').split(',').map(str::to_string).collect();
    let Ok(h) = check_header(&header, &COLS, &[], &file, report) else {
        return Ok(None);
    };
    let idx = [h.index[0].unwrap_or(0), h.index[1].unwrap_or(1), h.index[2].unwrap_or(2), h.index[3].unwrap_or(3)];
    if idx.iter().any(|&i| i >= 16) {
        report.error(
            &file,
            Location::File,
            None,
            "expected the columns ean, timestamp, channel and voltage_v among the first 16 of the header",
        );
        return Ok(None);
    }
    let ncols = h.fields;
    let mut consumed = (hend + 1).min(filled);
    let mut issues = FileIssues::new(&file);
    let mut m = Merge {
        ean_ids: HashMap::new(),
        eans: Vec::new(),
        time_ids: HashMap::new(),
        times: Vec::new(),
        series_of: Vec::new(),
        keys: Vec::new(),
        values: Vec::new(),
        rows_read: 0,
        rejected: 0,
        decimal_comma: 0,
        lower_case: 0,
    };
    let mut next_row = 1usize;
    let mut compressed_seen = 0u64;
    let prof = std::env::var_os("LVTOPO_PROFILE").is_some();
    let (mut t_parse, mut t_merge, mut t_fill) = (0f64, 0f64, 0f64);
    loop {
        // Complete lines in buf[consumed..filled].
        let data = &buf[consumed..filled];
        let cut = if eof {
            if read_err.is_some() { data.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0) } else { data.len() }
        } else {
            match data.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None if consumed == 0 || data.len() > MAX_ROW_BYTES => {
                    // No line end in a whole block: a row past the limit. Memory stays at one block.
                    report.error(
                        &file,
                        Location::File,
                        None,
                        format!(
                            "row {next_row} is longer than {} MB (the limit of a row); expected one row per line. The rest of the file is not read",
                            MAX_ROW_BYTES >> 20
                        ),
                    );
                    return Ok(None);
                }
                None => 0,
            }
        };
        let block = &data[..cut];
        if !block.is_empty() {
            // Two halves at a line boundary, parsed in parallel.
            let mid = block.len() / 2;
            let split = block[mid..].iter().position(|&b| b == b'\n').map(|i| mid + i + 1).unwrap_or(block.len());
            let (a, b) = block.split_at(split);
            let t0 = std::time::Instant::now();
            let (pa, pb) = if b.is_empty() {
                (parse_piece(a, idx, ncols), Piece::default())
            } else {
                rayon::join(|| parse_piece(a, idx, ncols), || parse_piece(b, idx, ncols))
            };
            let t1 = std::time::Instant::now();
            let (la, lb) = (pa.lines as usize, pb.lines as usize);
            m.add(pa, next_row, &mut issues, report);
            m.add(pb, next_row + la, &mut issues, report);
            t_parse += (t1 - t0).as_secs_f64();
            t_merge += t1.elapsed().as_secs_f64();
            next_row += la + lb;
        }
        compressed_seen += cut as u64;
        progress.set((compressed_seen as f64 / total as f64).min(0.99) as f32 * 0.9, &format!("reading {file}"));
        if progress.is_cancelled() {
            return Err(Cancelled);
        }
        if eof {
            break;
        }
        // Move the incomplete tail to the front and refill.
        let tail = consumed + cut;
        buf.copy_within(tail..filled, 0);
        filled -= tail;
        consumed = 0;
        let t0 = std::time::Instant::now();
        fill(&mut buf, &mut filled, &mut eof, &mut read_err, &mut text_bytes);
        t_fill += t0.elapsed().as_secs_f64();
    }
    if let Some(e) = read_err {
        report.error(&file, Location::File, None, format!("{e}; rows up to row {} were read", next_row.saturating_sub(1)));
    }
    progress.set(0.9, &format!("arranging {file}"));
    let t0 = std::time::Instant::now();
    if let Some(msg) = decimal_comma_diagnosis(m.decimal_comma, m.rows_read) {
        report.error(&file, Location::File, None, msg);
    }
    super::measurements::lower_case_channels(report, &file, m.lower_case);
    let built = build_table(m, &file, fi, net, &mut issues, report);
    if prof {
        eprintln!(
            "[profile] read {t_fill:.2} s, parse {t_parse:.2} s, merge {t_merge:.2} s, table {:.2} s",
            t0.elapsed().as_secs_f64()
        );
    }
    issues.finish(report);
    progress.set(1.0, &format!("read {file}"));
    Ok(built)
}

fn build_table(
    m: Merge,
    file: &str,
    fi: usize,
    net: Option<&Network>,
    issues: &mut FileIssues,
    report: &mut ImportReport,
) -> Option<VoltageTable> {
    let Merge { eans, times, keys, values, rows_read, mut rejected, .. } = m;
    let (grid, slot) = match detect_grid(&times, VOLTAGE_STEP_S) {
        Ok(g) => g,
        Err(e) => {
            report.error(file, Location::File, Some("timestamp"), e);
            let s = report.file_mut(fi);
            s.rows_read = rows_read;
            s.rejected = rows_read;
            return None;
        }
    };
    let n = grid.len;
    let mut matrix = vec![f32::NAN; keys.len() * n];
    let mut first_row = vec![0u32; keys.len() * n];
    let mut dups = 0usize;
    let mut accepted = 0usize;
    for (s, vals) in values.iter().enumerate() {
        for &(t, v, row) in vals {
            let Some(i) = slot[t as usize] else {
                rejected += 1;
                issues.error(
                    report,
                    row as usize,
                    Some("timestamp"),
                    format!(
                        "timestamp {} is not on the 10-minute grid of this file (interval ends at {} + k x 10 min)",
                        crate::model::time::format_utc(times[t as usize]),
                        crate::model::time::format_utc(grid.start)
                    ),
                );
                continue;
            };
            let k = s * n + i;
            if matrix[k].is_nan() {
                matrix[k] = v;
                first_row[k] = row;
                accepted += 1;
            } else if matrix[k] == v {
                dups += 1;
            } else {
                rejected += 1;
                issues.warning(
                    report,
                    row as usize,
                    Some("voltage_v"),
                    format!(
                        "conflicting duplicate: {} V for {} {} at {}, but row {} gave {} V; kept the first",
                        v,
                        keys[s].ean,
                        keys[s].channel,
                        crate::model::time::format_utc(grid.time(i)),
                        first_row[k],
                        matrix[k]
                    ),
                );
            }
        }
    }
    let s = report.file_mut(fi);
    s.rows_read = rows_read;
    s.accepted = accepted;
    s.rejected = rejected;
    s.duplicates = dups;
    if rows_read == 0 {
        report.warning(file, Location::File, None, "the file has a header but no data rows");
    }
    report_unknown_eans(report, file, net, eans.iter().map(|e| (e.as_str(), values_rows(&keys, &values, e))));
    Some(VoltageTable::new(grid, keys, matrix))
}

fn values_rows(keys: &[SeriesKey], values: &[Vec<(u32, f32, u32)>], ean: &str) -> usize {
    keys.iter().zip(values).filter(|(k, _)| k.ean == ean).map(|(_, v)| v.len()).sum()
}

/// Reports EANs of a measurement file that are not in the network: one warning
/// with the number of rows and EANs and the first few. Skipped when no network
/// (or an empty one) is given.
pub fn report_unknown_eans<'a>(
    report: &mut ImportReport,
    file: &str,
    net: Option<&Network>,
    eans: impl Iterator<Item = (&'a str, usize)>,
) {
    let Some(net) = net.filter(|n| !n.connections.is_empty()) else { return };
    let mut unknown: Vec<(&str, usize)> = eans.filter(|(e, _)| net.connection_index(e).is_none()).collect();
    if unknown.is_empty() {
        return;
    }
    unknown.sort();
    let rows: usize = unknown.iter().map(|(_, n)| n).sum();
    let first: Vec<&str> = unknown.iter().take(5).map(|(e, _)| *e).collect();
    report.warning(
        file,
        Location::File,
        Some("ean"),
        format!(
            "{rows} row(s) for {} EAN(s) not in the network, kept but not matched to a connection: {}{}",
            unknown.len(),
            first.join(", "),
            if unknown.len() > first.len() { ", ..." } else { "" }
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_float_parser() {
        assert_eq!(parse_f32(b"231.4"), Some(231.4));
        assert_eq!(parse_f32(b"231"), Some(231.0));
        assert_eq!(parse_f32(b"-0.25"), Some(-0.25));
        assert_eq!(parse_f32(b"2.3e2"), Some(230.0));
        assert_eq!(parse_f32(b"2x0"), None);
        assert_eq!(parse_f32(b""), None);
        assert_eq!(parse_f32(b"."), None);
        assert_eq!(parse_f32(b"nan"), None);
        assert_eq!(parse_f32(b"1.2.3"), None);
    }

    #[test]
    fn fast_timestamps_agree_with_the_general_parser() {
        for t in [
            "2025-03-10T14:20:00+01:00",
            "2025-03-30T01:10:00Z",
            "2024-02-29T23:59:59-05:30",
            "1969-12-31T23:50:00+00:00",
            "2000-03-01T00:00:00+14:00",
            "2100-02-28T12:00:00Z",
        ] {
            assert_eq!(fast_timestamp(t.as_bytes()), Some(parse_timestamp(t).unwrap()), "{t}");
        }
        for t in [
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-03-10T24:00:00Z",
            "2025-03-10T14:20:00",
            "2025-03-10 14:20:00+01:00",
            "2025-03-10T14:20:00.5Z",
            "2025-03-10T14:20:00+0100",
            "x025-03-10T14:20:00Z",
        ] {
            assert_eq!(fast_timestamp(t.as_bytes()), None, "{t}");
        }
    }

    #[test]
    fn day_cache_agrees_with_the_full_parser() {
        let mut c = DayCache::default();
        for t in [
            "2025-03-10T14:20:00+01:00",
            "2025-03-10T14:30:00+01:00",
            "2025-03-10T23:59:59+01:00",
            "2025-03-10T14:30:00+02:00",
            "2025-03-10T14:30:00Z",
            "2025-03-10T14:40:00Z",
            "2025-03-11T00:00:00Z",
        ] {
            assert_eq!(c.parse(t.as_bytes()), Some(parse_timestamp(t).unwrap()), "{t}");
        }
        assert_eq!(c.parse(b"2025-03-11T24:00:00Z"), None);
        assert_eq!(c.parse(b"2025-03-11T0a:00:00Z"), None);
    }

    #[test]
    fn grid_phase_and_off_grid_times() {
        let times = [1200, 600, 1800, 1830, 2400];
        let (g, slots) = detect_grid(&times, 600).unwrap();
        assert_eq!(g, TimeGrid { start: 600, step_s: 600, len: 4 });
        assert_eq!(slots, vec![Some(1), Some(0), Some(2), None, Some(3)]);
        let (g, _) = detect_grid(&[300, 900, 1500], 600).unwrap();
        assert_eq!(g.start, 300);
        assert!(detect_grid(&[0, 400 * 86_400], 600).is_err());
    }

    #[test]
    fn lines_and_fields_from_the_scanner() {
        let got: Vec<(String, Option<usize>)> = Lines::new(b"a,b,c\r\n\n\"x,y\",z\nlast,1")
            .map(|(l, f)| (String::from_utf8_lossy(l).into_owned(), f.map(|f| f.1)))
            .collect();
        let want = [("a,b,c\r", Some(3)), ("", Some(1)), ("\"x,y\",z", None), ("last,1", Some(2))];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b)));
        assert_eq!(Lines::new(b"a\n").count(), 1);
        let long = b"0123456789,abcdefghij\"klmno,\n0123456789abcdef,x";
        let want: Vec<usize> = long.iter().enumerate().filter(|(_, c)| b",\n\"".contains(c)).map(|(i, _)| i).collect();
        assert_eq!(Delims::new(long).collect::<Vec<_>>(), want);
        let (_, f) = Lines::new(b"e,t,L1,230.5\r\n").next().unwrap();
        let (f, n) = f.unwrap();
        assert_eq!((n, trim(f[3])), (4, &b"230.5"[..]));
    }

    #[test]
    fn pieces_keep_line_numbers_and_errors() {
        let p = parse_piece(
            b"871,2025-03-10T14:20:00+01:00,L1,230.1\n\n871,2025-03-10T14:20:00,L1,230\n871,2025-03-10T14:30:00+01:00,L4,230\n",
            [0, 1, 2, 3],
            4,
        );
        assert_eq!(p.lines, 4);
        assert_eq!(p.data_rows, 3);
        assert_eq!(p.recs.len(), 1);
        assert_eq!(p.errors[0].0, 2);
        assert!(p.errors[0].2.contains("without offset"));
        assert_eq!(p.errors[1].1, "channel");
    }
}
