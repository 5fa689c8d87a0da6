DROP TABLE request_windows;
