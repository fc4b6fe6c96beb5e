pub mod audit;
pub mod campaign;
pub mod demo;
pub mod intel;
pub mod quarantine;
pub mod sweep;
