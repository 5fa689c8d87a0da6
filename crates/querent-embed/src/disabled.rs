//! The stand-in for the model in builds without the `local` feature: it cannot be
//! constructed ([`Model::load`] always fails), so its other methods are unreachable.

use std::path::Path;

use querent_domain::embed::EmbedError;

/// No model: an uninhabited type.
pub(crate) enum Model {}

impl Model {
    pub(crate) fn load(_dir: &Path, _id: String) -> Result<Self, EmbedError> {
        Err(EmbedError::Model(
            "built without the `local` feature".to_owned(),
        ))
    }

    pub(crate) fn id(&self) -> &str {
        match *self {}
    }

    pub(crate) fn dims(&self) -> usize {
        match *self {}
    }

    pub(crate) fn max_tokens(&self) -> usize {
        match *self {}
    }

    pub(crate) fn embed(&self, _texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match *self {}
    }
}
