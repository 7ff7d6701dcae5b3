//! Which database a URL names. Everything that speaks an engine's dialect
//! (URLs, TLS parameters, quoting, the drivers) branches on this one enum.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
    Sqlite,
}

impl Engine {
    /// The word files written by dbchunk (a plan, a dump's manifest) name
    /// the engine with: `postgres`, `mysql`, `sqlite`.
    pub fn key(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
            Engine::Sqlite => "sqlite",
        }
    }

    /// The engine a [`Engine::key`] names.
    pub fn from_key(key: &str) -> Option<Engine> {
        [Engine::Postgres, Engine::Mysql, Engine::Sqlite]
            .into_iter()
            .find(|e| e.key() == key)
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL",
            Engine::Sqlite => "SQLite",
        }
    }
}
