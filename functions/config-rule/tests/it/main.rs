//! The function's tests that can share one test process (one stand-in): each module is one
//! concern. permissions.rs and pipeline.rs stay binaries of their own: they reset the
//! stand-in's call counts or set latency for the whole stand-in.

mod events;
mod fuzz;
mod organization;
mod rule;
mod runtime_api;
mod sharing_model;
mod startup;
