pub mod audit;
pub mod campaign;
pub mod demo;
pub mod intel;
