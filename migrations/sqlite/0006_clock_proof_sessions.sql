-- Two times on sessions in milliseconds, for what whole seconds could not decide:
--
-- rotated_at_ms: when the refresh token was last rotated, by the rotating server's clock. The
-- grace window for a retry is measured from it, so a window of 0 s is off and one of 2 s ends
-- after 2,000 ms, not at the next whole second after it.
--
-- ended_ms: when the session ended, by the DATABASE's clock, written by the statement that ends
-- it. Every instance polls for ends by this time, read from the same clock, so a writer whose own
-- clock is behind (a command-line host, another instance) cannot write an end that the polls have
-- already passed. ended_at stays the ender's clock, for display.
ALTER TABLE sessions ADD COLUMN rotated_at_ms INTEGER;
UPDATE sessions SET rotated_at_ms = rotated_at * 1000 WHERE rotated_at IS NOT NULL;
ALTER TABLE sessions DROP COLUMN rotated_at;

ALTER TABLE sessions ADD COLUMN ended_ms INTEGER;
UPDATE sessions SET ended_ms = ended_at * 1000 WHERE ended_at IS NOT NULL;
DROP INDEX sessions_ended;
CREATE INDEX sessions_ended ON sessions (ended_ms) WHERE ended_ms IS NOT NULL;
