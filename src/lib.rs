//! moai simulates multi-agent coordination: how a swarm of agents agrees on a
//! proposal (Byzantine fault-tolerant voting, gossip) under a seeded random
//! generator, so teams can try a coordination policy before building it.
//!
//! The modules, by floor: each uses only the floors below it (checked by
//! `tests/layers.rs`), so the data model never depends on what reads it.
//! - [`error`], [`pmf`] and [`rng`]: error types, probability mass functions
//!   computed with relative accuracy, and the one place generators are made;
//! - [`budget`]: the memory limit in force (`MOAI_MAX_MEMORY`);
//! - [`scenario`]: plain data: the TOML scenario model, its parsing and
//!   validation, the algorithms' settings, the states to resolve and the
//!   parsed `[expect]` table;
//! - [`consensus`] (Byzantine voting, gossip) and [`resolve`] (last-write-wins,
//!   vector clocks, CRDT merges, hybrid routing): pure functions of the
//!   scenario returning plain data; beside them [`work`], the total-work cap;
//! - [`montecarlo`]: trials on all cores, sweeps and their statistics;
//! - [`exact`]: the exact probability law of a run, where the model allows
//!   it, and how far trials stray from it; beside it [`shard`], the slices
//!   of a plan of trials (`--shard K/N`) and the merge of their partial
//!   results;
//! - [`report`]: one result model rendered as tables, JSON, CSV or JUnit;
//! - [`expect`] (a report compared with the scenario's expectations) and
//!   [`memory`] (the model of what a run holds, checked against the budget);
//! - [`cli`] and [`app`]: the command line, and the pipeline that ties it all.

// The one unsafe code of the library: memory hints for graph builds
// (`consensus::topology::hints`).
#![deny(unsafe_code)]

pub mod app;
pub mod budget;
pub mod cli;
pub mod consensus;
pub mod error;
pub mod exact;
pub mod expect;
pub mod memory;
pub mod montecarlo;
pub mod pmf;
pub mod report;
pub mod resolve;
pub mod rng;
pub mod scenario;
pub mod shard;
pub mod work;
