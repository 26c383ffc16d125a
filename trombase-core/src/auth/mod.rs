//! Authentication: users, sessions and password resets in the library's own
//! tables.

pub(crate) mod tables;
