//! The `hub` command line: `serve`, `checkpoint add|revoke`, `user add`.
//!
//! The admin commands open the store directly, so they run while the server is
//! stopped (sled holds an exclusive lock on the data directory).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::api::{CheckpointId, County, Role, UserName};
use crate::auth;
use crate::store::{AuditEntry, Store, UserRecord};

#[derive(Debug, Parser)]
#[command(
    name = "hub",
    version,
    about = "Kadian hub: passages, incidents and evidence from the checkpoints; pages for the teams"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and pages until SIGINT/SIGTERM.
    Serve {
        /// Data directory (sled store).
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        listen: String,
        /// TOML configuration file (see `config::Config`).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Register or revoke checkpoints.
    Checkpoint {
        #[command(subcommand)]
        command: CheckpointCommand,
    },
    /// Manage people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Register a checkpoint and print its token (shown once; only its hash is kept).
    Add {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        id: CheckpointId,
        #[arg(long)]
        name: String,
        #[arg(long)]
        county: County,
    },
    /// Revoke a checkpoint's token.
    Revoke {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        id: CheckpointId,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person; the password is read from standard input.
    Add {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        name: UserName,
        /// admin | dispatcher | officer | investigator | auditor
        #[arg(long)]
        role: Role,
        #[arg(long)]
        county: County,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn open(data: &Path) -> anyhow::Result<Store> {
    Store::open(data, 16 << 20).with_context(|| {
        format!(
            "cannot open the store in {} (is a hub running on it?)",
            data.display()
        )
    })
}

fn audit(store: &Store, what: &str, detail: serde_json::Value) -> anyhow::Result<()> {
    store.audit(&AuditEntry {
        at: Utc::now(),
        who: "cli".into(),
        what: what.into(),
        reason: None,
        detail,
    })?;
    Ok(())
}

/// `hub checkpoint add`: the new token.
pub fn checkpoint_add(
    data: &Path,
    id: &CheckpointId,
    name: &str,
    county: &County,
) -> anyhow::Result<String> {
    let store = open(data)?;
    let token = auth::new_token();
    store.add_checkpoint(id, name, county, auth::token_hash(&token))?;
    audit(
        &store,
        "checkpoint.add",
        serde_json::json!({"id": id, "county": county}),
    )?;
    store.flush_blocking()?;
    Ok(token)
}

/// `hub checkpoint revoke`.
pub fn checkpoint_revoke(data: &Path, id: &CheckpointId) -> anyhow::Result<()> {
    let store = open(data)?;
    if !store.revoke_checkpoint(id)? {
        bail!("no checkpoint {id}");
    }
    audit(&store, "checkpoint.revoke", serde_json::json!({"id": id}))?;
    store.flush_blocking()?;
    Ok(())
}

/// `hub user add`.
pub fn user_add(
    data: &Path,
    name: &UserName,
    role: Role,
    county: &County,
    password: &str,
) -> anyhow::Result<()> {
    if password.chars().count() < 8 {
        bail!("password must be at least 8 characters");
    }
    let store = open(data)?;
    let password_hash = auth::hash_password(password)?;
    store.add_user(&UserRecord {
        name: name.clone(),
        role,
        county: county.clone(),
        password_hash,
        created_at: Utc::now(),
    })?;
    audit(
        &store,
        "user.add",
        serde_json::json!({"name": name, "role": role, "county": county}),
    )?;
    store.flush_blocking()?;
    Ok(())
}

/// Runs an admin command (everything but `serve`).
pub fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => bail!("serve is run by main"),
        Command::Checkpoint {
            command:
                CheckpointCommand::Add {
                    data,
                    id,
                    name,
                    county,
                },
        } => {
            let token = checkpoint_add(&data, &id, &name, &county)?;
            println!("{token}");
            eprintln!("checkpoint {id} registered; keep this token, it is not shown again");
        }
        Command::Checkpoint {
            command: CheckpointCommand::Revoke { data, id },
        } => {
            checkpoint_revoke(&data, &id)?;
            eprintln!("checkpoint {id} revoked");
        }
        Command::User {
            command:
                UserCommand::Add {
                    data,
                    name,
                    role,
                    county,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                bail!("pass --password-stdin and the password on standard input");
            }
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password")?;
            user_add(
                &data,
                &name,
                role,
                &county,
                line.trim_end_matches(['\r', '\n']),
            )?;
            eprintln!("user {name} added");
        }
    }
    Ok(())
}
