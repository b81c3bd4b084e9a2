package storage

// The bbolt schema. Every value goes through the codec (codec.go) inside an
// envelope; no key contains a personnummer, a name or message text — keys
// are record ids (time-ordered, see app.NewID), fixed codes, timestamps, or
// a keyed hash of a personnummer.
//
//	meta                      raw values, never through the codec (except
//	                          pnrkey and accesslog_key of an encrypted database)
//	  version                 uint64 big-endian: schema version (len(migrations))
//	  created                 RFC 3339 time the database was made
//	  pnrkey                  32 random bytes: HMAC key for personnummer index keys
//	  demo                    "1" when the database holds the demo data set
//	residents                 <residentID>                  → env(app.Resident)
//	resident_pnr              <hmac(pnrkey, pnr)[:16]>      → residentID
//	clinics                   <clinicID>                    → env(app.Clinic)
//	staff                     <staffID>                     → env(app.Staff)
//	templates                 <templateID>                  → env(app.MessageTemplate)
//	eservices                 <eserviceID>                  → env(app.EService)
//	case_items                <caseID> 0                    → env(app.Case) (header; v3)
//	                          <caseID> 'm' <messageID>      → env(app.Message)
//	                          <caseID> 'n' <noteID>         → env(app.Note)
//	idx_case_status           <clinicID> 0 <status> 0 <ts> <caseID>     → empty
//	idx_case_assignee (v2)    <clinicID> 0 <assigneeID> 0 <ts> <caseID> → empty
//	idx_resident_case         <residentID> <caseID>         → empty
//	attachments (v4)          <caseID> 0 <attachmentID>     → raw(bytes) (v11; up to
//	                          v10 <attachmentID>)
//	credentials (v4)          <staffID>                     → env(app.Credential)
//	accesslog (v1–v6)         <entryID>                     → env(app.AccessEntry)
//	idx_accesslog_clinic (v1–v6) <clinicID> 0 <entryID>     → empty
//	access_chain (v7)         <seq uint64>                  → env(app.ChainLink)
//	idx_access_clinic (v7)    <clinicID> 0 <entryID>        → <seq uint64>
//	access_checkpoints (v7)   <seq uint64>                  → env(app.Checkpoint)
//	meta/accesslog_head (v7)  <seq uint64> <sha256>: the chain's last link (raw)
//	meta/accesslog_pub (v7)   Ed25519 public key of the checkpoints (raw)
//	meta/accesslog_key (v7)   its Ed25519 seed (sealed when encrypted)
//	meta/cipher, meta/datakey/<staffID>
//	                          an encrypted database (crypt.go): the cipher and
//	                          the data key wrapped per staff member
//	outbox (v5)               <notificationID>              → env(app.Notification)
//	idx_outbox_due (v5)       <channel> 0 <ts> <notificationID>  → empty (queued rows only)
//	idx_outbox_case (v5)      <caseID> 0 <notificationID>   → empty
//	form_series (v8)          <eserviceID>                  → env(form.Series) (form versions)
//	pending_ops (v6)          <seq uint64>                  → env(app.SyncOp) (connected desktop)
//	meta/sync_device (v6)     the device id of a connected desktop (raw)
//	changes (v9)              <seq uint64> → <kind> <clinicID> 0 <recordID> (raw;
//	                          server: the change feed, one entry per record)
//	change_keys (v9)          <kind> <recordID>             → <seq uint64> (raw)
//	applied_ops (v9)          <opID>                        → env(app.OpResult) (server)
//	sync_results (v9)         <opID>                        → env(app.SyncProblem) (desktop:
//	                          rejected ops and conflicts, for the visible outbox;
//	                          the op's wire form plus By, its maker, as in pending_ops)
//	sync_state (v9)           "refresh"                     → env(string) (desktop's token)
//	meta/changefeed (v9)      "1": this database is the server's (raw)
//	meta/sync_cursor (v9)     the desktop's pull cursor (raw), while no owner is known
//	meta/sync_staff           the staff member the desktop syncs as: the refresh token's owner (raw)
//	meta/sync_cursor/<staffID> that staff member's pull cursor (raw; syncreplica.go)
//	meta/sync_server, meta/sync_pin (v9)
//	                          the server's URL and certificate fingerprint (raw;
//	                          a URL with no pin: the certificate is verified by
//	                          the system's trusted CAs)
//	meta/sync_next_pin        the server's signed announcement of its next
//	                          certificate (JSON of sync.NextPin, raw; no migration:
//	                          an older binary ignores it)
//	attachment_chunks (v10)   <caseID> 0 <attachmentID> 0 <n uint32> → raw(bytes of chunk n)
//	                          <caseID> 0 <attachmentID> 0 't' → raw(ms of the first chunk)
//	                          (server: uploaded ahead of the attachment.put op;
//	                          desktop: a download in progress; attachsync.go;
//	                          up to v10 without <caseID> 0)
//	attachment_fetch (v10)    <caseID> 0 <attachmentID>     → env(app.AttachmentRef)
//	                          (desktop: pulled attachments whose bytes it lacks;
//	                          up to v10 <attachmentID>)
//	attachment_owner (v11)    <attachmentID>                → <caseID> (raw; not on a
//	                          connected desktop: the case an attachment id belongs to)
//	meta/attachments_by_case (v11) "1": a sealed database that migration 11
//	                          found locked; its first Unlock moves the attachments
//	pull_logged               <device> 0 <caseID>           → <case version uint64> (raw;
//	                          server, made at its first write: which case version
//	                          was recorded in the access log as sent to which
//	                          device, accesslog.go RecordPulled)
//
// A notification id is <messageID>.<recipientID>.<channel> (ids and a
// fixed code: no address in any key). In idx_outbox_due <ts> is the next
// attempt, so the dispatcher's "what is due on this channel" is one
// forward cursor walk that stops at the first row not yet due; a sent or
// failed row leaves the index and costs the walk nothing.
//
// <ts> is the case's last activity as 8 bytes big-endian Unix milliseconds,
// so a reverse cursor walk over one clinic prefix gives "newest activity
// first" without reading any case that is not on the page.
//
// Version history (each a migration below; a checked-in database of every
// version lives in testdata/ and is opened and upgraded by the tests):
//
//	1  the buckets above except idx_case_assignee
//	2  idx_case_assignee, back-filled from cases (Mina ärenden without a scan)
//	3  case headers move from bucket cases into case_items under <caseID> 0,
//	   beside their messages, and idx_case_activity is dropped (the
//	   unfiltered list merges the clinic's four status ranges instead): a new
//	   case writes two trees fewer per fsync'd commit (BenchmarkSaveCase*)
//	4  attachments (bytes of message attachments, written in the message's
//	   transaction) and credentials (staff password verifiers for sign-in)
//	5  outbox, idx_outbox_due and idx_outbox_case: the durable outbox of
//	   notifications, written in the transaction of the message they announce
//	6  pending_ops: a connected desktop's queue of changes for the server
//	7  the access log becomes a hash chain with signed checkpoints
//	   (accesslog.go): entries move from accesslog to access_chain in
//	   entry-id order, idx_accesslog_clinic becomes idx_access_clinic, and
//	   meta gains the chain's head and its Ed25519 key pair
//	8  form_series: the versions of each e-service's form (drafts, published)
//	9  sync (syncfeed.go, syncreplica.go): the server's change feed and op
//	   memory, a desktop's results of rejected ops and its token
//	10 attachments in chunks (attachsync.go): staged chunks of uploads and
//	   downloads, and a desktop's list of attachments to fetch
//	11 attachments by case (attachsync.go, issue 13): bytes, staged chunks
//	   and fetch entries move under <caseID> 0, the case being the one whose
//	   messages describe the id (bytes several cases describe go to the one
//	   whose description matches them, or stay unreachable under the old
//	   key), re-sealed under the new keys; attachment_owner is filled. A
//	   sealed database is marked and moved at its first Unlock (its
//	   descriptions are sealed)
//
// Encryption (crypt.go) is not a schema version: a database of version 7
// or later is plain or sealed, as meta/cipher says, and the same layout.

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"mottagning/app"
)

var (
	bMeta          = []byte("meta")
	bResidents     = []byte("residents")
	bResidentPNR   = []byte("resident_pnr")
	bClinics       = []byte("clinics")
	bStaff         = []byte("staff")
	bTemplates     = []byte("templates")
	bEServices     = []byte("eservices")
	bCases         = []byte("cases") // up to v2; see migrate3
	bCaseItems     = []byte("case_items")
	bIdxActivity   = []byte("idx_case_activity") // up to v2; see migrate3
	bIdxStatus     = []byte("idx_case_status")
	bIdxAssignee   = []byte("idx_case_assignee")
	bIdxResident   = []byte("idx_resident_case")
	bAccessLog     = []byte("accesslog")
	bIdxAccessLog  = []byte("idx_accesslog_clinic")
	bAttachments   = []byte("attachments")
	bCredentials   = []byte("credentials")
	bOutbox        = []byte("outbox")
	bIdxOutboxDue  = []byte("idx_outbox_due")
	bIdxOutboxCase = []byte("idx_outbox_case")

	kVersion = []byte("version")
	kCreated = []byte("created")
	kPNRKey  = []byte("pnrkey")
	kDemo    = []byte("demo")
)

// migration moves the database up one schema version, inside the single
// write transaction that also stores the new version number.
type migration struct {
	name string
	up   func(tx *bolt.Tx, codec Codec) error
}

// migrations is the ordered schema history; never edit a released entry,
// append a new one.
var migrations = []migration{
	{"create buckets", migrate1},
	{"index cases by assignee", migrate2},
	{"case headers beside their items, no activity index", migrate3},
	{"attachments and credentials", migrate4},
	{"notification outbox", migrate5},
	{"pending sync operations", migrate6},
	{"hash-chained access log", migrate7},
	{"e-service form versions", migrate8},
	{"sync: change feed, op memory, sync results", migrate9},
	{"attachments in chunks", migrate10},
	{"attachments by case", migrate11},
}

// SchemaVersion is the schema version this binary writes.
var SchemaVersion = uint64(len(migrations))

func migrate1(tx *bolt.Tx, _ Codec) error {
	for _, b := range [][]byte{bResidents, bResidentPNR, bClinics, bStaff, bTemplates, bEServices,
		bCases, bCaseItems, bIdxActivity, bIdxStatus, bIdxResident, bAccessLog, bIdxAccessLog} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	meta := tx.Bucket(bMeta)
	if meta.Get(kPNRKey) == nil {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("make index key: %w", err)
		}
		if err := meta.Put(kPNRKey, key); err != nil {
			return err
		}
	}
	if meta.Get(kCreated) == nil {
		if err := meta.Put(kCreated, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return err
		}
	}
	return nil
}

func migrate2(tx *bolt.Tx, codec Codec) error {
	idx, err := tx.CreateBucketIfNotExists(bIdxAssignee)
	if err != nil {
		return err
	}
	return tx.Bucket(bCases).ForEach(func(k, v []byte) error {
		var c app.Case
		if err := decode(codec, bCases, k, v, &c); err != nil {
			return err
		}
		if c.AssigneeID == "" {
			return nil
		}
		return idx.Put(assigneeKey(string(c.ClinicID), string(c.AssigneeID), c.LastActivity, string(c.ID)), nil)
	})
}

// migrate3 moves every header from cases to case_items under headerKey,
// re-sealed (the codec binds each value to its bucket and key), then
// drops bucket cases and the activity index.
func migrate3(tx *bolt.Tx, codec Codec) error {
	items := tx.Bucket(bCaseItems)
	err := tx.Bucket(bCases).ForEach(func(k, v []byte) error {
		var c app.Case
		if err := decode(codec, bCases, k, v, &c); err != nil {
			return err
		}
		hk := headerKey(app.ID(k))
		data, err := encode(codec, bCaseItems, hk, &c)
		if err != nil {
			return err
		}
		return items.Put(hk, data)
	})
	if err != nil {
		return err
	}
	if err := tx.DeleteBucket(bCases); err != nil {
		return err
	}
	return tx.DeleteBucket(bIdxActivity)
}

func migrate4(tx *bolt.Tx, _ Codec) error {
	for _, b := range [][]byte{bAttachments, bCredentials} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

// migrate5 adds the outbox. Existing messages get no notifications: they
// were delivered before this version, when nobody was notified.
func migrate5(tx *bolt.Tx, _ Codec) error {
	for _, b := range [][]byte{bOutbox, bIdxOutboxDue, bIdxOutboxCase} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	return nil
}

func readVersion(tx *bolt.Tx) uint64 {
	meta := tx.Bucket(bMeta)
	if meta == nil {
		return 0
	}
	v := meta.Get(kVersion)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func writeVersion(tx *bolt.Tx, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return tx.Bucket(bMeta).Put(kVersion, b[:])
}

// migrate runs the migrations from version from up to version to, and
// records the new version, all in tx: either the whole upgrade lands or none of it.
func migrate(tx *bolt.Tx, codec Codec, from, to uint64) error {
	if _, err := tx.CreateBucketIfNotExists(bMeta); err != nil {
		return err
	}
	for i := from; i < to; i++ {
		if err := migrations[i].up(tx, codec); err != nil {
			return fmt.Errorf("migration %d (%s): %w", i+1, migrations[i].name, err)
		}
	}
	return writeVersion(tx, to)
}
