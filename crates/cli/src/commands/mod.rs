pub mod accounts;
pub mod audit;
pub mod campaign;
pub mod demo;
pub mod demo_accounts;
pub mod intel;
pub mod quarantine;
pub mod sweep;
