-- skiptrace system of record, schema version 2.
-- The business date a client file last sent each contact value as the consumer's current
-- one (NULL: no client file has). A client repeating the value it sent last is not news: a
-- value it still sends after skip tracing replaced it stays `previous` (src/ingest/contacts.rs).
ALTER TABLE addresses ADD COLUMN client_seen TEXT;
ALTER TABLE phones ADD COLUMN client_seen TEXT;
ALTER TABLE emails ADD COLUMN client_seen TEXT;
-- Values already on file that a client file brought in: last sent when last seen.
UPDATE addresses SET client_seen = last_seen WHERE source LIKE 'client:%';
UPDATE phones SET client_seen = last_seen WHERE source LIKE 'client:%';
UPDATE emails SET client_seen = last_seen WHERE source LIKE 'client:%';
