//! Collects spanned errors so the derive reports all of them at once.

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

/// An error sink; every error keeps the span of the tokens it is about.
#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error at `tokens`.
    pub fn at(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error at `span`.
    pub fn at_span(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records a syn error.
    pub fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// Keeps the value of `result`, recording its error.
    pub fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// `Err` with every recorded error as `compile_error!`s, if there are any.
    pub fn finish(self) -> Result<(), TokenStream> {
        match self.errors.is_empty() {
            true => Ok(()),
            false => Err(self.errors.into_iter().map(|e| e.to_compile_error()).collect()),
        }
    }
}
