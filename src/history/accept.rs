//! Accepting an exception: a person decides it is known and fine for now. An accepted exception is
//! listed apart, never alerts and never counts toward the exit status; it comes back when its date
//! passes or its values change (see `update.rs`).

use chrono::{DateTime, NaiveDate, Utc};

use super::{Error, History, text, ts};

/// Who accepted an exception, when, why and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: String,
    /// Accepted through this day (UTC); `None`: until its values change.
    pub until: Option<NaiveDate>,
}

impl History {
    fn status_of(&self, check: &str, key: &str) -> Result<String, Error> {
        self.rows(
            &format!(
                "SELECT status FROM exceptions WHERE \"check\" = {} AND key = {}",
                text(check),
                text(key)
            ),
            "looking the exception up",
            |r| r.get::<_, String>(0),
        )?
        .pop()
        .ok_or_else(|| Error::Unknown {
            check: check.into(),
            key: key.into(),
        })
    }

    /// Accepts an open exception as it stands now.
    pub fn accept(&self, check: &str, key: &str, a: &Acceptance) -> Result<(), Error> {
        let status = self.status_of(check, key)?;
        if status == "resolved" {
            return Err(Error::WrongStatus {
                check: check.into(),
                key: key.into(),
                status,
                action: "accept",
            });
        }
        let until = a
            .until
            .map_or("NULL".to_string(), |d| format!("DATE '{d}'"));
        self.exec(
            &format!(
                "UPDATE exceptions SET status = 'accepted', accepted_by = {}, accepted_at = {},
                        accepted_reason = {}, accepted_until = {until}, accepted_vhash = vhash
                 WHERE \"check\" = {} AND key = {}",
                text(&a.by),
                ts(a.at),
                text(&a.reason),
                text(check),
                text(key)
            ),
            "accepting",
        )
    }

    /// Withdraws an acceptance: the exception is open again from now.
    pub fn unaccept(&self, check: &str, key: &str) -> Result<(), Error> {
        let status = self.status_of(check, key)?;
        if status != "accepted" {
            return Err(Error::WrongStatus {
                check: check.into(),
                key: key.into(),
                status,
                action: "unaccept",
            });
        }
        self.exec(
            &format!(
                "UPDATE exceptions SET status = 'open', accepted_by = NULL, accepted_at = NULL,
                        accepted_reason = NULL, accepted_until = NULL, accepted_vhash = NULL
                 WHERE \"check\" = {} AND key = {}",
                text(check),
                text(key)
            ),
            "withdrawing the acceptance",
        )
    }
}
