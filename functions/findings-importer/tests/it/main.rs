//! The function's tests that can share one test process (one stand-in): each module is one
//! concern. permissions.rs stays a binary of its own: it resets the stand-in's call
//! counts.

mod documented_example;
mod fuzz;
mod importer;
mod runtime_api;
