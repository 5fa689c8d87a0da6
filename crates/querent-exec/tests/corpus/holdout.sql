# Held-out hostile statements: written after the guard, never used while developing it.
# Same format as hostile.sql.

## pms
SeLeCt SsN fRoM CuStOmErS
SELECT	ssn	FROM	customers
SELECT (SELECT (SELECT (SELECT ssn))) FROM customers
SELECT name FROM customers WHERE name = (SELECT max(secret_value) FROM secrets)
SELECT * FROM customers WHERE id = 1 OR 1 = 1
SELECT u.ssn FROM customers AS u
SELECT "customers"."ssn" FROM "customers"
WITH RECURSIVE t AS (SELECT ssn FROM customers) SELECT * FROM t
SELECT count(*) FROM customers WHERE (id, ssn) = (1, 'x')
VALUES ((SELECT secret_value FROM secrets))
SELECT * FROM (VALUES (1)) v(x) WHERE EXISTS (SELECT secret_value FROM secrets)
SELECT CASE WHEN (SELECT count(*) FROM secrets) > 0 THEN 1 END
SELECT 1 / (CASE WHEN email LIKE 'a%' THEN 0 ELSE 1 END) FROM customers
SELECT (SELECT email FROM customers ORDER BY email LIMIT 1 OFFSET 0)
SELECT email FROM customers c1 NATURAL JOIN customers c2
SELECT 1 WHERE EXISTS (SELECT 1 FROM customers WHERE ssn > '')
SELECT * FROM (SELECT * FROM customers) AS t WHERE t.ssn IS NULL
SELECT 1 FROM customers WHERE name = 'x' OR name LIKE '%' ESCAPE '!'
SELECT t.email FROM (SELECT email, name FROM customers UNION SELECT name, name FROM products) t
SELECT max(e) FROM (SELECT email AS e FROM customers UNION ALL SELECT 'z') t
SELECT count(*) FROM customers a, customers b WHERE a.email = b.email
SELECT id FROM customers ORDER BY CASE WHEN email < 'b' THEN 0 ELSE 1 END, id
SELECT email FROM customers WHERE id IN (1, 2, 3) ORDER BY 1
SELECT name, (SELECT max(o.status) FROM orders o WHERE o.customer_id = customers.id AND customers.email IS NOT NULL) FROM customers
SELECT o.id FROM orders o WHERE o.customer_id IN (SELECT c.id FROM customers c WHERE c.email = 'alice@secret.example')
SELECT * FROM customers WHERE name IN (SELECT secret_value FROM secrets UNION SELECT 'x')
SELECT * FROM orders WHERE status = (SELECT ssn FROM customers WHERE id = 1)
WITH a AS (SELECT id FROM customers), b AS (SELECT ssn FROM customers) SELECT * FROM a
WITH a AS (SELECT * FROM customers) SELECT a.ssn FROM a
SELECT (SELECT count(*) FROM secrets s WHERE s.id = c.id) FROM customers c

## p
SELECT xmlagg(xmlelement(name x, email)) FROM customers
SELECT (SELECT array_agg(s) FROM regexp_matches(c.email, '.', 'g') s) FROM customers c
SELECT jsonb_build_object('s', (SELECT ssn)) FROM customers
SELECT * FROM orders o JOIN LATERAL (SELECT ssn FROM customers WHERE id = o.customer_id) x ON true
SELECT t.* FROM customers t(a, b, c, d, e, f)
SELECT a, b, c FROM customers AS t(a, b, c)
SELECT (x).ssn FROM (SELECT c FROM customers c) s(x)
SELECT (x).email FROM (SELECT c FROM customers c) s(x)
SELECT to_jsonb(t) ->> 'ssn' FROM customers t
SELECT to_jsonb(t) ->> 'email' FROM customers t
SELECT jsonb_populate_record(NULL::customers, to_jsonb(c)) FROM customers c
SELECT NULL::customers
SELECT * FROM customers c, jsonb_to_record(to_jsonb(c)) AS r(ssn text)
SELECT query_to_xml(format('SELECT ssn FROM customers'), true, true, '')
SELECT xmlparse(document '<a/>')
SELECT pg_column_size(ssn) FROM customers
SELECT pg_typeof(email), email FROM customers
SELECT current_query()
SELECT * FROM pg_stat_get_activity(NULL)
SELECT set_config('search_path', 'pg_catalog', false)
SELECT (SELECT setting FROM pg_settings LIMIT 1)
SELECT E'\x27 UNION SELECT secret_value FROM secrets --'
SELECT E'\\' || '''' || ' UNION SELECT secret_value FROM secrets'
SELECT email OPERATOR(pg_catalog.||) '' FROM customers
SELECT textcat(email, '') FROM customers
SELECT pg_catalog.textcat(email, '') FROM customers
SELECT string_agg(DISTINCT email, ',') FROM customers
SELECT email COLLATE "C" FROM customers
SELECT row(email, name) FROM customers
SELECT * FROM customers c LEFT JOIN LATERAL jsonb_each_text(to_jsonb(c)) j ON true
SELECT 'a'{NL}'b', ' UNION SELECT secret_value FROM secrets --'
SELECT count(*) FROM customers WHERE md5(email) = md5('alice@secret.example')
SELECT * FROM ONLY customers
SELECT * FROM customers*
TABLE secrets
SELECT (c).* FROM customers c
SELECT (SELECT c FROM customers c LIMIT 1)
SELECT array(SELECT email FROM customers)
SELECT array(SELECT ssn FROM customers)
SELECT (array_agg(email))[1] FROM customers
SELECT (array_agg(c.*))[1] FROM customers c
SELECT hstore(c)->'ssn' FROM customers c
SELECT jsonb_path_query_first(to_jsonb(c), '$.ssn') FROM customers c
SELECT c #>> '{email}' FROM (SELECT to_jsonb(x) AS c FROM customers x) t
SELECT lpad(email, 100000) FROM customers
SELECT repeat(email, 1000000000) FROM customers
SELECT repeat('x', 500000000)
SELECT format('%999999s', email) FROM customers
SELECT format('%*s', 100, email) FROM customers
SELECT generate_series(1, 1000000000)
SELECT * FROM customers WHERE email IS DISTINCT FROM 'alice@secret.example'
SELECT email::bytea FROM customers
SELECT convert_to(email, 'UTF8') FROM customers
SELECT octet_length(email) FROM customers
SELECT * FROM customers c WHERE c = c
SELECT interval '1 day' * length(ssn) FROM customers
SELECT to_tsvector('simple', email) FROM customers
SELECT to_tsvector('simple', ssn) FROM customers

## m
SELECT 'a\\' '\\' ' UNION SELECT secret_value FROM secrets -- '
SELECT CHAR(39), CONCAT(CHAR(39), ' UNION SELECT secret_value FROM secrets')
SELECT * FROM customers WHERE email = _binary'alice@secret.example'
SELECT * FROM customers c WHERE c.email LIKE BINARY 'a%'
SELECT 1 UNION SELECT secret_value FROM {DB}.secrets
SELECT * FROM information_schema.PROCESSLIST
SELECT JSON_EXTRACT(JSON_OBJECT('s', ssn), '$.s') FROM customers
SELECT JSON_UNQUOTE(JSON_EXTRACT(JSON_ARRAYAGG(email), '$[0]')) FROM customers
SELECT ExtractValue('<a>x</a>', '/a')
SELECT GEOMFROMTEXT('POINT(1 1)')
SELECT @@session.sql_mode
SELECT SESSION_USER()
SELECT SQL_BUFFER_RESULT name FROM customers
SELECT name FROM customers WHERE MATCH(name) AGAINST ('x' IN BOOLEAN MODE)
SELECT 'x' INTO @v
SELECT 'a\{NL}', ' UNION SELECT secret_value FROM secrets #'
SELECT '\0'
SELECT 'a\%b', '\_', ' UNION SELECT secret_value FROM secrets -- '
SELECT 1 FROM DUAL WHERE 0 UNION SELECT secret_value FROM secrets
SELECT name FROM customers LIMIT 1 INTO @x
SELECT * FROM customers FOR SHARE SKIP LOCKED
SELECT VALUES(name) FROM customers
SELECT \N
SELECT 'a' COLLATE utf8mb4_bin
SELECT email FROM customers WHERE email = 'x' OR '1' = '1'
SELECT REPEAT(email, 100000000) FROM customers
SELECT SPACE(1000000000)
SELECT LPAD('x', 1000000000, 'y')
SELECT RPAD(email, 99999999, email) FROM customers
SELECT JSON_TABLE_OK FROM customers
SELECT t.e FROM JSON_TABLE((SELECT JSON_ARRAYAGG(ssn) FROM customers), '$[*]' COLUMNS (e TEXT PATH '$')) t
SELECT t.e FROM JSON_TABLE((SELECT JSON_ARRAYAGG(email) FROM customers), '$[*]' COLUMNS (e TEXT PATH '$')) t
SELECT CONVERT(ssn USING utf8mb4) FROM customers
SELECT WEIGHT_STRING(email) FROM customers
SELECT COMPRESS(email) FROM customers
SELECT AES_ENCRYPT(email, 'k') FROM customers
SELECT email FROM customers WHERE email SOUNDS LIKE 'alice'
SELECT `customers`.* FROM `customers`
SELECT c.* FROM {DB}.customers c
SELECT {DB}.customers.email FROM {DB}.customers

## s
SELECT * FROM customers INDEXED BY sqlite_autoindex_customers_1
SELECT * FROM customers NOT INDEXED
SELECT name FROM customers WHERE rowid IN (SELECT rowid FROM secrets)
SELECT ssn FROM customers WHERE 0 UNION SELECT 1
SELECT json_extract(json_object('s', ssn), '$.s') FROM customers
SELECT (SELECT "ssn" FROM customers)
SELECT 'ssn' FROM customers
SELECT [customers].[ssn] FROM customers
SELECT * FROM "main"."secrets"
SELECT likelihood(ssn, 0.5) FROM customers
SELECT iif(ssn > '', 1, 0) FROM customers
SELECT * FROM json_each((SELECT json_group_array(ssn) FROM customers))
WITH RECURSIVE x(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM x LIMIT 5) SELECT * FROM x, secrets
SELECT email FROM customers WHERE email MATCH 'alice'
SELECT sqlite_offset(email) FROM customers
SELECT * FROM generate_series(1, 10)
SELECT load_extension('x', 'y')
SELECT unistr('\u0027 UNION SELECT secret_value FROM secrets --')
SELECT * FROM json_each((SELECT json_group_array(email) FROM customers))
SELECT value FROM customers c, json_each(c.email)
SELECT * FROM customers c, json_tree(json_object('r', json_array(c.email, c.name)))
SELECT printf('%s', email) FROM customers
SELECT printf('%c', email) FROM customers
SELECT format('%q', email) FROM customers
SELECT char(unicode(email)) FROM customers
SELECT substr(email, 2) FROM customers WHERE rowid = 1
SELECT oid, email FROM customers
SELECT _rowid_, * FROM customers
SELECT rowid FROM customers c NATURAL JOIN orders o
SELECT "customers".email FROM customers
SELECT * FROM customers WHERE email = "email"
SELECT * FROM customers WHERE "nosuchcolumn" = 'nosuchcolumn'
