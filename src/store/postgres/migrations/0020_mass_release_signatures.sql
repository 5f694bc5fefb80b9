-- qualink:breaking=false
-- Mass release (issue 10): a selection of lots is a record that can be signed ('mass-release').
-- ALTER TABLE fires no row trigger, so the append-only triggers of 0007 stay as they are.
ALTER TABLE signatures DROP CONSTRAINT signatures_record_kind_check;
ALTER TABLE signatures ADD CONSTRAINT signatures_record_kind_check
  CHECK (record_kind IN ('dead-letter', 'run', 'bulk-replay', 'mass-release'));
