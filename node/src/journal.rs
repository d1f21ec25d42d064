//! The daemon's local journal: what it has decided and submitted, in an embedded
//! transactional store (redb), so a restart never submits a verdict twice and never
//! forgets an assignment.
//!
//! Protocol (see docs/verifier.md): a verdict is signed first, then written as
//! [`VerdictStatus::Pending`] together with its signed transaction and committed to disk
//! *before* it is sent; it becomes [`VerdictStatus::Done`] once it landed or the chain
//! shows the job has left that round. A pending verdict is only ever re-sent as those same
//! bytes (one signature lands at most once), and signed anew only once the chain says its
//! blockhash expired unseen.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use borsh::{BorshDeserialize, BorshSerialize};
use redb::{Database, ReadableTable, TableDefinition};
use solana_sdk::signature::Signature;
use solana_sdk::transaction::Transaction;

// Verdicts are keyed by (job, instance, round), votes by (job, instance, contest): a job
// closed and re-posted with the same id has the same address and starts at round 0 and
// contest 0 again, but a new instance. (Older tables — verdicts keyed by (job, round),
// votes by round — are left unread.)
const VERDICTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("verdicts.v2");
const VOTES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("votes.v3");

#[derive(Debug, thiserror::Error)]
#[error("journal: {0}")]
pub struct JournalError(String);

fn err(e: impl std::fmt::Display) -> JournalError {
    JournalError(e.to_string())
}

/// What the verifier decided for one (job, round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum VerdictKind {
    Pass,
    Fault { index: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum VerdictStatus {
    /// Written before sending; the transaction may or may not have landed.
    Pending,
    /// The job has left this round (our verdict landed, or the round ended otherwise).
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VerdictEntry {
    pub verdict: VerdictKind,
    pub status: VerdictStatus,
    /// Transactions signed for this verdict (1 unless one expired unseen and was redone).
    pub sends: u32,
    /// The latest signed verdict transaction (bincode, the wire format).
    pub transaction: Vec<u8>,
}

impl VerdictEntry {
    pub fn new(verdict: VerdictKind, sends: u32, tx: &Transaction) -> Result<Self, JournalError> {
        Ok(Self {
            verdict,
            status: VerdictStatus::Pending,
            sends,
            transaction: bincode::serialize(tx).map_err(err)?,
        })
    }

    pub fn transaction(&self) -> Result<Transaction, JournalError> {
        bincode::deserialize(&self.transaction).map_err(err)
    }

    /// The signature of the latest signed verdict transaction.
    pub fn signature(&self) -> Result<Signature, JournalError> {
        self.transaction()?
            .signatures
            .first()
            .copied()
            .ok_or_else(|| err("journaled verdict transaction is unsigned"))
    }
}

/// A committee vote this operator signed and published.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct VoteEntry {
    pub uphold: bool,
    /// sha256 of the published vote record (its key in the blob store).
    pub record: [u8; 32],
}

/// One round of one life of a job: the job's address, its instance (`Job::instance`, the
/// slot it was posted in) and the round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundKey {
    pub job: Pubkey,
    pub instance: u64,
    pub round: u8,
}

impl RoundKey {
    /// The current round of `job` at `key`.
    pub fn of(key: &Pubkey, job: &assay_market::state::Job) -> Self {
        Self {
            job: *key,
            instance: job.instance,
            round: job.round,
        }
    }

    fn bytes(&self) -> [u8; 41] {
        let mut k = [0u8; 41];
        k[..32].copy_from_slice(self.job.as_ref());
        k[32..40].copy_from_slice(&self.instance.to_be_bytes());
        k[40] = self.round;
        k
    }

    fn parse(k: &[u8]) -> Option<Self> {
        Some(Self {
            job: Pubkey::new_from_array(k.get(..32)?.try_into().ok()?),
            instance: u64::from_be_bytes(k.get(32..40)?.try_into().ok()?),
            round: *k.get(40)?,
        })
    }
}

/// One contest of one life of a job (a contested fault, or one challenge of its pass):
/// the job's address, its instance and the contest's number (`Job::contests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContestKey {
    pub job: Pubkey,
    pub instance: u64,
    pub contest: u32,
}

impl ContestKey {
    /// The contest now open on `job` at `key`.
    pub fn of(key: &Pubkey, job: &assay_market::state::Job) -> Self {
        Self {
            job: *key,
            instance: job.instance,
            contest: job.contests,
        }
    }

    fn bytes(&self) -> [u8; 44] {
        let mut k = [0u8; 44];
        k[..32].copy_from_slice(self.job.as_ref());
        k[32..40].copy_from_slice(&self.instance.to_be_bytes());
        k[40..].copy_from_slice(&self.contest.to_be_bytes());
        k
    }
}

/// The journal file.
pub struct Journal {
    db: Database,
}

impl Journal {
    /// Opens (or creates) the journal at `path`.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let db = Database::create(path).map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(VERDICTS).map_err(err)?;
        tx.open_table(VOTES).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Self { db })
    }

    fn put(
        &self,
        table: TableDefinition<&[u8], &[u8]>,
        k: &[u8],
        v: &[u8],
    ) -> Result<(), JournalError> {
        let tx = self.db.begin_write().map_err(err)?;
        tx.open_table(table)
            .map_err(err)?
            .insert(k, v)
            .map_err(err)?;
        // Durable on return: redb commits with fsync by default.
        tx.commit().map_err(err)
    }

    fn read<T: BorshDeserialize>(
        &self,
        table: TableDefinition<&[u8], &[u8]>,
        k: &[u8],
    ) -> Result<Option<T>, JournalError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(table).map_err(err)?;
        match t.get(k).map_err(err)? {
            Some(v) => Ok(Some(T::try_from_slice(v.value()).map_err(err)?)),
            None => Ok(None),
        }
    }

    pub fn verdict(&self, at: &RoundKey) -> Result<Option<VerdictEntry>, JournalError> {
        self.read(VERDICTS, &at.bytes())
    }

    pub fn put_verdict(&self, at: &RoundKey, entry: &VerdictEntry) -> Result<(), JournalError> {
        self.put(VERDICTS, &at.bytes(), &borsh::to_vec(entry).map_err(err)?)
    }

    /// Every verdict still pending, oldest key first.
    pub fn pending(&self) -> Result<Vec<(RoundKey, VerdictEntry)>, JournalError> {
        Ok(self
            .verdicts()?
            .into_iter()
            .filter(|(_, e)| e.status == VerdictStatus::Pending)
            .collect())
    }

    /// Every verdict the journal holds.
    pub fn verdicts(&self) -> Result<Vec<(RoundKey, VerdictEntry)>, JournalError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(VERDICTS).map_err(err)?;
        let mut out = vec![];
        for row in t.iter().map_err(err)? {
            let (k, v) = row.map_err(err)?;
            let at = RoundKey::parse(k.value()).ok_or_else(|| err("malformed journal key"))?;
            out.push((at, VerdictEntry::try_from_slice(v.value()).map_err(err)?));
        }
        Ok(out)
    }

    pub fn vote(&self, at: &ContestKey) -> Result<Option<VoteEntry>, JournalError> {
        self.read(VOTES, &at.bytes())
    }

    pub fn put_vote(&self, at: &ContestKey, entry: &VoteEntry) -> Result<(), JournalError> {
        self.put(VOTES, &at.bytes(), &borsh::to_vec(entry).map_err(err)?)
    }
}
