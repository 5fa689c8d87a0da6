-- The per-caller request rate limit, counted across instances on a shared store: one row
-- per caller and one-minute window of the store's clock (window_start in Unix ms),
-- upserted atomically by each request; windows that ended are deleted every minute.
CREATE TABLE request_windows (
    caller TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (caller, window_start)
);
CREATE INDEX request_windows_window_start ON request_windows(window_start);
