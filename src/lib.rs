//! adnet facade (being written).
