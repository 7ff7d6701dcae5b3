//! MySQL and MariaDB through mysql_async (placeholder until written).

use anyhow::{bail, Result};

use super::{ChunkRead, Key, Relation, Request};
use crate::cell::RowSink;
use crate::plan::{Select, Statement};
use crate::url::DbUrl;

pub struct Mysql {}

impl Mysql {
    pub async fn connect(_url: &DbUrl) -> Result<Mysql> {
        bail!("MySQL is not supported yet")
    }
    pub async fn describe(&mut self, _r: &Request) -> Result<Relation> {
        unimplemented!()
    }
    pub async fn read_chunk(&mut self, _r: &Relation, _s: &Statement, _a: Option<&Key>, _k: &mut impl RowSink) -> Result<ChunkRead> {
        unimplemented!()
    }
    pub async fn stream(&mut self, _r: &Relation, _s: &str, _f: u64, _k: &mut impl RowSink) -> Result<()> {
        unimplemented!()
    }
    pub async fn explain(&mut self, _s: &Statement, _a: Option<&Key>) -> Result<String> {
        unimplemented!()
    }
    pub async fn estimate(&mut self, _s: &Select) -> Result<Option<u64>> {
        unimplemented!()
    }
    pub async fn count(&mut self, _s: &str) -> Result<u64> {
        unimplemented!()
    }
}
