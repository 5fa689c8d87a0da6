//! querent-test-support
