//! Keyed pseudonyms for exports that leave the GIS team (research data,
//! aggregates): HMAC-SHA256 of the EAN under a key the user holds. The same
//! key gives the same pseudonym in every export (so exports can be joined);
//! another key gives unrelated ones; without the key nobody can go back to the
//! EAN, not even by trying all EANs of a network.
//!
//! Letter lists are exempt: a letter needs the real address. And an address
//! next to a pseudonym identifies the customer anyway, so a CSV with address
//! columns is refused unless they are dropped ([`PseudonymiseOptions::drop_address`]).

use super::fsutil::{hex, random_key, unhex, write_atomic, write_private};
use super::ledger::restrict_permissions;
use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{Read, Write};
use std::path::Path;

/// A pseudonymisation key: 32 random bytes, stored as 64 hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey([u8; 32]);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PseudonymKey({})", self.fingerprint()) // never print the key itself
    }
}

impl PseudonymKey {
    pub fn generate() -> PseudonymKey {
        PseudonymKey(random_key())
    }

    pub fn from_bytes(b: [u8; 32]) -> PseudonymKey {
        PseudonymKey(b)
    }

    /// Reads a key file (64 hex digits, whitespace ignored).
    pub fn read(path: &Path) -> anyhow::Result<PseudonymKey> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))?;
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = unhex(&compact).filter(|b| b.len() == 32).with_context(|| {
            format!("{}: expected a key of 64 hex digits (make one with `lvtopo privacy keygen`)", path.display())
        })?;
        let mut k = [0u8; 32];
        k.copy_from_slice(&bytes);
        Ok(PseudonymKey(k))
    }

    /// Makes a new key file; refuses to overwrite one (a lost key cannot be recovered).
    pub fn create(path: &Path) -> anyhow::Result<PseudonymKey> {
        if path.exists() {
            anyhow::bail!(
                "{} exists already; a key is never overwritten (exports made with it would no longer match)",
                path.display()
            );
        }
        let k = PseudonymKey::generate();
        write_private(path, format!("{}\n", hex(&k.0)).as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        restrict_permissions(path);
        Ok(k)
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(domain);
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// The pseudonym of an EAN: `ps_` + 128 bits of HMAC-SHA256, hex.
    pub fn pseudonym(&self, ean: &str) -> String {
        format!("ps_{}", hex(&self.mac(b"lvtopo-ean-v1:", ean.trim().as_bytes())[..16]))
    }

    /// Names the key in the audit log without revealing it.
    pub fn fingerprint(&self) -> String {
        hex(&self.mac(b"lvtopo-key-fingerprint-v1", b"")[..6])
    }
}

#[derive(Clone, Debug, Default)]
pub struct PseudonymiseOptions {
    /// Columns holding EANs; empty: every column named `ean` or ending in `_ean`.
    pub ean_columns: Vec<String>,
    /// Drop street / house number / name columns and cut postcodes to 4 digits.
    pub drop_address: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PseudonymiseReport {
    pub rows: usize,
    pub pseudonymised: usize,
    pub ean_columns: Vec<String>,
    pub dropped_columns: Vec<String>,
    pub postcode_columns_cut: Vec<String>,
}

fn is_address_column(h: &str) -> bool {
    let h = h.trim().to_ascii_lowercase();
    matches!(
        h.as_str(),
        "street"
            | "straat"
            | "straatnaam"
            | "house_number"
            | "huisnummer"
            | "house_number_addition"
            | "toevoeging"
            | "huisnummertoevoeging"
            | "address"
            | "adres"
            | "name"
            | "naam"
            | "customer"
            | "klant"
            | "email"
            | "phone"
    )
}

fn is_postcode_column(h: &str) -> bool {
    matches!(h.trim().to_ascii_lowercase().as_str(), "postcode" | "postal_code" | "zip")
}

/// Rewrites the EAN column(s) of a CSV export with keyed pseudonyms.
pub fn pseudonymise_csv<R: Read, W: Write>(
    input: R,
    output: W,
    key: &PseudonymKey,
    opts: &PseudonymiseOptions,
    source: &str,
) -> anyhow::Result<PseudonymiseReport> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let headers = rdr.headers().with_context(|| format!("{source}: reading the header row"))?.clone();
    let names: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    let ean_cols: Vec<usize> = if opts.ean_columns.is_empty() {
        names
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                let l = h.to_ascii_lowercase();
                l == "ean" || l.ends_with("_ean")
            })
            .map(|(i, _)| i)
            .collect()
    } else {
        opts.ean_columns
            .iter()
            .map(|c| {
                names
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(c))
                    .with_context(|| format!("{source}: column {c:?} not found; the header has {}", names.join(", ")))
            })
            .collect::<anyhow::Result<_>>()?
    };
    if ean_cols.is_empty() {
        anyhow::bail!("{source}: no EAN column (expected a column named \"ean\" or \"…_ean\"; name it with --column)");
    }
    let address: Vec<usize> = (0..names.len()).filter(|&i| is_address_column(&names[i])).collect();
    let postcodes: Vec<usize> = (0..names.len()).filter(|&i| is_postcode_column(&names[i])).collect();
    let has_address = !address.is_empty() || !postcodes.is_empty();
    if !opts.drop_address && has_address {
        let cols: Vec<&str> = address.iter().chain(&postcodes).map(|&i| names[i].as_str()).collect();
        anyhow::bail!(
            "{source}: holds address columns ({}). Letter lists are exempt from pseudonymisation (a letter needs the real address), \
             and a pseudonym next to an address identifies the customer anyway. To pseudonymise, drop them \
             (--drop-address removes street/house number/name columns and cuts postcodes to 4 digits).",
            cols.join(", ")
        );
    }
    let keep: Vec<usize> = (0..names.len()).filter(|i| !address.contains(i)).collect();
    let mut w = csv::Writer::from_writer(output);
    w.write_record(keep.iter().map(|&i| names[i].as_str()))?;
    let mut report = PseudonymiseReport {
        ean_columns: ean_cols.iter().map(|&i| names[i].clone()).collect(),
        dropped_columns: address.iter().map(|&i| names[i].clone()).collect(),
        postcode_columns_cut: postcodes.iter().map(|&i| names[i].clone()).collect(),
        ..Default::default()
    };
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{source} row {}: expected {} fields", n + 1, names.len()))?;
        let row: Vec<String> = keep
            .iter()
            .map(|&i| {
                let v = rec.get(i).unwrap_or("");
                if ean_cols.contains(&i) && !v.trim().is_empty() {
                    report.pseudonymised += 1;
                    key.pseudonym(v)
                } else if postcodes.contains(&i) {
                    v.chars().filter(|c| c.is_ascii_digit()).take(4).collect()
                } else {
                    v.to_string()
                }
            })
            .collect();
        w.write_record(&row)?;
        report.rows += 1;
    }
    w.flush()?;
    Ok(report)
}

/// File to file, written atomically. `input` and `output` may not be the same file.
pub fn pseudonymise_csv_file(
    input: &Path,
    output: &Path,
    key: &PseudonymKey,
    opts: &PseudonymiseOptions,
) -> anyhow::Result<PseudonymiseReport> {
    if input.canonicalize().ok().is_some_and(|a| output.canonicalize().ok() == Some(a)) {
        anyhow::bail!("{}: the output must be another file than the input", output.display());
    }
    let f = std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
    let reader: Box<dyn Read> =
        if input.extension().is_some_and(|e| e == "gz") { Box::new(flate2::read::GzDecoder::new(f)) } else { Box::new(f) };
    let mut buf = Vec::new();
    let report = pseudonymise_csv(reader, &mut buf, key, opts, &input.display().to_string())?;
    write_atomic(output, &buf).with_context(|| format!("writing {}", output.display()))?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_under_a_key_different_under_another() {
        let k1 = PseudonymKey::from_bytes([1; 32]);
        let k2 = PseudonymKey::from_bytes([2; 32]);
        let e = "871687400000000019";
        assert_eq!(k1.pseudonym(e), k1.pseudonym(e));
        assert_ne!(k1.pseudonym(e), k2.pseudonym(e));
        assert_ne!(k1.pseudonym(e), k1.pseudonym("871687400000000026"));
        assert!(!format!("{k1:?}").contains("0101"));
    }

    #[test]
    fn rewrites_ean_column_and_refuses_addresses() {
        let k = PseudonymKey::from_bytes([7; 32]);
        let input = "ean,feeder_id,inferred_phase\n871687400000000019,F1,L2\n,F2,L1\n";
        let mut out = Vec::new();
        let r = pseudonymise_csv(input.as_bytes(), &mut out, &k, &Default::default(), "a.csv").unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(r.rows, 2);
        assert_eq!(r.pseudonymised, 1);
        assert!(!out.contains("871687400000000019"));
        assert!(out.contains(&k.pseudonym("871687400000000019")));

        let letters = "ean,street,house_number,postcode\n871687400000000019,Dorpsstraat,12,6811AB\n";
        let err = pseudonymise_csv(letters.as_bytes(), Vec::new(), &k, &Default::default(), "letters.csv").unwrap_err();
        assert!(err.to_string().contains("Letter lists are exempt"), "{err}");
        let mut out = Vec::new();
        let opts = PseudonymiseOptions { drop_address: true, ..Default::default() };
        pseudonymise_csv(letters.as_bytes(), &mut out, &k, &opts, "letters.csv").unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("ean,postcode\n"), "{out}");
        assert!(out.contains(",6811\n") && !out.contains("Dorpsstraat"), "{out}");
    }
}
