//! Privacy rules of the approved use cases, enforced: purposes, retention,
//! purge, pseudonymised exports, minimum group sizes, audit log.
