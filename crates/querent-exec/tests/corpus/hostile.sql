# Hostile statements for the guard, run against real PostgreSQL, MariaDB and SQLite
# databases seeded with protected values (see corpus.rs). Each must be refused, or run
# without any protected value reaching a result or an error, and leave the database as it
# was.
#
# Format: `## <dialects>` (any of p, m, s) applies to the lines that follow; `#` starts a
# comment line; `{NL}` is a newline; `{DB}` is the test database's name (MariaDB). One
# statement per line.

## pms
# ---------------------------------------------------------------- excluded objects by name
SELECT ssn FROM customers
SELECT c.ssn FROM customers c
SELECT customers.ssn FROM customers
SELECT SSN FROM customers
SELECT id FROM customers WHERE ssn LIKE 'SSN%'
SELECT id FROM customers ORDER BY ssn
SELECT count(*) FROM customers GROUP BY ssn
SELECT max(ssn) FROM customers
SELECT * FROM secrets
SELECT secret_value FROM secrets
SELECT count(*) FROM secrets
SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM secrets)
SELECT (SELECT secret_value FROM secrets LIMIT 1)
WITH s AS (SELECT * FROM secrets) SELECT * FROM s
WITH x AS (SELECT ssn FROM customers) SELECT * FROM x
SELECT name FROM customers UNION SELECT secret_value FROM secrets
SELECT name FROM customers UNION ALL SELECT ssn FROM customers
SELECT name FROM customers INTERSECT SELECT secret_value FROM secrets
SELECT name FROM customers EXCEPT SELECT ssn FROM customers
SELECT x FROM (SELECT ssn AS x FROM customers) t
SELECT a.id FROM customers a JOIN customers b ON a.ssn = b.ssn
SELECT 1 FROM customers a JOIN customers b USING (ssn)
SELECT id FROM customers c WHERE c.ssn IN (SELECT ssn FROM customers)
SELECT (SELECT ssn) FROM customers
SELECT (SELECT ssn FROM orders LIMIT 1) FROM customers
SELECT (SELECT ssn AS ssn FROM orders LIMIT 1) FROM customers
SELECT (SELECT max(ssn) FROM orders) AS x FROM customers
SELECT id FROM orders o WHERE EXISTS (SELECT 1 FROM customers WHERE ssn = o.status)
SELECT (SELECT o.status FROM orders o WHERE o.status = ssn LIMIT 1) FROM customers
SELECT (SELECT count(*) FROM orders WHERE ssn LIKE 'SSN-1%') FROM customers
SELECT id FROM customers ORDER BY (SELECT ssn)
SELECT name AS ssn FROM customers ORDER BY ssn
SELECT c.id, (SELECT c2.ssn FROM customers c2 WHERE c2.id = c.id) FROM customers c
SELECT CASE WHEN ssn LIKE 'SSN-1%' THEN 1 ELSE 0 END FROM customers
SELECT coalesce(NULL, ssn) FROM customers
SELECT length(ssn) FROM customers
SELECT * FROM customers WHERE ssn = 'SSN-111-22-3333'
SELECT count(*) FROM customers HAVING max(ssn) > 'A'
SELECT id FROM customers WHERE id = 1 AND ssn IS NOT NULL
SELECT * FROM customers c, secrets s
SELECT * FROM customers NATURAL JOIN secrets
SELECT * FROM (SELECT * FROM secrets) t
SELECT * FROM customers WHERE id IN (SELECT id FROM secrets)
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT ssn FROM customers, r
WITH RECURSIVE r(v) AS (SELECT secret_value FROM secrets UNION SELECT v FROM r) SELECT v FROM r
WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets
WITH customers AS (SELECT ssn FROM customers) SELECT * FROM customers
SELECT t.ssn FROM (SELECT * FROM customers) t
SELECT t.x FROM (SELECT c.* FROM customers c) t(x)
# ---------------------------------------------------------------- masked values, every path
SELECT email FROM customers
SELECT * FROM customers
SELECT c.* FROM customers c
SELECT upper(email) FROM customers
SELECT lower(email) AS e FROM customers
SELECT substr(email, 1, 5) FROM customers
SELECT replace(email, '@', ' at ') FROM customers
SELECT email || '' FROM customers
SELECT concat(email, '') FROM customers
SELECT trim(email) FROM customers
SELECT coalesce(email, 'x') FROM customers
SELECT CASE WHEN email IS NOT NULL THEN email END FROM customers
SELECT max(email) FROM customers
SELECT min(email), max(email) FROM customers
SELECT email, count(*) FROM customers GROUP BY email
SELECT DISTINCT email FROM customers
SELECT name FROM customers UNION SELECT email FROM customers
SELECT email FROM customers UNION ALL SELECT name FROM customers
SELECT x FROM (SELECT email AS x FROM customers) t
WITH e AS (SELECT email FROM customers) SELECT * FROM e
WITH e AS (SELECT email AS m FROM customers) SELECT upper(m) FROM e
SELECT (SELECT email FROM customers LIMIT 1)
SELECT (SELECT max(email) FROM customers) AS m
SELECT id FROM customers ORDER BY email
SELECT email FROM customers WHERE email LIKE 'alice%'
SELECT name FROM customers WHERE email = 'alice@secret.example'
SELECT name FROM customers WHERE email > 'b'
SELECT name FROM customers WHERE substr(email, 1, 1) = 'a'
SELECT count(*) FROM customers WHERE email LIKE '%secret%'
SELECT length(email) FROM customers
SELECT instr(email, '@') FROM customers
SELECT name FROM customers ORDER BY email DESC LIMIT 1
SELECT email FROM customers c JOIN orders o ON o.customer_id = c.id
SELECT c.email AS contact, o.total FROM customers c JOIN orders o ON o.customer_id = c.id
SELECT id FROM customers WHERE email IN (SELECT email FROM customers WHERE id = 1)
SELECT a.email, b.email FROM customers a JOIN customers b ON a.id = b.id
SELECT e FROM (SELECT upper(email) AS e FROM customers) t WHERE e LIKE 'A%'
SELECT count(DISTINCT email) FROM customers
SELECT email FROM customers WHERE id = 1 UNION SELECT email FROM customers WHERE id = 2
SELECT id, email AS name FROM customers ORDER BY name
SELECT id FROM customers GROUP BY id, email HAVING email LIKE 'a%'
SELECT * FROM customers, orders WHERE orders.customer_id = customers.id
SELECT * FROM customers JOIN orders ON orders.customer_id = customers.id
SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id
# ---------------------------------------------------------------- catalogs and server state
SELECT * FROM information_schema.tables
SELECT table_name FROM information_schema.columns
SELECT column_name FROM information_schema.columns WHERE table_name = 'secrets'
SELECT * FROM information_schema.routines
# ---------------------------------------------------------------- statements that are not queries
DROP TABLE secrets
DELETE FROM customers
UPDATE customers SET name = 'x'
INSERT INTO customers (id) VALUES (99)
CREATE TABLE stolen AS SELECT * FROM secrets
SELECT 1; DROP TABLE secrets
SELECT 1; SELECT secret_value FROM secrets
SELECT * FROM customers FOR UPDATE
ALTER TABLE customers DROP COLUMN email
# ---------------------------------------------------------------- comment and quote tricks
SELECT 1 -- ; DROP TABLE secrets
SELECT 1 /* ; DROP TABLE secrets */
SELECT name /* ssn */ FROM customers
SELECT 'a', ' UNION SELECT secret_value FROM secrets -- '
SELECT 'it''s', ''' UNION SELECT secret_value FROM secrets --'
SELECT '--', 'UNION SELECT secret_value FROM secrets'
SELECT '/*', '*/ UNION SELECT secret_value FROM secrets'
SELECT 'a''''b', 'c'' UNION SELECT secret_value FROM secrets --'
SELECT name FROM customers WHERE name = 'x'' OR ''1''=''1'
SELECT name FROM customers WHERE name = '{NL}UNION SELECT secret_value FROM secrets'
SELECT - -1, '{NL}UNION SELECT secret_value FROM secrets --'
SELECT 1 - -1 FROM customers
SELECT name FROM customers WHERE id = - -1
SELECT name FROM customers WHERE name = 'a' --' UNION SELECT secret_value FROM secrets
# ---------------------------------------------------------------- functions off the list
SELECT evil()
SELECT lower(evil())
SELECT name FROM customers WHERE evil() = 1
SELECT * FROM customers ORDER BY evil()
SELECT count(*) FROM customers GROUP BY evil()
SELECT max(id) FROM customers HAVING evil() = 1
SELECT sum(id) OVER (ORDER BY evil()) FROM customers
SELECT 1 FROM customers LIMIT (SELECT evil())

## p
# ---------------------------------------------------------------- SQL inside strings (PostgreSQL)
SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')
SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', ssn) FROM customers')
SELECT word FROM ts_stat('SELECT to_tsvector(''simple'', secret_value) FROM secrets')
SELECT word FROM pg_catalog.ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')
SELECT word FROM "ts_stat"('SELECT to_tsvector(''simple'', email) FROM customers')
SELECT word FROM TS_STAT('SELECT to_tsvector(''simple'', email) FROM customers')
SELECT word FROM ts_stat($$SELECT to_tsvector('simple', email) FROM customers$$)
SELECT word FROM ts_stat($q$SELECT to_tsvector('simple', secret_value) FROM secrets$q$)
SELECT * FROM ts_stat('SELECT to_tsvector(''simple'', passwd) FROM pg_shadow')
SELECT ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')
SELECT (ts_stat('SELECT to_tsvector(''simple'', email) FROM customers')).word
SELECT ts_rewrite('a & b'::tsquery, 'SELECT ''a''::tsquery, to_tsquery(''simple'', email) FROM customers')
SELECT ts_rewrite(to_tsquery('simple', 'x'), 'SELECT to_tsquery(''simple'', secret_value), ''x''::tsquery FROM secrets')
SELECT query_to_xml('SELECT * FROM secrets', true, true, '')
SELECT query_to_xml('SELECT ssn FROM customers', true, true, '')
SELECT query_to_xmlschema('SELECT * FROM secrets', true, true, '')
SELECT query_to_xml_and_xmlschema('SELECT * FROM secrets', true, true, '')
SELECT cursor_to_xml('c', 1, true, true, '')
SELECT table_to_xml('secrets', true, true, '')
SELECT table_to_xml('public.customers'::regclass, true, true, '')
SELECT schema_to_xml('public', true, true, '')
SELECT database_to_xml(true, true, '')
SELECT xpath('/a', query_to_xml('SELECT * FROM secrets', true, true, ''))
SELECT * FROM dblink('dbname=postgres', 'SELECT secret_value FROM secrets') AS t(x text)
SELECT dblink_exec('dbname=postgres', 'DROP TABLE secrets')
SELECT * FROM pg_catalog.pg_get_keywords()
SELECT pg_catalog.lower(email) FROM customers
SELECT public.evil()
# ---------------------------------------------------------------- table functions and LATERAL (PostgreSQL)
SELECT s FROM customers c, unnest(ARRAY[c.email]) s
SELECT s FROM customers c, unnest(ARRAY[c.ssn]) s
SELECT s FROM customers c CROSS JOIN LATERAL unnest(ARRAY[c.email, c.name]) s
SELECT x FROM customers c, regexp_split_to_table(c.email, '@') x
SELECT x FROM customers c, regexp_split_to_table(c.ssn, '-') x
SELECT value FROM customers c, jsonb_array_elements_text(jsonb_build_array(c.email)) AS j
SELECT value FROM customers c, json_array_elements_text(json_build_array(c.email))
SELECT key, value FROM customers c, jsonb_each_text(to_jsonb(c))
SELECT key, value FROM customers c, json_each_text(row_to_json(c))
SELECT e FROM customers c, LATERAL (VALUES (email)) v(e)
SELECT e FROM customers c, LATERAL (VALUES (c.email)) v(e)
SELECT e FROM customers c, LATERAL (SELECT c.email AS e) v
SELECT e FROM customers c, LATERAL (SELECT ssn AS e) v
SELECT (SELECT v.column1 FROM (VALUES (c.email)) v) FROM customers c
SELECT (SELECT v.column1 FROM (VALUES (c.ssn)) v) FROM customers c
SELECT (SELECT ssn FROM generate_series(1,1) g) AS x FROM customers
SELECT (SELECT email FROM generate_series(1,1) g) AS x FROM customers
SELECT (SELECT g.ssn FROM generate_series(1,1) g) FROM customers
SELECT g FROM customers c, generate_series(1, length(c.email)) g
SELECT string_agg(email, ',') FROM customers
SELECT array_agg(email) FROM customers
SELECT array_to_string(array_agg(email), ',') FROM customers
SELECT json_agg(c) FROM customers c
SELECT jsonb_agg(c.*) FROM customers c
SELECT row_to_json(c) FROM customers c
SELECT row_to_json(c.*) FROM customers c
SELECT to_jsonb(c) FROM customers c
SELECT to_json(c) FROM customers c
SELECT c FROM customers c
SELECT c::text FROM customers c
SELECT ROW(c.*) FROM customers c
SELECT (c).email FROM customers c
SELECT (c).ssn FROM customers c
SELECT email(c) FROM customers c
SELECT ssn(c) FROM customers c
SELECT customers FROM customers
SELECT hstore(c) FROM customers c
SELECT format('%s', email) FROM customers
SELECT format('%s %s', name, email) FROM customers
SELECT md5(email) FROM customers
SELECT encode(email::bytea, 'hex') FROM customers
SELECT ascii(email) FROM customers
SELECT split_part(email, '@', 1) FROM customers
SELECT regexp_replace(email, '(.)', '\1-', 'g') FROM customers
SELECT (regexp_match(email, '^(.*)@'))[1] FROM customers
SELECT email::text FROM customers
SELECT CAST(email AS varchar) FROM customers
SELECT * FROM customers, LATERAL (SELECT customers.email) x
SELECT * FROM (SELECT c FROM customers c) t
SELECT (SELECT string_agg(x, '') FROM unnest(ARRAY[c.email]) x) FROM customers c
WITH RECURSIVE r(n, e) AS (SELECT 1, (SELECT email FROM customers LIMIT 1) UNION ALL SELECT n + 1, e FROM r WHERE n < 2) SELECT e FROM r
WITH RECURSIVE r(x) AS (SELECT email FROM customers UNION SELECT x FROM r) SELECT x FROM r
# ---------------------------------------------------------------- errors that echo values (PostgreSQL)
SELECT name FROM customers WHERE email::int = 1
SELECT CAST(email AS integer) FROM customers
SELECT email::date FROM customers
SELECT email::numeric FROM customers
SELECT email::json FROM customers
SELECT email::uuid FROM customers
SELECT to_date(email, 'YYYY') FROM customers
SELECT ssn::int FROM customers
SELECT 1/0 FROM customers WHERE email = 'x'
SELECT (email || 'x')::int FROM customers
SELECT make_date(1, 1, length(email) * 100) FROM customers
SELECT jsonb_path_query_first(email::jsonb, '$') FROM customers
SELECT to_number(email, '999') FROM customers
SELECT (SELECT id FROM customers WHERE email LIKE '%' || c.name || '%') FROM customers c
# ---------------------------------------------------------------- catalogs and server (PostgreSQL)
SELECT * FROM pg_catalog.pg_shadow
SELECT * FROM pg_shadow
SELECT passwd FROM pg_shadow
SELECT rolpassword FROM pg_authid
SELECT * FROM pg_catalog.pg_authid
SELECT * FROM pg_settings
SELECT setting FROM pg_settings WHERE name = 'data_directory'
SELECT * FROM pg_stat_activity
SELECT query FROM pg_stat_activity
SELECT * FROM pg_class
SELECT relname FROM pg_catalog.pg_class
SELECT * FROM pg_proc
SELECT * FROM pg_user
SELECT * FROM pg_roles
SELECT * FROM pg_tables
SELECT * FROM pg_catalog.pg_attribute
SELECT * FROM pg_largeobject
SELECT * FROM pg_stat_statements
SELECT * FROM information_schema.role_table_grants
SELECT current_setting('data_directory')
SELECT current_setting('hba_file')
SELECT set_config('statement_timeout', '0', false)
SELECT pg_read_file('/etc/hostname')
SELECT pg_read_file('/etc/passwd')
SELECT pg_read_binary_file('/etc/passwd')
SELECT pg_catalog.pg_read_file('/etc/passwd')
SELECT "pg_read_file"('/etc/passwd')
SELECT PG_READ_FILE('/etc/passwd')
SELECT * FROM pg_ls_dir('/')
SELECT pg_stat_file('/etc/passwd')
SELECT lo_import('/etc/passwd')
SELECT lo_get(1)
SELECT pg_sleep(10)
SELECT pg_sleep_for('1 minute')
SELECT pg_terminate_backend(pg_backend_pid())
SELECT pg_backend_pid()
SELECT version()
SELECT current_user
SELECT session_user
SELECT current_database()
SELECT current_schema()
SELECT inet_server_addr()
SELECT txid_current()
SELECT nextval('orders_id_seq')
SELECT currval('orders_id_seq')
SELECT pg_advisory_lock(1)
SELECT pg_notify('x', 'y')
SELECT has_table_privilege('secrets', 'SELECT')
SELECT to_regclass('secrets')
SELECT 'secrets'::regclass
SELECT 'secrets'::regclass::oid
SELECT 'evil'::regproc
SELECT 'pg_shadow'::regclass
SELECT regclass 'secrets'
SELECT obj_description('secrets'::regclass)
SELECT pg_get_viewdef('pg_shadow')
SELECT pg_get_functiondef('evil'::regproc)
SELECT * FROM pg_get_keywords()
SELECT * FROM generate_series(1, 3) g(x), pg_sleep(1)
SELECT x FROM ROWS FROM (generate_series(1,2)) AS t(x)
SELECT customers.email FROM public.customers
SELECT * FROM public.secrets
SELECT * FROM "secrets"
SELECT * FROM "Secrets"
SELECT * FROM PUBLIC.SECRETS
SELECT "ssn" FROM customers
SELECT "SSN" FROM customers
SELECT c."ssn" FROM customers c
SELECT * FROM test.public.secrets
COPY secrets TO STDOUT
COPY (SELECT * FROM secrets) TO '/tmp/x'
DO $$ BEGIN PERFORM 1; END $$
CALL evil()
EXPLAIN SELECT * FROM secrets
EXPLAIN ANALYZE SELECT ssn FROM customers
PREPARE p AS SELECT secret_value FROM secrets
EXECUTE p
SET ROLE postgres
SELECT * FROM customers TABLESAMPLE SYSTEM (50)
SELECT E'\'' || (SELECT secret_value FROM secrets)
SELECT E'a\\', ' UNION SELECT secret_value FROM secrets --'
SELECT U&'\0027 UNION SELECT secret_value FROM secrets --'
SELECT $a$ $b$ $a$, ' UNION SELECT secret_value FROM secrets --'
SELECT 1 /* /* nested */ UNION SELECT secret_value FROM secrets */
SELECT * FROM customers WHERE id = $1
SELECT name FROM customers WHERE name ~ (SELECT secret_value FROM secrets)
SELECT name FROM customers c WHERE c.* IS NOT NULL
SELECT 1 FROM customers OFFSET 0 ROWS FETCH FIRST 1 ROWS WITH TIES

# ---------------------------------------------------------------- CTE names that differ in case from a table (review)
WITH "Customers" AS (SELECT 1 AS ssn) SELECT ssn FROM customers
WITH "Secrets" AS (SELECT 1 AS id, 'x' AS secret_value) SELECT * FROM secrets
WITH "Customers" AS (SELECT 1 AS id) SELECT email FROM customers
WITH "Customers" AS (SELECT 1 AS id) SELECT c FROM customers c
WITH RECURSIVE "Customers"(ssn) AS (SELECT 1 UNION ALL SELECT ssn + 1 FROM "Customers" WHERE ssn < 2) SELECT ssn FROM customers
WITH "secrets" AS (SELECT 1 AS id) SELECT * FROM "Secrets"
# whole-row references on tables without a policy (columns added since the snapshot)
SELECT to_jsonb(o) FROM orders o
SELECT o::text FROM orders o

## m
# ---------------------------------------------------------------- CTE names that differ in case (review)
WITH Secrets AS (SELECT 1 AS id, 'x' AS secret_value) SELECT * FROM secrets
WITH CUSTOMERS AS (SELECT 1 AS email) SELECT email FROM customers
WITH Customers AS (SELECT 1 AS ssn) SELECT ssn FROM customers
# ---------------------------------------------------------------- quoting and comments (MariaDB)
SELECT 'a\\', ' UNION SELECT secret_value FROM secrets -- '
SELECT 'a\\', ' UNION SELECT ssn FROM customers -- '
SELECT 'a\\', ' UNION SELECT authentication_string FROM mysql.user -- '
SELECT 'a\\', ' UNION SELECT load_file(''/etc/hostname'') -- '
SELECT 'a\\', ' UNION SELECT @@datadir -- '
SELECT "a\\", " UNION SELECT secret_value FROM secrets -- "
SELECT N'a\\', N' UNION SELECT secret_value FROM secrets -- '
SELECT _utf8mb4'a\\', _utf8mb4' UNION SELECT secret_value FROM secrets -- '
SELECT _latin1'a\\', ' UNION SELECT secret_value FROM secrets -- '
SELECT 'a\'', ' UNION SELECT secret_value FROM secrets -- '
SELECT 'a\\\\', ' UNION SELECT secret_value FROM secrets -- '
SELECT 'a\\' ' UNION SELECT secret_value FROM secrets -- '
SELECT name FROM customers WHERE name = 'x\\' OR 1=1 -- '
SELECT name FROM customers WHERE name = 'x\\' UNION SELECT secret_value FROM secrets -- '
SELECT name FROM customers WHERE name = "x\\" UNION SELECT secret_value FROM secrets -- "
SELECT 'a\\' AS x, '#' AS y, ' UNION SELECT secret_value FROM secrets #' AS z
SELECT '\\' /*, '*/ UNION SELECT secret_value FROM secrets -- '
SELECT 1 /*!50000 UNION SELECT secret_value FROM secrets */
SELECT 1 /*! UNION SELECT secret_value FROM secrets */
SELECT 1 /*M! UNION SELECT secret_value FROM secrets */
SELECT 1 /*M!100000 UNION SELECT secret_value FROM secrets */
SELECT name /*!, ssn */ FROM customers
SELECT name /*M!, ssn */ FROM customers
SELECT /*+ MAX_EXECUTION_TIME(1000000) */ name FROM customers
SELECT 1 # comment {NL} UNION SELECT secret_value FROM secrets
SELECT 1 --{NL} UNION SELECT secret_value FROM secrets
SELECT 1 -- {NL}, 2
SELECT `ssn` FROM customers
SELECT customers.`ssn` FROM customers
SELECT `secret_value` FROM `secrets`
SELECT * FROM `{DB}`.`secrets`
SELECT * FROM {DB}.secrets
SELECT ssn FROM {DB}.customers
SELECT {DB}.customers.ssn FROM {DB}.customers
SELECT 0x27, ' UNION SELECT secret_value FROM secrets -- '
SELECT X'27', ' UNION SELECT secret_value FROM secrets -- '
SELECT b'0100111', ' UNION SELECT secret_value FROM secrets -- '
# ---------------------------------------------------------------- server state and files (MariaDB)
SELECT load_file('/etc/passwd')
SELECT LOAD_FILE('/etc/hostname')
SELECT * FROM mysql.user
SELECT authentication_string FROM mysql.user
SELECT User, Password FROM mysql.user
SELECT * FROM performance_schema.threads
SELECT * FROM sys.version
SELECT * FROM information_schema.processlist
SELECT @@datadir
SELECT @@version
SELECT @@global.secure_file_priv
SELECT @a := secret_value FROM secrets
SELECT @a := 1
SET @a = 1
SELECT LAST_INSERT_ID(42)
SELECT last_insert_id()
SELECT GET_LOCK('x', 10)
SELECT RELEASE_LOCK('x')
SELECT IS_FREE_LOCK('x')
SELECT SLEEP(10)
SELECT BENCHMARK(100000000, MD5('x'))
SELECT MASTER_POS_WAIT('x', 1)
SELECT sys_exec('id')
SELECT USER()
SELECT CURRENT_USER()
SELECT DATABASE()
SELECT VERSION()
SELECT CONNECTION_ID()
SELECT FOUND_ROWS()
SELECT ROW_COUNT()
SELECT SQL_CALC_FOUND_ROWS name FROM customers
SELECT HIGH_PRIORITY name FROM customers
SELECT STRAIGHT_JOIN name FROM customers
SELECT SQL_NO_CACHE name FROM customers
SELECT name FROM customers INTO OUTFILE '/tmp/x'
SELECT name INTO @v FROM customers LIMIT 1
SELECT name FROM customers LOCK IN SHARE MODE
SELECT EXTRACTVALUE(1, CONCAT(0x7e, (SELECT secret_value FROM secrets)))
SELECT UPDATEXML(1, CONCAT(0x7e, (SELECT ssn FROM customers LIMIT 1)), 1)
SELECT EXTRACTVALUE(1, CONCAT(0x7e, (SELECT email FROM customers LIMIT 1)))
SELECT NAME_CONST('x', 1)
SELECT * FROM customers USE INDEX (PRIMARY)
SELECT * FROM customers PARTITION (p0)
HANDLER secrets OPEN
PREPARE s FROM 'SELECT secret_value FROM secrets'
EXECUTE s
CALL evil()
DO SLEEP(5)
SHOW TABLES
SHOW GRANTS
DESCRIBE secrets
KILL 1
FLUSH PRIVILEGES
# ---------------------------------------------------------------- masking and scope (MariaDB)
SELECT jt.e FROM customers c, JSON_TABLE(JSON_ARRAY(c.email), '$[*]' COLUMNS (e TEXT PATH '$')) jt
SELECT jt.e FROM customers c, JSON_TABLE(JSON_ARRAY(c.ssn), '$[*]' COLUMNS (e TEXT PATH '$')) jt
SELECT (SELECT ssn FROM JSON_TABLE('[1]', '$[*]' COLUMNS (x INT PATH '$')) jt) FROM customers
SELECT (SELECT email FROM JSON_TABLE('[1]', '$[*]' COLUMNS (x INT PATH '$')) jt) FROM customers
SELECT GROUP_CONCAT(email) FROM customers
SELECT GROUP_CONCAT(email SEPARATOR '|') FROM customers
SELECT JSON_ARRAYAGG(email) FROM customers
SELECT JSON_OBJECT('e', email) FROM customers
SELECT JSON_OBJECTAGG(name, email) FROM customers
SELECT CONVERT(email USING utf8mb4) FROM customers
SELECT CAST(email AS BINARY) FROM customers
SELECT CAST(email AS SIGNED) FROM customers
SELECT email + 0 FROM customers
SELECT HEX(email) FROM customers
SELECT TO_BASE64(email) FROM customers
SELECT SUBSTRING_INDEX(email, '@', 1) FROM customers
SELECT email REGEXP '^a' FROM customers
SELECT ELT(1, email) FROM customers
SELECT IF(email LIKE 'a%', 'yes', 'no') FROM customers
SELECT (SELECT email) FROM customers
SELECT MATCH (email) AGAINST ('alice') FROM customers
SELECT STR_TO_DATE(email, '%Y') FROM customers
SELECT DATE(email) FROM customers
SELECT email DIV 1 FROM customers

## s
# ---------------------------------------------------------------- SQLite
WITH Secrets AS (SELECT 1 AS id, 'x' AS secret_value) SELECT * FROM secrets
WITH CUSTOMERS AS (SELECT 1 AS email) SELECT email FROM customers
SELECT * FROM sqlite_master
SELECT sql FROM sqlite_master WHERE name = 'secrets'
SELECT * FROM sqlite_schema
SELECT * FROM main.sqlite_master
SELECT * FROM sqlite_temp_master
SELECT * FROM pragma_table_info('secrets')
SELECT name FROM pragma_table_info('customers')
SELECT * FROM pragma_database_list
SELECT * FROM pragma_index_list('customers')
SELECT * FROM main.secrets
SELECT * FROM temp.secrets
SELECT * FROM "secrets"
SELECT * FROM [secrets]
SELECT * FROM `secrets`
SELECT [ssn] FROM customers
SELECT "ssn" FROM customers
SELECT `ssn` FROM customers
SELECT load_extension('/tmp/evil.so')
SELECT readfile('/etc/passwd')
SELECT writefile('/tmp/x', 'y')
SELECT * FROM fsdir('/')
SELECT zeroblob(1000000000)
SELECT randomblob(1000000000)
SELECT printf('%.*c', 1000000000, 'x')
SELECT printf('%1000000000d', 1)
SELECT format('%999999999s', 'x')
SELECT sqlite_version()
SELECT sqlite_source_id()
SELECT sqlite_compileoption_get(0)
SELECT changes()
SELECT last_insert_rowid()
SELECT total_changes()
SELECT fts3_tokenizer('simple')
SELECT value FROM customers c, json_each(json_array(c.email))
SELECT value FROM customers c, json_each(json_array(c.ssn))
SELECT value FROM customers c, json_tree(json_object('e', c.email))
SELECT key, value FROM json_each((SELECT json_group_array(email) FROM customers))
SELECT (SELECT ssn FROM json_each('[1]')) FROM customers
SELECT (SELECT email FROM json_each('[1]')) FROM customers
SELECT (SELECT value FROM json_each(json_array(c.email))) FROM customers c
SELECT group_concat(email) FROM customers
SELECT json_group_array(email) FROM customers
SELECT json_object('e', email) FROM customers
SELECT quote(email) FROM customers
SELECT hex(email) FROM customers
SELECT unicode(email) FROM customers
SELECT typeof(email), email FROM customers
SELECT id FROM customers WHERE email GLOB 'a*'
SELECT rowid, * FROM secrets
SELECT rowid, ssn FROM customers
SELECT oid FROM secrets
ATTACH DATABASE '/tmp/evil.db' AS evil
PRAGMA writable_schema = 1
PRAGMA table_info(secrets)
VACUUM INTO '/tmp/copy.db'
REPLACE INTO customers (id) VALUES (1)
SELECT name FROM customers WHERE email = "alice@secret.example"
SELECT "email" FROM customers
