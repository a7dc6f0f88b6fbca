//! `lvtopo privacy`: the rules, purge, audit log, pseudonymised exports.

use lvtopo_core::privacy::admission::{self, Admission, Refused, Request, Task};
use lvtopo_core::privacy::aggregate::{AreaLevel, MinGroupSize};
use lvtopo_core::privacy::exports;
use lvtopo_core::privacy::pseudonym::{PseudonymKey, PseudonymiseOptions, pseudonymise_csv_file};
use lvtopo_core::privacy::purge::{PurgeOptions, purge};
use lvtopo_core::privacy::{Period, PrivacyRead, PrivacyStore, Purpose};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Privacy folder (audit log, read ledger, raw cache). Default: $LVTOPO_PRIVACY_DIR or the user's data folder.
    #[arg(long, global = true)]
    pub privacy_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List the purposes (approved use cases) and their rules.
    Rules,
    /// Delete the raw reads lvtopo holds once the results are exported.
    Purge(PurgeArgs),
    /// Show, verify or export the audit log.
    Audit(AuditArgs),
    /// Make a new pseudonymisation key file (never overwrites one).
    Keygen {
        /// Key file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the EANs of a CSV export with keyed pseudonyms.
    Pseudonymise(PseudonymiseArgs),
    /// Load, feed-in and EV charging summed over areas of at least k connections (use cases 11, 13, 14).
    Aggregate(AggregateArgs),
    /// Set the minimum group size k for aggregates (at least 5).
    SetK { k: usize },
    /// When was a connection read, for what (a customer's access request)?
    Ledger {
        /// EAN of the connection.
        #[arg(long)]
        ean: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct PurgeArgs {
    /// Also delete the source measurement files that were loaded.
    #[arg(long)]
    pub sources: bool,
    /// Purge even though no export was recorded after the last load.
    #[arg(long)]
    pub without_export: bool,
    /// Only list what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Write the log to FILE (CSV when it ends in .csv, else JSON lines).
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Show only the last N entries.
    #[arg(long)]
    pub tail: Option<usize>,
}

#[derive(clap::Args, Debug)]
pub struct PseudonymiseArgs {
    /// The key file (64 hex digits), made with `lvtopo privacy keygen`.
    #[arg(long)]
    pub key_file: PathBuf,
    /// EAN column(s); default: every column named `ean` or ending in `_ean`.
    #[arg(long = "column")]
    pub columns: Vec<String>,
    /// Drop street/house-number/name columns and cut postcodes to 4 digits.
    #[arg(long)]
    pub drop_address: bool,
    /// What the export holds, for the audit log.
    #[arg(long, default_value = "research_data")]
    pub what: String,
    pub input: PathBuf,
    pub output: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct AggregateArgs {
    /// Network (GeoPackage or GeoJSON folder).
    #[arg(long)]
    pub network: PathBuf,
    /// Quarter-hour import/export per connection (feed_in.csv).
    #[arg(long)]
    pub feed_in: PathBuf,
    /// Area level: feeder, station, pc4 or pc3.
    #[arg(long)]
    pub by: AreaLevel,
    /// Minimum connections per group (default: the setting, 10; never below 5).
    #[arg(long)]
    pub k: Option<usize>,
    /// Use case: load_aggregates (uc11), ev_charging_aggregates (uc13) or research_aggregates (uc14).
    #[arg(long, default_value = "uc11")]
    pub purpose: Purpose,
    /// Output CSV, one row per group and quarter hour.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = PrivacyStore::open(args.privacy_dir.as_deref())?;
    match args.command {
        Command::Rules => {
            for p in Purpose::ALL {
                println!("uc{:<3} {:<28} {}", p.use_case(), p.slug(), p.rule_text());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge(a) => run_purge(&store, a),
        Command::Audit(a) => run_audit(&store, a),
        Command::Keygen { out } => {
            let k = PseudonymKey::create(&out)?;
            println!(
                "key written to {} (fingerprint {}); keep it safe: without it pseudonyms cannot be matched again",
                out.display(),
                k.fingerprint()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Pseudonymise(a) => {
            let key = PseudonymKey::read(&a.key_file)?;
            let opts = PseudonymiseOptions { ean_columns: a.columns, drop_address: a.drop_address };
            let r = pseudonymise_csv_file(&a.input, &a.output, &key, &opts)?;
            store.record_export(&a.output, &a.what, Some(&key), r.rows)?;
            println!(
                "{} row(s), {} EAN(s) pseudonymised in column(s) {} with key {}{}",
                r.rows,
                r.pseudonymised,
                r.ean_columns.join(", "),
                key.fingerprint(),
                if r.dropped_columns.is_empty() { String::new() } else { format!("; dropped {}", r.dropped_columns.join(", ")) }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Aggregate(a) => run_aggregate(&store, a),
        Command::SetK { k } => {
            store.set_min_group_size(k)?;
            println!("minimum group size set to {k}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { ean } => {
            let ledger = store.ledger()?;
            let reads = ledger.reads_of(&ean);
            if reads.is_empty() {
                println!("no recorded read of {ean} (only reads with a history rule are recorded: GIS correction, PV)");
            }
            for r in reads {
                println!("{}: {} (recorded {})", r.purpose, r.period, lvtopo_core::model::time::format_amsterdam(r.recorded_at));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn run_purge(store: &PrivacyStore, a: PurgeArgs) -> anyhow::Result<ExitCode> {
    let opts = PurgeOptions { sources: a.sources, without_export: a.without_export, dry_run: a.dry_run };
    let out = purge(store, &opts)?;
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    for d in &out.deleted {
        println!("{verb} {} ({}, {} bytes)", d.path, d.role, d.bytes);
    }
    for s in &out.skipped {
        println!("kept: {s}");
    }
    for k in &out.kept {
        println!("derived result kept: {k}");
    }
    println!("{} file(s) {verb}; the privacy folder keeps the audit log and the read ledger (no values)", out.deleted.len());
    Ok(ExitCode::SUCCESS)
}

fn run_audit(store: &PrivacyStore, a: AuditArgs) -> anyhow::Result<ExitCode> {
    let log = store.audit()?;
    let verified = log.verify();
    if let Some(out) = &a.export {
        let n = exports::export_audit_log(store, out)?;
        println!("{n} entr(y/ies) written to {}", out.display());
    } else {
        let entries = log.entries()?;
        let skip = a.tail.map_or(0, |t| entries.len().saturating_sub(t));
        for e in &entries[skip..] {
            println!("{:>5} {} {:<10} {}", e.seq, e.at_utc, e.user, e.event.summary());
        }
    }
    match verified {
        Ok(n) => {
            eprintln!("audit log {}: {n} entr(y/ies), chain intact", log.path().display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("warning: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn run_aggregate(store: &PrivacyStore, a: AggregateArgs) -> anyhow::Result<ExitCode> {
    let k = match a.k {
        Some(k) => MinGroupSize::new(k).map_err(anyhow::Error::msg)?,
        None => store.min_group_size()?,
    };
    if !a.purpose.limits().aggregates_only {
        anyhow::bail!("{}: aggregates serve use cases 11, 13 and 14; choose uc11, uc13 or uc14", a.purpose);
    }
    let loaded = lvtopo_core::io::network::load_network(&a.network, &lvtopo_core::progress::NoProgress)?;
    if loaded.network.connections.is_empty() {
        anyhow::bail!("{}: no connections could be read\n{}", a.network.display(), loaded.report);
    }
    let mut report = lvtopo_core::io::ImportReport::default();
    let feed_in = lvtopo_core::io::measurements::read_feed_in(&a.feed_in, Some(&loaded.network), &mut report);
    if report.has_errors() || report.warning_count() > 0 {
        eprintln!("{report}");
    }
    let Some(feed_in) = feed_in else {
        anyhow::bail!("{}: no feed-in data could be read", a.feed_in.display());
    };
    let flags = PurposeArgs { purpose: Some(a.purpose), privacy_dir: Some(store.dir().to_path_buf()), ..Default::default() };
    let admitted = flags.admit(feed_in, &a.feed_in, Task::Aggregates, vec![])?;
    let agg = exports::aggregates(&loaded.network, &admitted, None, a.by, k)?;
    exports::write_aggregates(store, &agg, a.by, &a.out)?;
    print!("{}", agg.summary());
    println!("written to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Privacy options every loading subcommand takes (`#[command(flatten)]`):
/// the read's purpose and the user's consent to trim. One call,
/// [`PurposeArgs::admit`], checks a read before it is used.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PurposeArgs {
    /// What the meter reads are for: an approved use case (e.g. uc7, gis_topology_correction).
    /// Default: the purpose file next to each data file (FILE.purpose.json).
    #[arg(long)]
    pub purpose: Option<Purpose>,
    /// A purpose file elsewhere than next to the data file.
    #[arg(long)]
    pub purpose_file: Option<PathBuf>,
    /// Why this read is needed (use cases 3 and 12 require it).
    #[arg(long)]
    pub justification: Option<String>,
    /// Consent to keep only the allowed part of a read that breaks a rule about what may be kept
    /// (e.g. the last 10 days of a 12-day read); logged in the audit log.
    #[arg(long)]
    pub trim_consent: bool,
    /// Privacy folder (audit log, read ledger). Default: $LVTOPO_PRIVACY_DIR or the user's data folder.
    #[arg(long)]
    pub privacy_dir: Option<PathBuf>,
}

impl PurposeArgs {
    pub fn store(&self) -> anyhow::Result<PrivacyStore> {
        PrivacyStore::open(self.privacy_dir.as_deref())
    }

    /// The admission request for a read loaded from `source` for `task`.
    /// `shared`: this command's one `--purpose` covers inputs of several kinds.
    pub fn request<'a>(&'a self, source: &'a Path, task: Task, shared: bool, windows: Vec<Period>) -> Request<'a> {
        Request {
            task,
            source: Some(source),
            stated: self.purpose,
            shared_statement: shared,
            purpose_file: self.purpose_file.as_deref(),
            consent_trim: self.trim_consent,
            outage_windows: windows,
            justification: self.justification.clone(),
        }
    }

    /// Checks a read loaded from `source` for `task` (see [`admission::admit`]); returns the
    /// data to use (trimmed when the user consented) or the refusal naming the rule.
    pub fn admit<T: PrivacyRead>(&self, data: T, source: &Path, task: Task, windows: Vec<Period>) -> anyhow::Result<T> {
        self.admit_with(data, source, task, false, windows).map(|a| a.data)
    }

    /// [`Self::admit`] with the whole admission; `shared` as in [`Self::request`].
    pub fn admit_with<T: PrivacyRead>(
        &self,
        data: T,
        source: &Path,
        task: Task,
        shared: bool,
        windows: Vec<Period>,
    ) -> anyhow::Result<Admission<T>> {
        let a = admission::admit(&self.store()?, data, &self.request(source, task, shared, windows))
            .map_err(|r| self.refusal_error(r))?;
        self.note(&a);
        Ok(a)
    }

    /// Use case 5: `before` and `after` both admitted for the intervention, then the gap checked.
    pub fn admit_before_after<T: PrivacyRead>(
        &self,
        before: (T, &Path),
        after: (T, &Path),
        shared: bool,
    ) -> anyhow::Result<(T, T)> {
        let (rb, ra) =
            (self.request(before.1, Task::BeforeAfter, shared, vec![]), self.request(after.1, Task::BeforeAfter, shared, vec![]));
        let (b, a) =
            admission::admit_before_after(&self.store()?, before.0, after.0, &rb, &ra).map_err(|r| self.refusal_error(r))?;
        self.note(&b);
        self.note(&a);
        Ok((b.data, a.data))
    }

    /// Prints what the user should know of an admitted read.
    fn note<T>(&self, a: &Admission<T>) {
        let r = &a.record;
        if r.implied
            && let Some(p) = r.purpose
        {
            eprintln!("privacy: {}: no purpose stated; this command serves {p}", r.path.display());
        }
        for m in &a.approval.remedies_applied {
            eprintln!("privacy: {}: with your consent: {m}", r.path.display());
        }
    }

    /// The error of a refusal (still a [`lvtopo_core::privacy::Refusal`] inside), with the remedy's flag.
    fn refusal_error(&self, r: Refused) -> anyhow::Error {
        if r.record.remediable && !self.trim_consent {
            return r.error.context("rerun with --trim-consent to keep only the allowed part");
        }
        r.error
    }

    /// Records a file this command wrote in the audit log.
    pub fn record_export(&self, file: &Path, what: &str, rows: usize) -> anyhow::Result<()> {
        self.store()?.record_export(file, what, None, rows)
    }
}
