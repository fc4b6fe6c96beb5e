//! The server: TAXII 2.1 for partners, a REST API and a dashboard, TLP 2.0 on every read path.
#![forbid(unsafe_code)]
