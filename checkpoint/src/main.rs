//! `checkpoint run --config FILE`: parse, load config, start tracing, call `run`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "checkpoint",
    about = "Kadian checkpoint: the edge node on a camera box",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node until SIGINT or SIGTERM.
    Run {
        /// The TOML configuration (see the README for every key).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check the configuration and print what it resolves to.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        // Colour for a person at a terminal, plain text for log files and journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => {
            let c = checkpoint::Config::load(Some(&config), std::env::vars())
                .with_context(|| format!("loading {}", config.display()))?;
            println!("{c:#?}");
            Ok(())
        }
        Command::Run { config } => {
            let c = checkpoint::Config::load(Some(&config), std::env::vars())
                .with_context(|| format!("loading {}", config.display()))?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the runtime")?;
            rt.block_on(async {
                // Handlers first: a SIGTERM during start-up is a clean stop, not a kill.
                let shutdown = shutdown_signal().context("watching signals")?;
                checkpoint::run(c, shutdown)
                    .await
                    .context("checkpoint failed")
            })
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM; both are registered when this returns.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutdown requested");
    })
}
