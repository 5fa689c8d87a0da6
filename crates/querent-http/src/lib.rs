//! querent-http
