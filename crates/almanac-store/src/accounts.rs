use almanac_model::{Account, AccountStatus, Provider};
use rusqlite::{params, OptionalExtension, Row};

use crate::error::{Result, StoreError};
use crate::Store;

/// What a completed sign-in tells the store about an account. No tokens: those go to
/// the OS keyring, never here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub provider: Provider,
    /// Stable identity at the provider (ID token `iss` + `sub`/`oid`).
    pub subject: String,
    pub email: String,
    pub display_name: String,
    /// The authority signed in against (Microsoft login host + tenant, Google issuer).
    pub authority: String,
}

/// What [`Store::set_account_status`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    /// The account just entered "Action required" and the user has not been told yet:
    /// the caller shows one notification. Later failures of the same grant return false.
    pub notify_action_required: bool,
}

const COLUMNS: &str = "id, provider, email, display_name, status, last_error_message, created_at";

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    let provider: String = r.get(1)?;
    let status: String = r.get(4)?;
    Ok(Account {
        id: r.get(0)?,
        provider: Provider::parse(&provider).ok_or_else(|| bad_column(1, &provider))?,
        email: r.get(2)?,
        display_name: r.get(3)?,
        status: AccountStatus::parse(&status).ok_or_else(|| bad_column(4, &status))?,
        status_message: r.get(5)?,
        created_at: r.get(6)?,
    })
}

fn bad_column(i: usize, v: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        format!("unexpected value {v:?}").into(),
    )
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound(format!(
        "There is no account with id \"{id}\"; `almanac accounts list` shows them."
    ))
}

impl Store {
    /// Records a completed sign-in. Signing in again to an account that is already
    /// here (same provider and subject) reconnects it — same id, status back to
    /// Connected — instead of adding a duplicate. Returns the account and whether it
    /// is new.
    pub fn record_sign_in(&mut self, s: &SignedIn, now: i64) -> Result<(Account, bool)> {
        let (id, created) = self.durable(|tx| {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM accounts WHERE provider = ?1 AND subject = ?2",
                    params![s.provider.as_str(), s.subject],
                    |r| r.get(0),
                )
                .optional()?;
            match existing {
                Some(id) => {
                    tx.execute(
                        "UPDATE accounts SET email = ?2, display_name = ?3, authority = ?4,
                             status = 'connected', last_error_code = NULL,
                             last_error_message = NULL, action_notified = 0
                         WHERE id = ?1",
                        params![id, s.email, s.display_name, s.authority],
                    )?;
                    Ok((id, false))
                }
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    tx.execute(
                        "INSERT INTO accounts
                             (id, provider, subject, email, display_name, authority, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            id,
                            s.provider.as_str(),
                            s.subject,
                            s.email,
                            s.display_name,
                            s.authority,
                            now
                        ],
                    )?;
                    Ok((id, true))
                }
            }
        })?;
        Ok((self.account(&id)?, created))
    }

    /// The authority the account of `provider` and `subject` last signed in against,
    /// if it is here.
    pub fn authority_of(&self, provider: Provider, subject: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT authority FROM accounts WHERE provider = ?1 AND subject = ?2",
                params![provider.as_str(), subject],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    pub fn list_accounts(&self) -> Result<Vec<Account>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM accounts ORDER BY provider, email, id"
        ))?;
        let rows = stmt.query_map([], account_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn account(&self, id: &str) -> Result<Account> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
                params![id],
                account_row,
            )
            .optional()?
            .ok_or_else(|| not_found(id))
    }

    /// Sets an account's badge. `message` is the plain-language reason shown with
    /// `action_required` / `error` (never a token or a raw provider response).
    pub fn set_account_status(
        &mut self,
        id: &str,
        status: AccountStatus,
        code: Option<&str>,
        message: Option<&str>,
    ) -> Result<StatusChange> {
        self.durable(|tx| {
            let notified: Option<bool> = tx
                .query_row(
                    "SELECT action_notified FROM accounts WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            let notified = notified.ok_or_else(|| not_found(id))?;
            let notify = status == AccountStatus::ActionRequired && !notified;
            let notified_now = match status {
                AccountStatus::ActionRequired => true,
                AccountStatus::Connected => false,
                AccountStatus::Error | AccountStatus::Paused => notified,
            };
            tx.execute(
                "UPDATE accounts SET status = ?2, last_error_code = ?3,
                     last_error_message = ?4, action_notified = ?5
                 WHERE id = ?1",
                params![id, status.as_str(), code, message, notified_now],
            )?;
            Ok(StatusChange {
                notify_action_required: notify,
            })
        })
    }

    /// Deletes an account and, through the schema's cascades, its calendars, their
    /// local mirror of events, sync state, outbox, conflicts and sync history. Remote
    /// events are not touched: this is the local copy only.
    pub fn remove_account(&mut self, id: &str) -> Result<Account> {
        let account = self.account(id)?;
        self.durable(|tx| {
            tx.execute("DELETE FROM accounts WHERE id = ?1", params![id])?;
            Ok(())
        })?;
        Ok(account)
    }
}
