package app

import (
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// goldenLink is an access-log link as written before entries had a
// Device, with its hash as that code computed it.
var goldenLink = ChainLink{Seq: 7, Prev: make([]byte, HashSize), Entry: AccessEntry{
	ID: "01JABCDEFGHJKMNPQRSTVWXYZ0", At: time.Date(2026, 3, 4, 5, 6, 7, 890, time.UTC), StaffID: "s1", ClinicID: "k1",
	ResidentID: "r1", CaseID: "c1", Action: AccessOpenCase}}

const goldenHash = "fd6d579baeb547670bebf4e55e20f2f80d7cd365884790891eeaba6d51ecd885"

// An entry without a Device hashes and encodes as before Device existed,
// so the chains of existing databases verify unchanged.
func TestAccessEntry_NoDeviceHashesAsBefore(t *testing.T) {
	l := goldenLink
	if got := hex.EncodeToString(l.Hash()); got != goldenHash {
		t.Fatalf("hash %s, want %s", got, goldenHash)
	}
	b, err := json.Marshal(&l.Entry)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Device") {
		t.Fatalf("an entry without a device encodes one: %s", b)
	}
}

// The device an entry names is covered by the chain: changing it breaks
// the link, and two entries that differ only in it never hash alike.
func TestAccessEntry_DeviceInHash(t *testing.T) {
	a, b := goldenLink, goldenLink
	a.Entry.Device, b.Entry.Device = "d1", "d2"
	ha, hb, h0 := hex.EncodeToString(a.Hash()), hex.EncodeToString(b.Hash()), hex.EncodeToString(goldenLink.Hash())
	if ha == hb || ha == h0 {
		t.Fatalf("the device is not in the hash: %s %s %s", ha, hb, h0)
	}
	if SameEntry(&a.Entry, &b.Entry) {
		t.Fatal("entries of two devices are the same entry")
	}
	// The device's bytes cannot pose as another field's.
	c := goldenLink
	c.Entry.Action, c.Entry.Device = AccessAction(string(AccessOpenCase)+"\x00\x00\x00\x02d1"), ""
	if hex.EncodeToString(c.Hash()) == ha {
		t.Fatal("a device and an action suffix encode alike")
	}
}
