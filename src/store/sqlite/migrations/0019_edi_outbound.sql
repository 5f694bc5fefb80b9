-- qualink:breaking=false
-- Outbound X12 interchanges and their functional acknowledgments (src/store/edi-outbound.ts):
-- one row per functional group Qualink sent a trading partner (an 861 today), keyed by partner
-- and GS06 because that is what the partner's 997 quotes back (AK102). A 997 sets ack_status
-- (accepted | partial | rejected); a row still unacknowledged past due_at_ms is overdue.
CREATE TABLE edi_outbound (
  partner TEXT NOT NULL,
  group_control TEXT NOT NULL,
  plant TEXT NOT NULL,
  connector TEXT NOT NULL,
  transaction_set TEXT NOT NULL,
  interchange_control TEXT NOT NULL,
  subject TEXT,
  file TEXT NOT NULL,
  sent_at_ms INTEGER NOT NULL,
  due_at_ms INTEGER NOT NULL,
  ack_status TEXT,
  ack_codes TEXT,
  ack_at_ms INTEGER,
  PRIMARY KEY (partner, group_control)
);
CREATE INDEX edi_outbound_unacknowledged ON edi_outbound (due_at_ms) WHERE ack_status IS NULL;
