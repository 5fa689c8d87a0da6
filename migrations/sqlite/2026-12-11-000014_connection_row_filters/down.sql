ALTER TABLE connections DROP COLUMN row_filters;
