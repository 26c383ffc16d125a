//! The servers under load, each in a process of its own (the bench binary
//! started again with `--serve-http <app> <database url>`), so that its CPU
//! time is read from `/proc/<pid>/stat` apart from the load generator's.
//! The child prints the port it listens on and serves until its standard
//! input closes (the bench ending, or dying, closes it).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::raw_app;
use crate::workloads::BoxError;

/// The argument that starts a child server.
pub const SERVE_FLAG: &str = "--serve-http";

/// Which app a child serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// The reference app (`examples/notes_app`): its router, as `main` serves it.
    Library,
    /// The hand-written handler of [`raw_app`].
    Raw,
}

impl App {
    fn arg(self) -> &'static str {
        match self {
            App::Library => "library",
            App::Raw => "raw",
        }
    }
}

/// A running child server, stopped on drop.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `app` against `database_url` and waits until it listens.
    pub fn start(app: App, database_url: &str) -> Result<Server, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([SERVE_FLAG, app.arg(), database_url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout of the server")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port: u16 = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| format!("the {} server did not start: {line:?}", app.arg()))?;
        Ok(Server { child, stdin, addr: SocketAddr::from(([127, 0, 0, 1], port)) })
    }

    /// The CPU time (user and system, all threads) the server has used.
    pub fn cpu_time(&self) -> Result<Duration, BoxError> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        Ok(process_cpu(&stat).ok_or("an unreadable /proc stat")?.1)
    }
}

/// The CPU time every process named `postgres` on this machine has used
/// (the server's backends; meaningful when the database is local).
pub fn database_cpu_time() -> Result<Duration, BoxError> {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc")? {
        let path = entry?.path().join("stat");
        // Processes come and go: one gone since the listing counts nothing.
        let Ok(stat) = std::fs::read_to_string(path) else { continue };
        if let Some(("postgres", cpu)) = process_cpu(&stat) {
            total += cpu;
        }
    }
    Ok(total)
}

/// A `/proc/<pid>/stat` line's command name and CPU time (user + system).
fn process_cpu(stat: &str) -> Option<(&str, Duration)> {
    // The command name is in parentheses and may hold spaces; after it,
    // the state is field 3, utime and stime fields 14 and 15.
    let (head, after_name) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i - 3)?.parse::<u64>().ok();
    // USER_HZ: 100 on every Linux ABI the bench runs on.
    Some((name, Duration::from_millis((ticks(14)? + ticks(15)?) * 10)))
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(200));
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The child's side: `args` are what follows [`SERVE_FLAG`].
pub fn serve_child(args: &[String]) -> ExitCode {
    let (Some(app), Some(url)) = (args.first(), args.get(1)) else {
        eprintln!("usage: trombase-bench {SERVE_FLAG} library|raw <database url>");
        return ExitCode::from(2);
    };
    // The default runtime of `#[tokio::main]`, as the reference app runs.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(app, url)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("the {app} server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(app: &str, url: &str) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let stopped = async {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 64];
        while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
    };
    match app {
        "library" => {
            let trom = notes_app::connect(url).await?;
            announce(port);
            notes_app::serve(listener, trom, stopped).await?;
        }
        "raw" => {
            let trom = trombase::TromBase::builder().database_url(url).connect().await?;
            let router = raw_app::router(trom.pool().clone());
            announce(port);
            axum::serve(listener, router).with_graceful_shutdown(stopped).await?;
        }
        other => return Err(format!("no app named `{other}`").into()),
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn announce(port: u16) {
    use std::io::Write as _;
    println!("listening {port}");
    let _ = std::io::stdout().flush();
}
