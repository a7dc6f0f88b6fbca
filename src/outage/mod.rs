//! Outages (use cases 1, 4, 9): fault localisation, interruption durations,
//! compensation and the interruption register.
