//! Settings of the server, by flag or environment variable.

use std::net::SocketAddr;

/// How to reach the database and how to serve.
#[derive(clap::Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE?mode=rwc` (the default, a file in the working
    /// directory) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://bantin.db?mode=rwc"
    )]
    pub database_url: String,

    /// Most connections in the pool [default: 16 on PostgreSQL, 8 on SQLite].
    #[arg(long, env = "BANTIN_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,

    /// Longest wait for a pooled connection, in milliseconds: while the database
    /// cannot be reached, requests fail (503, SERVICE_UNAVAILABLE) after this.
    #[arg(long, env = "BANTIN_ACQUIRE_TIMEOUT_MS", default_value_t = 750)]
    pub acquire_timeout_ms: u64,
}

impl DatabaseArgs {
    /// Whether the database is a SQLite file (or in memory).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// The file of a SQLite database (`None` for PostgreSQL and in memory).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let rest = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| path.into())
    }

    /// The pool's size: [`Self::max_connections`] if set, else 16 on PostgreSQL and 8
    /// on SQLite. Each SQLite connection is a thread of its own with its own page
    /// cache and prepared statements; on two cores, 16 read no faster than 8 and held
    /// 65 MB more (measured before SQLite's smaller page cache and mimalloc; see
    /// BENCHMARKS.md).
    pub fn pool_size(&self) -> u32 {
        match self.max_connections {
            Some(size) => size,
            None if self.is_sqlite() => 8,
            None => 16,
        }
    }
}

/// Settings of `bantin serve`.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address to listen on.
    #[arg(long, env = "BANTIN_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// Origins whose pages may call the API from a browser (CORS), comma-separated
    /// (`https://www.example.vn,https://m.example.vn`); `*` allows every origin.
    /// None by default: only pages of the API's own origin (GraphiQL's).
    #[arg(long, env = "BANTIN_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// How long a browser may keep the answer to a CORS preflight, in seconds.
    #[arg(long, env = "BANTIN_CORS_MAX_AGE_SECS", default_value_t = 600)]
    pub cors_max_age_secs: u64,

    /// Serve `/metrics` (Prometheus) on this address of its own instead of beside
    /// `/graphql`, where it would be public.
    #[arg(long, env = "BANTIN_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Where the search index lives (derived from the database; rebuilt when
    /// missing). Each running instance needs its own.
    #[arg(long, env = "BANTIN_INDEX_DIR", default_value = "bantin-index")]
    pub index_dir: std::path::PathBuf,

    /// Do not load the sample content into an empty database (the variable takes
    /// `1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`).
    #[arg(
        long,
        env = "BANTIN_NO_SAMPLE",
        default_value_t = false,
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub no_sample: bool,

    /// Which executor runs operations: `fast` (bantin's own resolution in place,
    /// field ordering and writer) or `stock` (async-graphql's own, which the fast
    /// one is tested to match byte for byte; slower).
    #[arg(long, env = "BANTIN_EXECUTOR", value_enum, default_value_t = Executor::Fast)]
    pub executor: Executor,

    /// Limits that keep one request from taking the server down.
    #[command(flatten)]
    pub limits: Limits,
}

/// Which executor runs GraphQL operations.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Executor {
    /// bantin's fast path.
    #[default]
    Fast,
    /// async-graphql's stock executor.
    Stock,
}

/// Query and request limits.
#[derive(clap::Args, Clone, Debug)]
pub struct Limits {
    /// Deepest nesting a query may have.
    #[arg(long, env = "BANTIN_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,

    /// Deepest nesting under `__schema` or `__type` (introspection reads no rows;
    /// the standard introspection queries of GraphQL tools nest 13 deep).
    #[arg(long, env = "BANTIN_MAX_INTROSPECTION_DEPTH", default_value_t = 16)]
    pub max_introspection_depth: usize,

    /// Highest cost a query may have: each field counts 1, a connection counts its
    /// items once for each of its page (20 without `first`/`last`), `totalCount`
    /// weighs 500, and 5,000 on a root connection, where it counts a whole table;
    /// `search` weighs 500.
    #[arg(long, env = "BANTIN_MAX_COMPLEXITY", default_value_t = 20_000)]
    pub max_complexity: usize,

    /// Most selections a document may expand to, its fragment spreads expanded.
    #[arg(long, env = "BANTIN_MAX_SELECTIONS", default_value_t = 5_000)]
    pub max_selections: usize,

    /// Most aliases a document may have.
    #[arg(long, env = "BANTIN_MAX_ALIASES", default_value_t = 64)]
    pub max_aliases: usize,

    /// Most fields at the root of an operation.
    #[arg(long, env = "BANTIN_MAX_ROOT_FIELDS", default_value_t = 32)]
    pub max_root_fields: usize,

    /// Most directives a document may have.
    #[arg(long, env = "BANTIN_MAX_DIRECTIVES", default_value_t = 64)]
    pub max_directives: usize,

    /// Largest request body, in bytes.
    #[arg(long, env = "BANTIN_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Longest time a request may take, in seconds.
    #[arg(long, env = "BANTIN_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Most GraphQL operations executing at once; the others wait their turn. A
    /// running operation holds its partial response in memory, so this bounds the
    /// memory a burst of clients can take. By default 16, the size of a PostgreSQL
    /// pool: a running query holds a connection.
    #[arg(long, env = "BANTIN_MAX_CONCURRENT_OPERATIONS", default_value_t = CONCURRENT_OPERATIONS)]
    pub max_concurrent_operations: usize,

    /// Most client connections open at once; keep it below the file-descriptor
    /// limit (`ulimit -n`). Past it, new connections wait until one closes.
    #[arg(long, env = "BANTIN_MAX_OPEN_CONNECTIONS", default_value_t = 4_096)]
    pub max_open_connections: usize,

    /// Most client connections open at once from one address.
    #[arg(
        long,
        env = "BANTIN_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,

    /// Longest wait, in seconds, for a request's head; also how long a kept-alive
    /// connection may stay idle.
    #[arg(long, env = "BANTIN_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,

    /// Requests a second from one client address (a burst of twice as many is
    /// let through); 0 turns the limit off. Behind a proxy every client has the
    /// proxy's address: raise it there, or turn it off.
    #[arg(long, env = "BANTIN_RATE_PER_ADDRESS", default_value_t = 100)]
    pub rate_per_address: u32,

    /// Requests a second with one token (a burst of twice as many); 0: off.
    #[arg(long, env = "BANTIN_RATE_PER_TOKEN", default_value_t = 50)]
    pub rate_per_token: u32,

    /// Failed token checks a minute from one client address; past it, requests
    /// with a token from that address are refused until the minute allows; 0: off.
    #[arg(long, env = "BANTIN_FAILED_AUTH_PER_MINUTE", default_value_t = 10)]
    pub failed_auth_per_minute: u32,

    /// Longest time, in seconds, a request's body may take to arrive.
    #[arg(long, env = "BANTIN_BODY_TIMEOUT_SECS", default_value_t = 10)]
    pub body_timeout_secs: u64,

    /// Answer introspection (`__schema`, `__type`), which GraphiQL's docs, codegen
    /// and schema-fetching clients read, and suggest field names in errors ("Did
    /// you mean …"). Turn both off where the schema is not to be explored
    /// (`false`, `no`, `off` or `0`); `__typename` is always answered.
    #[arg(
        long,
        env = "BANTIN_INTROSPECTION",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub introspection: bool,
}

/// The default of [`Limits::max_concurrent_operations`]. Fewer left the cores idle
/// while operations waited on the database: four at once on two cores answered an
/// article page a fifth to a quarter slower than sixteen (see BENCHMARKS.md), for a few
/// megabytes less.
pub const CONCURRENT_OPERATIONS: usize = 16;

impl Limits {
    /// The rate limits.
    pub fn rates(&self) -> crate::rate::RateSettings {
        crate::rate::RateSettings {
            per_address: self.rate_per_address,
            per_token: self.rate_per_token,
            failed_auth_per_minute: self.failed_auth_per_minute,
        }
    }

    /// The limits of client connections.
    pub fn connections(&self) -> crate::server::ConnectionLimits {
        crate::server::ConnectionLimits {
            max_connections: self.max_open_connections,
            max_per_address: self.max_connections_per_address,
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs),
        }
    }

    /// The limits a document is held to before it runs.
    pub fn document(&self) -> crate::graphql::guard::DocumentLimits {
        let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        crate::graphql::guard::DocumentLimits {
            max_depth: self.max_depth,
            max_introspection_depth: self.max_introspection_depth,
            max_cost: wide(self.max_complexity),
            max_selections: wide(self.max_selections),
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_directives: self.max_directives,
            introspection: self.introspection,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_introspection_depth: 16,
            max_complexity: 20_000,
            max_selections: 5_000,
            max_aliases: 64,
            max_root_fields: 32,
            max_directives: 64,
            max_body_bytes: 256 * 1024,
            request_timeout_secs: 30,
            max_concurrent_operations: CONCURRENT_OPERATIONS,
            max_open_connections: 4_096,
            max_connections_per_address: 256,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            rate_per_address: 100,
            rate_per_token: 50,
            failed_auth_per_minute: 10,
            introspection: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseArgs;

    fn args(url: &str, max_connections: Option<u32>) -> DatabaseArgs {
        DatabaseArgs {
            database_url: url.to_owned(),
            max_connections,
            acquire_timeout_ms: 750,
        }
    }

    #[test]
    fn the_file_of_a_sqlite_database() {
        let file = |url: &str| args(url, None).sqlite_file();
        assert_eq!(
            file("sqlite://bantin.db?mode=rwc"),
            Some("bantin.db".into())
        );
        assert_eq!(file("sqlite:///var/lib/b.db"), Some("/var/lib/b.db".into()));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("postgres://u@h/db"), None);
    }

    #[test]
    fn the_pool_size_defaults_by_database_and_can_be_set() {
        assert_eq!(args("sqlite://bantin.db?mode=rwc", None).pool_size(), 8);
        assert_eq!(args("postgres://u@h/db", None).pool_size(), 16);
        assert_eq!(args("sqlite://bantin.db", Some(3)).pool_size(), 3);
        assert_eq!(args("postgres://u@h/db", Some(40)).pool_size(), 40);
    }
}

#[cfg(test)]
mod limits_tests {
    use clap::Parser;

    use super::Limits;

    #[derive(Parser)]
    struct Settings {
        #[command(flatten)]
        limits: Limits,
    }

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        serve: super::ServeArgs,
    }

    /// The flag takes no value (`BANTIN_NO_SAMPLE=1` is tested on the binary).
    #[test]
    fn no_sample_is_a_flag() {
        let parse = |args: &[&str]| {
            Serve::try_parse_from(std::iter::once("bantin").chain(args.iter().copied()))
                .map(|settings| settings.serve.no_sample)
        };
        assert_eq!(parse(&[]).ok(), Some(false));
        assert_eq!(parse(&["--no-sample"]).ok(), Some(true));
    }

    #[test]
    fn introspection_is_on_unless_turned_off_as_people_write_it() {
        let parse = |args: &[&str]| {
            Settings::try_parse_from(std::iter::once("bantin").chain(args.iter().copied()))
                .map(|settings| settings.limits.introspection)
        };
        assert_eq!(parse(&[]).ok(), Some(true));
        for off in ["false", "no", "off", "0"] {
            assert_eq!(parse(&["--introspection", off]).ok(), Some(false), "{off}");
        }
        for on in ["true", "yes", "on", "1"] {
            assert_eq!(parse(&["--introspection", on]).ok(), Some(true), "{on}");
        }
        assert!(parse(&["--introspection", "maybe"]).is_err());
    }
}
