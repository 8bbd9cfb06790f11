//! moai simulates multi-agent coordination: how a swarm of agents agrees on a
//! proposal (Byzantine fault-tolerant voting, gossip) under a seeded random
//! generator, so teams can try a coordination policy before building it.
//!
//! The layers, each in its own module:
//! - [`scenario`]: the TOML scenario model, parsing and validation;
//! - [`consensus`]: the algorithms, pure functions returning plain data;
//! - [`report`]: one result model rendered as tables or JSON;
//! - [`cli`] and [`app`]: the command line and the pipeline that ties them.

pub mod app;
pub mod cli;
pub mod consensus;
pub mod error;
pub mod expect;
pub mod memory;
pub mod montecarlo;
pub mod report;
pub mod resolve;
pub mod rng;
pub mod scenario;
pub mod work;
