//! Throwaway PostgreSQL clusters of a test's own (initdb into a temporary
//! directory, on a free port), for what must not touch the shared server:
//! restarts, and primary/replica pairs.

use std::process::{Command, Stdio};

/// A PostgreSQL cluster of a test's own, stopped and removed when dropped.
pub struct Cluster {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
}

impl Cluster {
    fn bin_dir() -> std::path::PathBuf {
        let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql (scripts/ensure-postgres.sh installs them)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").exists())
            .collect();
        found.sort();
        found.pop().expect("a PostgreSQL bin directory with pg_ctl")
    }

    /// Runs a server tool, as the `postgres` OS user when we are root
    /// (initdb and postgres refuse to run as root).
    fn run(&self, tool: &str, args: &[&str]) {
        let tool = self.bin.join(tool);
        let is_root =
            Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
        let mut command = if is_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&tool);
            c
        } else {
            Command::new(&tool)
        };
        let output = command.args(args).stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap();
        assert!(
            output.status.success(),
            "{} failed: {}",
            tool.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A fresh cluster (initdb), started.
    pub fn create() -> Cluster {
        let server = Cluster::empty("primary");
        server.run(
            "initdb",
            &["-D", server.data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        server.start();
        server
    }

    /// A directory and a free port for a cluster, nothing in them yet.
    fn empty(role: &str) -> Cluster {
        let data = std::env::temp_dir().join(format!("trombase-{role}-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&data).unwrap();
        let _ = Command::new("chown").args(["postgres:postgres", data.to_str().unwrap()]).status();
        let _ = Command::new("chmod").args(["700", data.to_str().unwrap()]).status();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Cluster { bin: Cluster::bin_dir(), data, port }
    }

    /// A streaming replica of this (running) cluster: a base backup with
    /// the replication settings written (`pg_basebackup -R`), started.
    pub fn replica(&self) -> Cluster {
        let replica = Cluster::empty("replica");
        let port = self.port.to_string();
        replica.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                replica.data.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
            ],
        );
        replica.start();
        replica
    }

    /// Starts the server.
    pub fn start(&self) {
        let options = format!("-p {} -k '' -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        let log = self.data.join("log");
        self.run(
            "pg_ctl",
            &["-D", self.data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-o", &options, "-w", "start"],
        );
    }

    /// Stops the server (fast shutdown).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", self.data.to_str().unwrap(), "-m", "fast", "-w", "stop"]);
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", self.data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
