//! Voltage quality and solar (use cases 2, 3, 5, 6, 12).
