//! `hub`: parse the command line, start tracing, load the config, run.

use std::net::TcpListener;

use anyhow::Context;
use clap::Parser;
use hub::cli::{Cli, Command};
use hub::config::Config;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve {
        data,
        listen,
        config,
    } = cli.command
    else {
        return hub::cli::execute(cli.command);
    };
    let mut config =
        Config::load(config.as_deref(), std::env::vars()).context("loading configuration")?;
    config.data = data;
    config.listen = listen;
    let listener = TcpListener::bind(&config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    actix_web::rt::System::new().block_on(hub::server::run(config, listener, shutdown_signal()))?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
