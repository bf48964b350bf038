-- Fully expired sessions are deleted every minute (`DELETE FROM sessions WHERE current_exp < $1`).
-- Without an index that is a scan of the whole table through the single writer, which grows with
-- every login kept for the refresh lifetime; with it, a range at the low end of the index. New
-- sessions and rotations add their expiry near the high end, so the index costs each batch of
-- them a page or two.
CREATE INDEX sessions_expiry ON sessions (current_exp);
