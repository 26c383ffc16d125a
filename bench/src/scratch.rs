//! A scratch database the bench creates for itself and drops at the end.

use tokio_postgres::{Client, NoTls};

use crate::workloads::BoxError;

/// A database that exists for one bench run.
pub struct ScratchDb {
    server_url: String,
    name: String,
    url: String,
}

impl ScratchDb {
    /// Creates `trombase_bench_<random>` on the server `server_url` names.
    pub async fn create(server_url: &str) -> Result<ScratchDb, BoxError> {
        let name = format!("trombase_bench_{:016x}", rand::random::<u64>());
        admin(server_url).await?.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await?;
        Ok(ScratchDb { url: with_database(server_url, &name), server_url: server_url.to_owned(), name })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database (closing any connections still open to it).
    pub async fn drop_db(self) -> Result<(), BoxError> {
        admin(&self.server_url)
            .await?
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
            .await?;
        Ok(())
    }
}

async fn admin(url: &str) -> Result<Client, BoxError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(with_database("postgres://u@h:1/postgres", "x"), "postgres://u@h:1/x");
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
