-- Mottagning's central server on PostgreSQL, schema 1.
--
-- Every personal value (resident, case header, message, note, attachment,
-- notification, access-log entry, credential) is stored sealed in a
-- "data" column: XChaCha20-Poly1305 under the data key, bound to its table
-- and key (storage.Sealer), the data key wrapped under the server key in
-- meta. The clear columns beside it are ids, clinic ids, statuses, times
-- and a keyed hash of the personnummer: what the indexes need, nothing
-- that names a person. Ids compare bytewise (COLLATE "C"), as in bbolt.

CREATE TABLE meta (
	key   text COLLATE "C" PRIMARY KEY,
	value bytea NOT NULL
);

CREATE TABLE residents (
	id       text COLLATE "C" PRIMARY KEY,
	-- HMAC-SHA-256 (first 16 bytes) of the personnummer under a random
	-- key kept sealed in meta; NULL for a resident without a number.
	pnr_hash bytea UNIQUE,
	data     bytea NOT NULL
);

CREATE TABLE clinics (
	id   text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);

CREATE TABLE staff (
	id   text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);

CREATE TABLE templates (
	id        text COLLATE "C" PRIMARY KEY,
	clinic_id text COLLATE "C" NOT NULL,
	data      bytea NOT NULL
);
CREATE INDEX templates_clinic ON templates (clinic_id);

CREATE TABLE eservices (
	id        text COLLATE "C" PRIMARY KEY,
	clinic_id text COLLATE "C" NOT NULL,
	data      bytea NOT NULL
);
CREATE INDEX eservices_clinic ON eservices (clinic_id);

CREATE TABLE credentials (
	staff_id text COLLATE "C" PRIMARY KEY,
	data     bytea NOT NULL
);

CREATE TABLE form_series (
	form_id text COLLATE "C" PRIMARY KEY,
	data    bytea NOT NULL
);

-- Case headers, with the fields the lists need in the clear. activity is
-- the last activity in Unix milliseconds; the lists walk newest first.
CREATE TABLE cases (
	id          text COLLATE "C" PRIMARY KEY,
	clinic_id   text COLLATE "C" NOT NULL,
	resident_id text COLLATE "C" NOT NULL,
	status      text COLLATE "C" NOT NULL,
	assignee_id text COLLATE "C" NOT NULL DEFAULT '',
	activity    bigint NOT NULL,
	data        bytea NOT NULL
);
CREATE INDEX cases_clinic_status ON cases (clinic_id, status, activity, id);
CREATE INDEX cases_clinic_assignee ON cases (clinic_id, assignee_id, activity, id) WHERE assignee_id <> '';
CREATE INDEX cases_resident ON cases (resident_id, id);
CREATE INDEX cases_clinic ON cases (clinic_id, activity, id);

-- Messages (kind 'm') and notes ('n') of a case, in id (time) order.
CREATE TABLE case_items (
	case_id text COLLATE "C" NOT NULL REFERENCES cases (id),
	kind    text COLLATE "C" NOT NULL CHECK (kind IN ('m', 'n')),
	id      text COLLATE "C" NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (case_id, kind, id)
);

-- The bytes of attachments, under their case; attachment_owner gives
-- each attachment id to one case only.
CREATE TABLE attachments (
	case_id text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (case_id, id)
);
CREATE TABLE attachment_owner (
	id      text COLLATE "C" PRIMARY KEY,
	case_id text COLLATE "C" NOT NULL
);

-- The notification outbox: due (channel, next attempt) for the queued,
-- so the dispatcher's claim walks an index.
CREATE TABLE notifications (
	id           text COLLATE "C" PRIMARY KEY,
	case_id      text COLLATE "C" NOT NULL,
	channel      text COLLATE "C" NOT NULL,
	queued       boolean NOT NULL,
	next_attempt bigint NOT NULL,
	data         bytea NOT NULL
);
CREATE INDEX notifications_due ON notifications (channel, next_attempt, id) WHERE queued;
CREATE INDEX notifications_case ON notifications (case_id, id);

-- The access log as a hash chain (app/accesslog.go): links by position,
-- the head in one row that every append locks (so positions follow
-- commit order across nodes), signed checkpoints.
CREATE TABLE access_chain (
	seq       bigint PRIMARY KEY,
	clinic_id text COLLATE "C" NOT NULL,
	entry_id  text COLLATE "C" NOT NULL,
	at        bigint NOT NULL,
	data      bytea NOT NULL,
	UNIQUE (clinic_id, entry_id)
);
CREATE TABLE access_head (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq  bigint NOT NULL,
	hash bytea NOT NULL
);
CREATE TABLE access_checkpoints (
	seq  bigint PRIMARY KEY,
	data bytea NOT NULL
);

-- The change feed desktops pull: each record once, at the position of
-- its latest change. feed_head is the single-writer lock: a transaction
-- takes its positions from it just before it commits, holding the row
-- lock until then, so positions are in commit order (docs/architecture.md).
CREATE TABLE changes (
	seq       bigint PRIMARY KEY,
	kind      text COLLATE "C" NOT NULL,
	clinic_id text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	UNIQUE (kind, id)
);
CREATE TABLE feed_head (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	seq bigint NOT NULL
);
INSERT INTO feed_head (seq) VALUES (0);

-- The op memory: the result of every sync op applied, by op id.
CREATE TABLE applied_ops (
	id   text COLLATE "C" PRIMARY KEY,
	at   bigint NOT NULL,
	data bytea NOT NULL
);
CREATE INDEX applied_ops_at ON applied_ops (at);

-- Chunks of attachments desktops upload ahead of their op.
CREATE TABLE staged_chunks (
	case_id   text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	n         integer NOT NULL,
	size      bigint NOT NULL,
	sum       text COLLATE "C" NOT NULL,
	staged_at bigint NOT NULL,
	data      bytea NOT NULL,
	PRIMARY KEY (case_id, id, n)
);

-- What the access log recorded as sent to which device: the case version.
CREATE TABLE pull_logged (
	holder  text COLLATE "C" NOT NULL,
	case_id text COLLATE "C" NOT NULL,
	version bigint NOT NULL,
	PRIMARY KEY (holder, case_id)
);

-- The guardian → children index (ids only), kept with every resident
-- written: the register's guardianships of each child.
CREATE TABLE guardianships (
	guardian_id text COLLATE "C" NOT NULL,
	child_id    text COLLATE "C" NOT NULL,
	PRIMARY KEY (guardian_id, child_id)
);
CREATE INDEX guardianships_child ON guardianships (child_id);

-- Resident sessions by the SHA-256 of their token, shared by the nodes.
CREATE TABLE resident_sessions (
	key         bytea PRIMARY KEY,
	resident_id text COLLATE "C" NOT NULL,
	expires     bigint NOT NULL
);
CREATE INDEX resident_sessions_resident ON resident_sessions (resident_id);
CREATE INDEX resident_sessions_expires ON resident_sessions (expires);

-- Token buckets of the per-address limits, shared by the nodes.
CREATE TABLE rate_limits (
	scope  text COLLATE "C" NOT NULL,
	key    text COLLATE "C" NOT NULL,
	tokens double precision NOT NULL,
	at     bigint NOT NULL,
	PRIMARY KEY (scope, key)
);

-- The staff accounts, devices and sessions (server/staffauth): its
-- buckets of records, sealed like every other value.
CREATE TABLE auth_kv (
	bucket text COLLATE "C" NOT NULL,
	key    bytea NOT NULL,
	value  bytea NOT NULL,
	PRIMARY KEY (bucket, key)
);
