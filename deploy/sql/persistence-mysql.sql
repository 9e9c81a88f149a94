-- Journal and snapshot tables of Akka.Persistence.Sql (default table mapping) for MySQL 5.7+/8.x
-- and MariaDB 10.x. Replicator creates them at start when replicator.persistence.auto-initialize
-- is on; in production, create them once with this script and grant the node's user only
-- SELECT, INSERT, UPDATE, DELETE on them.
CREATE TABLE IF NOT EXISTS journal (
  ordering        BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  created         BIGINT       NOT NULL,
  deleted         BOOLEAN      NOT NULL,
  persistence_id  VARCHAR(255) NOT NULL,
  sequence_number BIGINT       NOT NULL,
  message         LONGBLOB     NOT NULL,
  manifest        VARCHAR(500) NULL,
  identifier      INT          NULL,
  writer_uuid     VARCHAR(128) NULL,
  UNIQUE KEY journal_uq (persistence_id, sequence_number),
  KEY journal_created_idx (created),
  KEY journal_sequence_number_idx (sequence_number)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS tags (
  ordering_id    BIGINT       NOT NULL,
  tag            VARCHAR(64)  NOT NULL,
  sequence_nr    BIGINT       NOT NULL,
  persistence_id VARCHAR(255) NOT NULL,
  PRIMARY KEY (ordering_id, tag),
  KEY tags_persistence_id_sequence_nr_idx (persistence_id, sequence_nr),
  KEY tags_tag_idx (tag)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS snapshot (
  persistence_id  VARCHAR(255) NOT NULL,
  sequence_number BIGINT       NOT NULL,
  created         BIGINT       NOT NULL,
  snapshot        LONGBLOB     NULL,
  manifest        VARCHAR(500) NULL,
  serializer_id   INT          NULL,
  PRIMARY KEY (persistence_id, sequence_number),
  KEY snapshot_sequence_number_idx (sequence_number),
  KEY snapshot_created_idx (created)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
