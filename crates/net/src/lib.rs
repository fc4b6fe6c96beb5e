//! Capture analysis: a verdict per host for MS17-010, DoublePulsar and the WannaCry worm.
#![forbid(unsafe_code)]
