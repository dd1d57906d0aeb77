-- The pacing controller's reason as data, beside its words: the web UI says it in
-- the user's language. JSON such as {"kind":"cpu_high","percent":91.2,"threshold":85};
-- NULL for changes logged before this version.
ALTER TABLE pacing_log ADD COLUMN reason_detail TEXT;
