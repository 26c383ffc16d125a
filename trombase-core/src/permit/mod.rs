//! Permitters: the async rules that allow, deny or filter each access.
//!
//! A permitter is an ordinary async function
//! `async fn(&Session, &Sql<'_>, &Operation<'_, E>) -> Permit<E>`, named in
//! `#[permit(read = ..., create = ..., update = ..., delete = ...)]`. One
//! function can serve every action and, if generic over `E`, every entity.

mod erased;
mod operation;

pub use erased::EntityHandle;
pub(crate) use erased::{ErasedOp, Verdict};

pub use operation::{Action, CreateOp, DeleteOp, Operation, Payload, ReadOp, UpdateOp};

use crate::query::Filter;
use crate::PermissionError;

/// A permitter's answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Permit<E> {
    /// Go ahead.
    Allow,
    /// Refuse; the message reaches the caller.
    Deny(PermissionError),
    /// (Reads only.) Go ahead, but only over rows that match this filter,
    /// wherever the entity appears in the read.
    Filter(Filter<E>),
}

impl<E> Permit<E> {
    /// Refuse with this message.
    pub fn deny(message: impl Into<String>) -> Self {
        Permit::Deny(PermissionError::new(message))
    }

    /// Allow reading only the rows that match `filter`.
    pub fn filter(filter: Filter<E>) -> Self {
        Permit::Filter(filter)
    }

    /// The answer for an action the entity declares no permitter for.
    pub fn undeclared() -> Self {
        Permit::Deny(PermissionError::default())
    }
}
