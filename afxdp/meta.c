/* SPDX-License-Identifier: BSD-2-Clause */
/* The per-frame metadata of xdp/ca_shared.h -> a writer record. */
#include "afxdp/internal.h"
#include "xdp/ca_shared.h"

/* The XDP program wrote a struct ca_meta right in front of the frame. */
bool xsk_meta_frame(const void *data, uint32_t len, struct wr_rec *r)
{
	struct ca_meta m;

	__builtin_memcpy(&m, (const uint8_t *)data - sizeof(m), sizeof(m));
	if (!m.cap_len || m.cap_len > len || m.wire_len < m.cap_len)
		return false;
	r->ts_ns = m.ts_ns;
	r->wire_len = m.wire_len;
	r->cap_len = m.cap_len;
	r->data = data;
	r->dir = 1; /* AF_XDP frames come from XDP: inbound */
	return true;
}

/* A ring-buffer record: struct ca_rb_hdr, then cap_len bytes. */
bool xsk_meta_record(const void *rec, size_t size, struct wr_rec *r)
{
	struct ca_rb_hdr h;

	if (size < sizeof(h))
		return false;
	__builtin_memcpy(&h, rec, sizeof(h));
	if (!h.cap_len || h.cap_len > size - sizeof(h) || h.wire_len < h.cap_len)
		return false;
	r->ts_ns = h.ts_ns;
	r->wire_len = h.wire_len;
	r->cap_len = h.cap_len;
	r->data = (const uint8_t *)rec + sizeof(h);
	r->dir = h.dir == CA_DIR_EGRESS ? 2 : 1; /* pcapng's outbound / inbound */
	return true;
}
