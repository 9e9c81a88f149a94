-- The demo's workload: inserts, updates of a hot set, deletes and a few pk changes,
-- over two tables with integer, unsigned, decimal, enum, text and temporal columns.
CREATE TABLE replicator_demo.customers (
  id INT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  email VARCHAR(128) NULL,
  created DATETIME(3) NOT NULL,
  balance DECIMAL(12,2) NOT NULL DEFAULT 0
);
CREATE TABLE replicator_demo.orders (
  id BIGINT UNSIGNED PRIMARY KEY,
  customer_id INT NOT NULL,
  status ENUM('new','paid','shipped','cancelled') NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  note TEXT NULL,
  placed_at TIMESTAMP(6) NOT NULL
);
INSERT INTO replicator_demo.customers
  SELECT seq, CONCAT('customer-', seq), IF(seq % 11 = 0, NULL, CONCAT('c', seq, '@example.com')),
         TIMESTAMP('2026-01-01 00:00:00.000') + INTERVAL seq MINUTE, seq * 1.25
  FROM seq_1_to_1000;
INSERT INTO replicator_demo.orders
  SELECT seq, 1 + seq % 1000, 'new', (seq % 500) + 0.99,
         IF(seq % 7 = 0, NULL, CONCAT('note ', seq, ' – ✓ café')), NOW(6)
  FROM seq_1_to_5000;
UPDATE replicator_demo.orders SET status = 'paid' WHERE id % 3 = 0;
UPDATE replicator_demo.customers SET balance = balance + 10 WHERE id <= 100;
UPDATE replicator_demo.customers SET balance = balance + 10 WHERE id <= 100;
UPDATE replicator_demo.customers SET balance = balance + 10 WHERE id <= 100;
UPDATE replicator_demo.orders SET status = 'shipped', note = CONCAT(COALESCE(note, ''), ' shipped') WHERE id % 5 = 0;
DELETE FROM replicator_demo.orders WHERE id % 10 = 0;
DELETE FROM replicator_demo.customers WHERE id > 990;
UPDATE replicator_demo.orders SET id = id + 100000 WHERE id BETWEEN 1 AND 20;
