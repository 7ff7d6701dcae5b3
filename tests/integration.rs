//! Integration tests: they run the real `dbchunk` binary against SQLite
//! files made here and the test PostgreSQL (and MySQL) servers.

mod util;

mod cli;
mod completions;
mod compress;
mod constraints;
mod counts;
mod distributed;
mod distributed_binlog;
mod distributed_examples;
mod distributed_sample;
mod dump;
mod errors;
mod export_mysql;
mod export_postgres;
mod export_sqlite;
mod hangs;
mod import;
mod import_resume;
mod incremental;
mod load;
mod log_format;
mod names;
mod output_files;
mod parquet;
mod parquet_import;
mod restore;
mod resume;
mod retry;
mod secrets;
mod spatial;
mod split;
mod tls;
