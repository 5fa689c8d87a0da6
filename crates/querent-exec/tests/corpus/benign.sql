# Analytic statements people and providers write. Each must be accepted by the guard and
# run on the real database. Same format as hostile.sql.

## pms
SELECT count(*) FROM customers
SELECT count(*) AS n FROM orders
SELECT name, city FROM customers ORDER BY name
SELECT * FROM orders
SELECT * FROM products ORDER BY price DESC
SELECT id, name, email FROM customers
SELECT DISTINCT city FROM customers
SELECT city, count(*) AS customers FROM customers GROUP BY city ORDER BY customers DESC
SELECT status, count(*) FROM orders GROUP BY status
SELECT status, sum(total) AS revenue FROM orders GROUP BY status ORDER BY revenue DESC
SELECT avg(total) FROM orders
SELECT min(total), max(total), avg(total) FROM orders
SELECT customer_id, sum(total) FROM orders GROUP BY customer_id HAVING sum(total) > 50
SELECT c.name, count(o.id) AS orders FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name
SELECT c.name, sum(o.total) AS spent FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY spent DESC LIMIT 3
SELECT c.city, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.city
SELECT p.name, sum(i.quantity) AS units FROM products p JOIN order_items i ON i.product_id = p.id GROUP BY p.name ORDER BY units DESC
SELECT p.name, sum(i.quantity * p.price) AS revenue FROM order_items i JOIN products p ON p.id = i.product_id GROUP BY p.name
SELECT o.id, c.name, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 20 ORDER BY o.total DESC
SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders)
SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM orders WHERE customer_id IS NOT NULL)
SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
SELECT name FROM products WHERE price > (SELECT avg(price) FROM products)
SELECT name, price FROM products WHERE price = (SELECT max(price) FROM products)
SELECT name FROM products ORDER BY price LIMIT 1
SELECT name FROM products ORDER BY price DESC LIMIT 3
SELECT name FROM customers WHERE name LIKE 'A%'
SELECT name FROM customers WHERE city IN ('Paris', 'Lyon')
SELECT name FROM customers WHERE city = 'Paris' AND id > 1
SELECT name FROM customers WHERE city = 'Paris' OR city = 'Oslo'
SELECT name FROM customers WHERE city IS NULL
SELECT name FROM customers WHERE city IS NOT NULL ORDER BY 1
SELECT id, total FROM orders WHERE total BETWEEN 10 AND 100
SELECT id FROM orders WHERE status <> 'cancelled'
SELECT count(DISTINCT customer_id) FROM orders
SELECT count(DISTINCT city) AS cities FROM customers
SELECT status, avg(total) AS avg_total, count(*) AS n FROM orders GROUP BY status HAVING count(*) >= 1 ORDER BY n DESC
SELECT name, CASE WHEN price > 20 THEN 'expensive' ELSE 'cheap' END AS band FROM products
SELECT sum(CASE WHEN status = 'paid' THEN total ELSE 0 END) AS paid FROM orders
SELECT coalesce(city, 'unknown') AS city, count(*) FROM customers GROUP BY coalesce(city, 'unknown')
SELECT upper(name), lower(city) FROM customers
SELECT length(name) FROM customers
SELECT round(avg(total), 2) FROM orders
SELECT abs(total - 50) FROM orders
SELECT name FROM customers UNION SELECT name FROM products
SELECT name FROM customers UNION ALL SELECT name FROM products ORDER BY name
SELECT customer_id FROM orders INTERSECT SELECT id FROM customers
SELECT id FROM customers EXCEPT SELECT customer_id FROM orders
WITH spend AS (SELECT customer_id, sum(total) AS s FROM orders GROUP BY customer_id) SELECT c.name, spend.s FROM customers c JOIN spend ON spend.customer_id = c.id
WITH big AS (SELECT * FROM orders WHERE total > 20) SELECT count(*) FROM big
WITH a AS (SELECT id FROM customers), b AS (SELECT customer_id FROM orders) SELECT count(*) FROM a JOIN b ON b.customer_id = a.id
SELECT t.city, t.n FROM (SELECT city, count(*) AS n FROM customers GROUP BY city) t WHERE t.n > 0
SELECT x.name FROM (SELECT name, price FROM products) x WHERE x.price < 100
SELECT name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS orders FROM customers c
SELECT o.id, (SELECT name FROM customers c WHERE c.id = o.customer_id) FROM orders o
SELECT id, total, rank() OVER (ORDER BY total DESC) AS r FROM orders
SELECT id, total, row_number() OVER (PARTITION BY status ORDER BY total) FROM orders
SELECT customer_id, total, sum(total) OVER (PARTITION BY customer_id) AS customer_total FROM orders
SELECT id, total, lag(total) OVER (ORDER BY id) AS previous FROM orders
SELECT id, avg(total) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM orders
SELECT id, dense_rank() OVER (ORDER BY total) FROM orders
SELECT status, count(*) * 100.0 / (SELECT count(*) FROM orders) AS share FROM orders GROUP BY status
SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE o.id IS NULL
SELECT c.name, p.name FROM customers c CROSS JOIN products p WHERE p.price < 5
SELECT a.name, b.name FROM customers a JOIN customers b ON a.city = b.city AND a.id < b.id
SELECT count(*) FROM orders WHERE customer_id = 1
SELECT max(total) - min(total) AS spread FROM orders
SELECT name FROM customers ORDER BY name LIMIT 2 OFFSET 1
SELECT COUNT(*) FROM Customers
SELECT Name FROM customers
SELECT c.NAME FROM customers AS c
SELECT name AS "Customer Name" FROM customers
SELECT 1 + 1
SELECT 'hello'
SELECT NULL IS NULL
SELECT name, 'it''s' FROM customers
SELECT name FROM customers WHERE name = 'O''Brien'
SELECT count(email) FROM customers
SELECT email FROM customers WHERE email IS NOT NULL
SELECT substr(name, 1, 2) FROM customers
SELECT replace(name, 'A', 'a') FROM customers
SELECT trim(name) FROM customers
SELECT name || ' from ' || city FROM customers WHERE city IS NOT NULL
SELECT cast(total AS integer) FROM orders
SELECT CAST(id AS CHAR(10)) FROM customers
SELECT i.order_id, sum(i.quantity) FROM order_items i GROUP BY i.order_id HAVING sum(i.quantity) > 1
SELECT o.status, p.name, sum(i.quantity) FROM orders o JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id GROUP BY o.status, p.name
SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.city = 'Paris'
SELECT count(*) FROM customers JOIN orders USING (id)
SELECT nullif(status, 'paid') FROM orders
SELECT id FROM orders ORDER BY total DESC, id
SELECT id FROM orders WHERE total > 10 AND (status = 'paid' OR status = 'shipped')
SELECT name FROM products WHERE name NOT LIKE '%x%'

## p
SELECT date_trunc('month', ordered_at) AS month, sum(total) FROM orders GROUP BY 1 ORDER BY 1
SELECT extract(year FROM ordered_at) AS y, count(*) FROM orders GROUP BY y
SELECT to_char(ordered_at, 'YYYY-MM') AS m, sum(total) FROM orders GROUP BY m
SELECT id FROM orders WHERE ordered_at >= now() - interval '30 days'
SELECT id FROM orders WHERE ordered_at >= date '2024-01-01' AND ordered_at < date '2025-01-01'
SELECT id FROM orders WHERE ordered_at::date = current_date
SELECT age(now(), ordered_at) FROM orders
SELECT date_part('dow', ordered_at), count(*) FROM orders GROUP BY 1
SELECT name FROM customers WHERE name ILIKE 'a%'
SELECT name FROM customers WHERE name ~ '^A'
SELECT string_agg(name, ', ' ORDER BY name) FROM customers
SELECT array_agg(DISTINCT city) FROM customers
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders
SELECT count(*) FILTER (WHERE status = 'paid') AS paid, count(*) FROM orders
SELECT DISTINCT ON (customer_id) customer_id, id, total FROM orders ORDER BY customer_id, total DESC
SELECT json_build_object('name', name, 'city', city) FROM customers
SELECT id, total::numeric(10, 1) FROM orders
SELECT g FROM generate_series(1, 5) g
SELECT d::date FROM generate_series(date '2024-01-01', date '2024-01-03', interval '1 day') d
SELECT name, greatest(price, 10) FROM products
SELECT split_part(name, ' ', 1) FROM customers
SELECT lpad(id::text, 5, '0') FROM customers
SELECT initcap(name) FROM customers
SELECT position('a' IN name) FROM customers
SELECT substring(name FROM 1 FOR 3) FROM customers
SELECT name FROM customers ORDER BY name NULLS LAST
SELECT status, count(*) FROM orders GROUP BY ROLLUP (status)
SELECT id, total, ntile(2) OVER (ORDER BY total) FROM orders
SELECT * FROM orders FETCH FIRST 3 ROWS ONLY
SELECT c.name, x.total FROM customers c, LATERAL (SELECT total FROM orders o WHERE o.customer_id = c.id ORDER BY total DESC LIMIT 1) x
SELECT unnest(ARRAY[1, 2, 3])
SELECT t.* FROM (VALUES (1, 'a'), (2, 'b')) AS t(n, l)
SELECT id FROM orders WHERE total = ANY (ARRAY[10.00, 20.00])
SELECT id FROM orders WHERE ordered_at BETWEEN '2024-01-01' AND '2024-12-31'
SELECT date_trunc('quarter', ordered_at) AS q, avg(total) FROM orders GROUP BY q ORDER BY q
SELECT EXTRACT(EPOCH FROM ordered_at) FROM orders
SELECT row_to_json(p) FROM products p
SELECT jsonb_agg(name) FROM products
SELECT coalesce(sum(total), 0) FROM orders WHERE status = 'none'
SELECT width_bucket(total, 0, 100, 4), count(*) FROM orders GROUP BY 1
SELECT total::float8 / nullif(count(*) OVER (), 0) FROM orders
SELECT format('%s (%s)', name, city) FROM customers

## m
SELECT DATE_FORMAT(ordered_at, '%Y-%m') AS m, SUM(total) FROM orders GROUP BY m
SELECT YEAR(ordered_at) AS y, COUNT(*) FROM orders GROUP BY y
SELECT MONTH(ordered_at), SUM(total) FROM orders GROUP BY MONTH(ordered_at)
SELECT id FROM orders WHERE ordered_at >= NOW() - INTERVAL 30 DAY
SELECT id FROM orders WHERE ordered_at >= DATE_SUB(CURDATE(), INTERVAL 1 YEAR)
SELECT TIMESTAMPDIFF(DAY, ordered_at, NOW()) FROM orders
SELECT DATEDIFF(NOW(), ordered_at) FROM orders
SELECT GROUP_CONCAT(name ORDER BY name SEPARATOR ', ') FROM customers
SELECT IF(total > 20, 'big', 'small') FROM orders
SELECT IFNULL(city, 'n/a') FROM customers
SELECT CONCAT(name, ' - ', city) FROM customers
SELECT name FROM customers WHERE name REGEXP '^A'
SELECT `name` FROM `customers`
SELECT id, total FROM orders LIMIT 2, 3
SELECT QUARTER(ordered_at), AVG(total) FROM orders GROUP BY QUARTER(ordered_at)
SELECT DAYNAME(ordered_at), COUNT(*) FROM orders GROUP BY DAYNAME(ordered_at)
SELECT LPAD(id, 5, '0') FROM customers
SELECT FORMAT(total, 2) FROM orders
SELECT CAST(total AS DECIMAL(10, 1)) FROM orders
SELECT CAST(ordered_at AS DATE) FROM orders
SELECT STR_TO_DATE('2024-01-05', '%Y-%m-%d')
SELECT JSON_OBJECT('name', name) FROM customers
SELECT LAST_DAY(ordered_at) FROM orders
SELECT WEEK(ordered_at) FROM orders
SELECT TIMESTAMPADD(MONTH, 1, ordered_at) FROM orders
SELECT EXTRACT(YEAR FROM ordered_at) FROM orders
SELECT status, COUNT(*) FROM orders GROUP BY status WITH ROLLUP
SELECT name, price FROM products ORDER BY price DESC LIMIT 1 OFFSET 1
SELECT UNIX_TIMESTAMP(ordered_at) FROM orders
SELECT 'a\\b', 'it\'s'

## s
SELECT strftime('%Y-%m', ordered_at) AS m, sum(total) FROM orders GROUP BY m
SELECT strftime('%Y', ordered_at) AS y, count(*) FROM orders GROUP BY y
SELECT id FROM orders WHERE ordered_at >= date('now', '-30 days')
SELECT id FROM orders WHERE date(ordered_at) = date('now')
SELECT julianday('now') - julianday(ordered_at) FROM orders
SELECT group_concat(name, ', ') FROM customers
SELECT ifnull(city, 'n/a') FROM customers
SELECT iif(total > 20, 'big', 'small') FROM orders
SELECT name FROM customers WHERE name GLOB 'A*'
SELECT rowid, name FROM customers
SELECT typeof(total) FROM orders
SELECT printf('%s (%s)', name, city) FROM customers
SELECT total(total) FROM orders
SELECT name FROM customers WHERE city = "Paris"
SELECT json_object('name', name) FROM customers
SELECT value FROM json_each('[1, 2, 3]')
SELECT instr(name, 'a') FROM customers
SELECT datetime(ordered_at, '+1 day') FROM orders
SELECT CAST(strftime('%m', ordered_at) AS INTEGER) AS month, count(*) FROM orders GROUP BY month
SELECT [name] FROM [customers]

## pms
# columns named like reserved words, in a table with a masked column (derived table)
SELECT * FROM flags
SELECT f.* FROM flags f
SELECT id, note FROM flags
SELECT count(*) FROM flags f WHERE f.id > 0
