package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"mottagning/app"
	msync "mottagning/sync"
)

// The chunk API of attachments in sync (docs/sync.md, Attachments): a
// desktop uploads an attachment's bytes in chunks before pushing its
// attachment.put op, and downloads the bytes of other desktops'
// attachments; each chunk carries its SHA-256 in msync.ChunkDigestHeader.

var _ msync.AttachmentRemote = (*Client)(nil)

func chunksPath(attID app.ID) string {
	return "/api/sync/attachments/" + esc(string(attID)) + "/chunks"
}

func caseQuery(caseID app.ID) string { return "?case=" + url.QueryEscape(string(caseID)) }

// AttachmentChunks asks which chunks of attachment attID (on a message of
// case caseID) the server has.
func (c *Client) AttachmentChunks(ctx context.Context, token string, caseID, attID app.ID) (*msync.ChunkStatus, error) {
	var out msync.ChunkStatus
	return &out, c.Do(ctx, http.MethodGet, chunksPath(attID)+caseQuery(caseID), token, nil, &out)
}

// PutAttachmentChunk uploads chunk n of attachment attID with its SHA-256.
func (c *Client) PutAttachmentChunk(ctx context.Context, token string, caseID, attID app.ID, n int, data []byte) (*msync.ChunkStatus, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	h.Set(msync.ChunkDigestHeader, digest(data))
	_, body, err := c.doBytes(ctx, http.MethodPut, chunksPath(attID)+"/"+strconv.Itoa(n)+caseQuery(caseID), token, h, data)
	if err != nil {
		return nil, err
	}
	var out msync.ChunkStatus
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("client: PUT chunk %d of attachment %s: decode answer: %w", n, attID, err)
	}
	return &out, nil
}

// AttachmentChunk downloads chunk n of attachment attID and returns it
// with the digest the server sent (the caller checks the two agree).
func (c *Client) AttachmentChunk(ctx context.Context, token string, caseID, attID app.ID, n int) ([]byte, string, error) {
	h := http.Header{}
	h.Set("Accept", "application/octet-stream")
	rh, body, err := c.doBytes(ctx, http.MethodGet, chunksPath(attID)+"/"+strconv.Itoa(n)+caseQuery(caseID), token, h, nil)
	if err != nil {
		return nil, "", err
	}
	return body, strings.ToLower(rh.Get(msync.ChunkDigestHeader)), nil
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// doBytes is do for a body and an answer that are bytes, not JSON; an
// error answer (JSON) is returned as *Error.
func (c *Client) doBytes(ctx context.Context, method, path, token string, h http.Header, body []byte) (http.Header, []byte, error) {
	u := *c.base
	p, q, _ := strings.Cut(path, "?")
	u.Path = c.base.Path + p
	u.RawQuery = q
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %s %s: %w", method, p, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, app.AttachmentChunkSize+64<<10))
	if err != nil {
		return nil, nil, fmt.Errorf("client: %s %s: read answer: %w", method, p, err)
	}
	if resp.StatusCode >= 300 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code = "http_" + strconv.Itoa(resp.StatusCode)
		}
		return nil, nil, e
	}
	return resp.Header, data, nil
}
